"""`DensePoseROIHeads`: key layout of every chart config, output shapes,
inference path behaviour."""

from pathlib import Path

import pytest
import torch
from detectron2.modeling import build_roi_heads
from detectron2.structures import Instances
from fixture_paths import state_dict_keys_file
from model_utils import (
    chart_config_paths,
    given_boxes,
    random_features,
    roi_input_shape,
    small_chart_config,
)

from densepose_ext.modeling import DensePoseROIHeads
from densepose_ext.modeling.decoder import Decoder
from densepose_ext.structures import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
)

CHART_CONFIGS = chart_config_paths()
IMAGE_HW = (96, 128)


def _read_key_dump(path: Path):
    entries = []
    for line in path.read_text().splitlines():
        key, shape = line.split(" ", 1)
        entries.append((key, [int(v) for v in shape.strip("[]").split(",") if v.strip()]))
    return entries


def test_chart_configs_found():
    assert len(CHART_CONFIGS) >= 30  # 22 main + HRNet + evolution + quick schedules


@pytest.mark.parametrize("config", CHART_CONFIGS)
def test_roi_heads_keys_and_output_shapes(config):
    from model_utils import load_config

    cfg = load_config(config)
    dump = state_dict_keys_file(config.replace(".yaml", ".txt"))
    assert dump.is_file(), f"no key dump for {config}"
    with torch.device("meta"):  # shapes only: no memory, no init cost
        roi_heads = build_roi_heads(cfg, roi_input_shape(cfg))
    assert isinstance(roi_heads, DensePoseROIHeads)
    ours = [(f"roi_heads.{k}", list(v.shape)) for k, v in roi_heads.state_dict().items()]
    assert ours == _read_key_dump(dump)
    # predictor outputs: K coarse / 25 fine,u,v channels at HEATMAP_SIZE
    head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
    r = head_cfg.POOLER_RESOLUTION
    pooled = torch.empty(2, 256, r, r, device="meta")
    out = roi_heads.densepose_predictor(roi_heads.densepose_head(pooled))
    assert isinstance(out, DensePoseChartPredictorOutputWithConfidences)
    s = head_cfg.HEATMAP_SIZE
    assert out.coarse_segm.shape == (2, head_cfg.NUM_COARSE_SEGM_CHANNELS, s, s)
    for name in ("fine_segm", "u", "v"):
        assert getattr(out, name).shape == (2, 25, s, s)
    assert out.sigma_1 is None
    expected_conf = {
        "sigma_2": head_cfg.UV_CONFIDENCE.ENABLED,
        "kappa_u": head_cfg.UV_CONFIDENCE.ENABLED and head_cfg.UV_CONFIDENCE.TYPE == "indep_aniso",
        "fine_segm_confidence": head_cfg.SEGM_CONFIDENCE.ENABLED,
    }
    for name, present in expected_conf.items():
        assert (getattr(out, name) is not None) == present, name


def test_s1x_and_legacy_shapes_in_spec():
    from model_utils import load_config

    for config, k, s in [
        ("densepose_rcnn_R_50_FPN_s1x.yaml", 2, 112),
        ("densepose_rcnn_R_50_FPN_s1x_legacy.yaml", 15, 56),
    ]:
        cfg = load_config(config)
        assert cfg.MODEL.ROI_DENSEPOSE_HEAD.HEATMAP_SIZE == s
        assert cfg.MODEL.ROI_DENSEPOSE_HEAD.NUM_COARSE_SEGM_CHANNELS == k


def _small_heads(**overrides):
    cfg = small_chart_config(**overrides)
    shape = roi_input_shape(cfg, channels=32)
    torch.manual_seed(0)
    return build_roi_heads(cfg, shape).eval(), shape


def _run(roi_heads, features, instances):
    with torch.no_grad():
        return roi_heads.forward_with_given_boxes(features, instances)


def test_inference_splits_outputs_per_image():
    roi_heads, shape = _small_heads()
    features = random_features(shape, IMAGE_HW, batch=2)
    instances = [
        given_boxes(IMAGE_HW, [[4, 5, 60, 90], [50, 0, 128, 40]]),
        given_boxes(IMAGE_HW, [[10, 10, 30, 50]]),
    ]
    out = _run(roi_heads, features, instances)
    assert [len(x.pred_densepose) for x in out] == [2, 1]
    assert out[0].pred_densepose.coarse_segm.shape == (2, 2, 112, 112)
    # each image's slice equals running that image alone
    alone = _run(
        roi_heads,
        {k: v[1:] for k, v in features.items()},
        [given_boxes(IMAGE_HW, [[10, 10, 30, 50]])],
    )
    torch.testing.assert_close(alone[0].pred_densepose.fine_segm, out[1].pred_densepose.fine_segm)
    cat = Instances.cat([out[0], out[1]])
    assert (
        isinstance(cat.pred_densepose, DensePoseChartPredictorOutput)
        and len(cat.pred_densepose) == 3
    )
    torch.testing.assert_close(cat.pred_densepose.u[2:], out[1].pred_densepose.u)


def test_no_boxes_adds_no_field():
    roi_heads, shape = _small_heads()
    out = _run(roi_heads, random_features(shape, IMAGE_HW), [given_boxes(IMAGE_HW, [])])
    assert len(out[0]) == 0 and not out[0].has("pred_densepose")


def test_densepose_off_at_runtime():
    roi_heads, shape = _small_heads()
    roi_heads.densepose_on = False  # what TTA does while detecting boxes
    out = _run(
        roi_heads, random_features(shape, IMAGE_HW), [given_boxes(IMAGE_HW, [[0, 0, 50, 50]])]
    )
    assert not out[0].has("pred_densepose")


def test_cpu_determinism():
    roi_heads, shape = _small_heads()
    features = random_features(shape, IMAGE_HW)
    a = _run(roi_heads, features, [given_boxes(IMAGE_HW, [[4, 5, 60, 90]])])[0].pred_densepose
    b = _run(roi_heads, features, [given_boxes(IMAGE_HW, [[4, 5, 60, 90]])])[0].pred_densepose
    for name, value in a.fields().items():
        assert torch.equal(value, getattr(b, name)), name


def test_channels_last_and_bf16_autocast():
    roi_heads, shape = _small_heads(
        **{"UV_CONFIDENCE.ENABLED": True, "SEGM_CONFIDENCE.ENABLED": True}
    )
    features = random_features(shape, IMAGE_HW)
    boxes = [[4, 5, 60, 90], [50, 0, 128, 40]]
    ref = _run(roi_heads, features, [given_boxes(IMAGE_HW, boxes)])[0].pred_densepose
    roi_heads_cl = roi_heads.to(memory_format=torch.channels_last)
    features_cl = {k: v.contiguous(memory_format=torch.channels_last) for k, v in features.items()}
    cl = _run(roi_heads_cl, features_cl, [given_boxes(IMAGE_HW, boxes)])[0].pred_densepose
    for name, value in ref.fields().items():
        torch.testing.assert_close(getattr(cl, name), value, rtol=1e-4, atol=1e-4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = _run(roi_heads, features, [given_boxes(IMAGE_HW, boxes)])[0].pred_densepose
    assert low.coarse_segm.shape == ref.coarse_segm.shape
    for name, value in low.fields().items():
        assert torch.isfinite(value.float()).all(), name


def test_cse_predictor_output_is_split_too():
    roi_heads, shape = _small_heads(PREDICTOR_NAME="DensePoseEmbeddingPredictor")
    features = random_features(shape, IMAGE_HW, batch=2)
    instances = [
        given_boxes(IMAGE_HW, [[4, 5, 60, 90]]),
        given_boxes(IMAGE_HW, [[1, 2, 40, 40], [9, 9, 99, 90]]),
    ]
    out = _run(roi_heads, features, instances)
    assert isinstance(out[1].pred_densepose, DensePoseEmbeddingPredictorOutput)
    assert out[1].pred_densepose.embedding.shape == (2, 16, 112, 112)


def test_decoder_branch_layout():
    roi_heads, _ = _small_heads()
    decoder = roi_heads.decoder
    assert isinstance(decoder, Decoder)
    # p2: conv; p3: conv+up; p4: 2x(conv+up); p5: 3x(conv+up)
    assert [len(getattr(decoder, f)) for f in ("p2", "p3", "p4", "p5")] == [1, 2, 4, 6]
    features = [torch.randn(1, 32, 96 // s, 128 // s) for s in (4, 8, 16, 32)]
    assert decoder(features).shape == (1, 32, 24, 32)


def test_deeplab_nonlocal_block_keys_and_forward():
    from model_utils import load_config

    from densepose_ext.modeling.heads import DensePoseDeepLabHead

    cfg = load_config("densepose_rcnn_R_50_FPN_DL_s1x.yaml")
    cfg.MODEL.ROI_DENSEPOSE_HEAD.DEEPLAB.NONLOCAL_ON = 1
    with torch.device("meta"):
        head = DensePoseDeepLabHead(cfg, 256)
    nl = [(k, list(v.shape)) for k, v in head.state_dict().items() if k.startswith("NLBlock.")]
    assert nl == [
        ("NLBlock.g.0.weight", [128, 256, 1, 1]),
        ("NLBlock.g.0.bias", [128]),
        ("NLBlock.W.0.weight", [256, 128, 1, 1]),
        ("NLBlock.W.0.bias", [256]),
        ("NLBlock.W.1.weight", [256]),
        ("NLBlock.W.1.bias", [256]),
        ("NLBlock.theta.weight", [128, 256, 1, 1]),
        ("NLBlock.theta.bias", [128]),
        ("NLBlock.phi.0.weight", [128, 256, 1, 1]),
        ("NLBlock.phi.0.bias", [128]),
    ]
    cfg.MODEL.ROI_DENSEPOSE_HEAD.CONV_HEAD_DIM = 32
    cfg.MODEL.ROI_DENSEPOSE_HEAD.NUM_STACKED_CONVS = 1
    small = DensePoseDeepLabHead(cfg, 64).eval()
    x = torch.randn(2, 64, 8, 8)
    # zero-initialised GroupNorm in W: the block starts as the identity
    torch.testing.assert_close(small.NLBlock(x), x)
    assert small(x).shape == (2, 32, 8, 8)
