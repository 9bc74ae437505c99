"""`DensePoseCascadeROIHeads`: builds and trains for every auxiliary subset, infers, loads."""

import logging

import pytest
import torch
from cascade_utils import SUBSETS, synthetic_batch, tiny_cascade_cfg
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from densepose_ext.config import get_densepose_cfg
from densepose_ext.modeling import DensePoseCheckpointer
from densepose_ext.modeling.cascade import CrossCascadeBlock, resample
from densepose_ext.structures import DensePoseChartPredictorOutput

DP_LOSSES = ("loss_densepose_I", "loss_densepose_U", "loss_densepose_V", "loss_densepose_S")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return synthetic_batch(str(tmp_path_factory.mktemp("cascade_batch")))


def _train_step(cfg, batch, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(cfg).train()
    with EventStorage():
        losses = model(batch)
    return model, losses


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_every_subset_trains_every_parameter(subset, batch):
    mask_on, keypoint_on = SUBSETS[subset]
    model, losses = _train_step(tiny_cascade_cfg(mask_on, keypoint_on), batch)
    expected = set(DP_LOSSES) | {name + "_stage1" for name in DP_LOSSES}
    if mask_on:
        expected |= {"loss_mask", "loss_mask_stage1"}
    if keypoint_on:
        expected |= {"loss_keypoint", "loss_keypoint_stage1"}
    assert expected <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses["loss_densepose_I"].item() > 0 and losses["loss_densepose_I_stage1"].item() > 0
    sum(losses.values()).backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert no_grad == []
    heads = model.roi_heads
    assert hasattr(heads, "mask_refine") == mask_on
    assert hasattr(heads, "keypoint_predictor_stage2") == keypoint_on


def test_stage1_loss_weight_scales_stage1_losses(batch):
    cfg = tiny_cascade_cfg(True, True)
    _, base = _train_step(cfg, batch)
    cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE.STAGE1_LOSS_WEIGHT = 0.25
    _, scaled = _train_step(cfg, batch)
    for name in ("loss_densepose_I", "loss_mask", "loss_keypoint"):
        torch.testing.assert_close(scaled[name + "_stage1"], 0.25 * base[name + "_stage1"])
        torch.testing.assert_close(scaled[name], base[name])


def test_inference_fills_densepose_masks_and_keypoints(batch):
    cfg = tiny_cascade_cfg(True, True)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    inputs = [{"image": b["image"], "height": 96, "width": 96} for b in batch]
    with torch.no_grad():
        outputs = model(inputs)
    for out in outputs:
        inst = out["instances"]
        assert len(inst) > 0
        assert isinstance(inst.pred_densepose, DensePoseChartPredictorOutput)
        assert inst.pred_densepose.fine_segm.shape[1:] == (25, 28, 28)
        assert inst.pred_masks.shape == (len(inst), 96, 96)  # pasted by postprocess
        assert inst.pred_keypoints.shape == (len(inst), 17, 3)
    # the DensePose output is the stage-2 one
    heads = model.roi_heads
    feats = model.backbone(model.preprocess_image(inputs[:1]).tensor)
    boxes = [outputs[0]["instances"].pred_boxes.clone()]
    scale = model.preprocess_image(inputs[:1]).tensor.shape[-1] / 96
    boxes[0].scale(scale, scale)
    with torch.no_grad():
        both = heads.cascade_outputs([feats[f] for f in heads.in_features], boxes)
        final = heads.densepose_outputs([feats[f] for f in heads.in_features], boxes)
    torch.testing.assert_close(final.u, both.densepose.u)
    assert not torch.allclose(both.densepose.u, both.densepose_stage1.u)


def test_cross_cascade_block_shapes_and_resampling():
    block = CrossCascadeBlock({"a": 3, "b": 5}, resolution=7, conv_dim=4)
    out = block(
        {"a": [torch.ones(2, 3, 28, 28)], "b": [torch.ones(2, 2, 14, 14), torch.ones(2, 3, 7, 7)]}
    )
    assert out.shape == (2, 4, 7, 7) and (out >= 0).all()
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(resample(x, 2), torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))
    assert resample(x, 8).shape == (1, 1, 8, 8) and resample(x, 4) is x


def test_plain_checkpoint_initialises_shared_parts_and_stage1(tmp_path, caplog):
    cfg = tiny_cascade_cfg(True, True)
    plain_cfg = tiny_cascade_cfg(False, False)
    plain_cfg.MODEL.ROI_HEADS.NAME = "DensePoseROIHeads"
    torch.manual_seed(1)
    plain = build_model(plain_cfg)
    DetectionCheckpointer(plain, save_dir=str(tmp_path)).save("plain")
    torch.manual_seed(2)
    cascade = build_model(cfg)
    with caplog.at_level(logging.INFO):
        DensePoseCheckpointer(cascade).load(str(tmp_path / "plain.pth"))
    plain_state, cascade_state = plain.state_dict(), cascade.state_dict()
    for key, value in plain_state.items():
        torch.testing.assert_close(cascade_state[key], value, msg=key)
    assert any(k.startswith("roi_heads.densepose_predictor.") for k in plain_state)
    new = sorted(set(cascade_state) - set(plain_state))
    assert new and all(
        k.split(".")[1]
        in {
            "cascade",
            "densepose_refine",
            "densepose_predictor_stage2",
            "mask_head",
            "mask_refine",
            "mask_predictor_stage2",
            "keypoint_head",
            "keypoint_refine",
            "keypoint_predictor_stage2",
        }
        for k in new
    )
    log = caplog.text
    for module in (
        "roi_heads.cascade",
        "roi_heads.densepose_predictor_stage2",
        "roi_heads.mask_head",
    ):
        assert module in log


def test_checkpoint_round_trip(tmp_path, batch):
    cfg = tiny_cascade_cfg(True, True)
    torch.manual_seed(3)
    model = build_model(cfg).eval()
    DetectionCheckpointer(model, save_dir=str(tmp_path)).save("cascade")
    torch.manual_seed(4)
    restored = build_model(cfg).eval()
    DensePoseCheckpointer(restored).load(str(tmp_path / "cascade.pth"))
    inputs = [{"image": batch[0]["image"], "height": 96, "width": 96}]
    with torch.no_grad():
        a, b = model(inputs)[0]["instances"], restored(inputs)[0]["instances"]
    torch.testing.assert_close(a.pred_densepose.u, b.pred_densepose.u)
    torch.testing.assert_close(a.pred_keypoints, b.pred_keypoints)
    torch.testing.assert_close(a.pred_masks, b.pred_masks)


def test_default_config_keeps_plain_heads():
    cfg = get_densepose_cfg()
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE.STAGE1_LOSS_WEIGHT == 1.0
    assert cfg.MODEL.ROI_HEADS.NAME == "Res5ROIHeads" and not cfg.MODEL.MASK_ON


def test_cascade_requires_densepose():
    cfg = tiny_cascade_cfg(True, False)
    cfg.MODEL.DENSEPOSE_ON = False
    with pytest.raises(ValueError, match="DENSEPOSE_ON"):
        build_model(cfg)


def test_heads_without_the_layers_the_cascade_reads_are_refused():
    import torch.nn as nn

    from densepose_ext.modeling.cascade.roi_heads import _require_head

    with pytest.raises(ValueError, match=r"mask head with `deconv` and `predictor` \(Mask.*Linear"):
        _require_head(nn.Linear(1, 1), "mask", ("deconv", "predictor"), "MaskRCNNConvUpsampleHead")
    _require_head(nn.ConvTranspose2d(1, 1, 2), "keypoint", ("weight",), "any")  # has it: no error
