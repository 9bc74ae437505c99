"""`optimize_for_inference`: outputs agree with the plain model within the issue-15 tolerances on
random weights for every family; BN folding and Winograd are exact up to float32 rounding; the
optimized model refuses training and warns when saved; a second call changes nothing."""

import copy
import io
import warnings

import pytest
import torch
from detectron2.layers import Conv2d, FrozenBatchNorm2d
from inference_opt_utils import (
    build_pair,
    convert,
    given_boxes_inputs,
    instances_on_given_boxes,
    results_on_given_boxes,
    small_model_config,
)
from torch import nn

from densepose_ext import optimize_for_inference
from densepose_ext.config import is_cse
from densepose_ext.modeling.inference_opt import (
    TOLERANCES,
    InferenceOnlyError,
    WinogradConv2d,
    chart_agreement,
    cse_agreement,
    fold_batch_norms,
    is_optimized,
    max_box_difference,
)

FAMILIES = {
    "chart": "densepose_rcnn_R_50_FPN_s1x.yaml",
    "confidence": "densepose_rcnn_R_50_FPN_WC2M_s1x.yaml",
    "deeplab": "densepose_rcnn_R_50_FPN_DL_s1x.yaml",
    "hrnet": "HRNet/densepose_rcnn_HRFPN_HRNet_w32_s1x.yaml",
    "cse": "cse/densepose_rcnn_R_50_FPN_s1x.yaml",
}


def assert_agree(results_a, results_b, cfg) -> None:
    if is_cse(cfg):
        agreement = cse_agreement(results_a, results_b)
    else:
        agreement = chart_agreement(results_a, results_b)
    assert agreement.pixels > 0
    assert agreement.ok(), agreement


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_given_boxes_agreement(family):
    cfg = small_model_config(FAMILIES[family])
    plain, optimized = build_pair(cfg)
    n_winograd = sum(isinstance(m, WinogradConv2d) for m in optimized.modules())
    assert n_winograd > 0
    assert not any(isinstance(m, (FrozenBatchNorm2d, nn.BatchNorm2d)) for m in optimized.modules())
    assert_agree(results_on_given_boxes(plain, cfg), results_on_given_boxes(optimized, cfg), cfg)


def test_end_to_end_boxes_and_parts():
    cfg = small_model_config(FAMILIES["chart"])
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
    cfg.TEST.DETECTIONS_PER_IMAGE = 4
    plain, optimized = build_pair(cfg)
    inputs = given_boxes_inputs(seed=1)
    with torch.inference_mode():
        (a,), (b,) = plain(inputs), optimized(inputs)
    a, b = a["instances"], b["instances"]
    assert len(a) == len(b) > 0
    assert max_box_difference(a.pred_boxes.tensor, b.pred_boxes.tensor) <= TOLERANCES.box_px
    with torch.inference_mode():
        assert_agree(convert(a, plain, cfg), convert(b, optimized, cfg), cfg)


def test_disagreement_is_detected():
    """The agreement check can fail: a perturbed model is caught."""
    cfg = small_model_config(FAMILIES["chart"])
    plain, optimized = build_pair(cfg)
    with torch.no_grad():
        optimized.roi_heads.densepose_predictor.index_uv_lowres.weight.mul_(-1)
    agreement = chart_agreement(
        results_on_given_boxes(plain, cfg), results_on_given_boxes(optimized, cfg)
    )
    assert not agreement.ok()


@pytest.mark.parametrize("shape", [(2, 128, 28, 28), (1, 128, 13, 22), (1, 160, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_winograd_matches_conv2d(shape, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(shape[1], 144, 3, padding=1, bias=bias)
    x = torch.randn(shape)
    with torch.no_grad():
        expected = conv(x)
        actual = WinogradConv2d(conv)(x)
    assert actual.shape == expected.shape
    scale = expected.abs().max()
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5 * float(scale))


def test_winograd_keeps_norm_and_activation_and_falls_back_with_grad():
    torch.manual_seed(0)
    conv = Conv2d(128, 128, 3, padding=1, norm=nn.GroupNorm(32, 128), activation=nn.ReLU())
    x = torch.randn(1, 128, 9, 9)
    fast = WinogradConv2d(conv)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), conv(x), rtol=1e-4, atol=1e-4)
    x.requires_grad_(True)
    fast(x).sum().backward()  # F.conv2d path: differentiable
    assert x.grad is not None


def test_fold_frozen_bn_in_d2_conv_and_sequential_and_named_pairs():
    torch.manual_seed(0)
    bn = FrozenBatchNorm2d(8)
    bn.weight.uniform_(0.5, 2)
    bn.bias.normal_()
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2)
    seq_bn = nn.BatchNorm2d(8).eval()
    seq_bn.running_mean.normal_()
    seq_bn.running_var.uniform_(0.5, 2)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(8, 8, 1, bias=False)
            self.bn1 = copy.deepcopy(seq_bn)

        def forward(self, x):
            return self.bn1(self.conv1(x))

    model = nn.Sequential(
        Conv2d(3, 8, 3, padding=1, bias=False, norm=bn, activation=nn.ReLU()),
        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), seq_bn),
        Block(),
    ).eval()
    x = torch.randn(2, 3, 10, 10)
    with torch.no_grad():
        expected = model(x)
        assert fold_batch_norms(model) == 3
        actual = model(x)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert model[0].norm is None and isinstance(model[1][1], nn.Identity)


@pytest.fixture(scope="module")
def small_pair():
    cfg = small_model_config(FAMILIES["chart"])
    return build_pair(cfg)


def test_guards(small_pair):
    _, optimized = small_pair
    assert is_optimized(optimized) and not optimized.training
    with pytest.raises(InferenceOnlyError, match="optimized for inference"):
        optimized.train()
    optimized.eval()  # eval stays allowed
    optimized.training = True
    try:
        with pytest.raises(InferenceOnlyError, match="training forward"):
            optimized(given_boxes_inputs())
    finally:
        optimized.training = False
    with pytest.warns(UserWarning, match="not a training checkpoint"):
        optimized.state_dict()
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="not a training checkpoint"):
        torch.save(optimized, buffer)
    buffer.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = torch.load(buffer, weights_only=False)
    assert is_optimized(loaded)


def test_idempotent(small_pair):
    plain, optimized = small_pair
    weights = [p.clone() for p in optimized.parameters()]
    modules = list(optimized.modules())
    assert optimize_for_inference(optimized) is optimized
    assert list(optimized.modules()) == modules
    assert all(torch.equal(a, b) for a, b in zip(weights, optimized.parameters()))
    assert not is_optimized(plain)
    plain.train()  # the plain model is untouched
    plain.eval()


def _all_configs():
    """Every config YAML but the bases (cheap: read when the slow test runs)."""
    from model_utils import CONFIGS_DIR

    paths = sorted(CONFIGS_DIR.rglob("*.yaml"))
    return [p.relative_to(CONFIGS_DIR).as_posix() for p in paths if not p.name.startswith("Base")]


@pytest.mark.slow
@pytest.mark.parametrize("config", _all_configs())
def test_every_config_agrees(config):
    """Full-size heads of every config (R-50/R-101, HRNet, DeepLab, confidences, CSE, cascade:
    its masks and keypoints too)."""
    cfg = small_model_config(config, small=False)
    if is_cse(cfg) and not cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING:
        pytest.skip("CSE config without embedders (a quick-schedule training test): no mesh")
    plain, optimized = build_pair(cfg)
    assert_agree(results_on_given_boxes(plain, cfg), results_on_given_boxes(optimized, cfg), cfg)
    if cfg.MODEL.MASK_ON or cfg.MODEL.KEYPOINT_ON:  # the cascade configs' other branches
        assert_other_tasks_agree(
            instances_on_given_boxes(plain), instances_on_given_boxes(optimized)
        )


def assert_other_tasks_agree(a, b) -> None:
    """Masks equal on the label fraction of pixels, keypoints within the box tolerance."""
    if a.has("pred_masks"):
        assert a.pred_masks.numel() > 0
        equal = (a.pred_masks == b.pred_masks).float().mean()
        assert equal >= TOLERANCES.label_fraction, equal
    if a.has("pred_keypoints"):
        assert a.pred_keypoints.numel() > 0
        offset = (a.pred_keypoints[..., :2] - b.pred_keypoints[..., :2]).abs().max()
        assert offset <= TOLERANCES.box_px, offset
