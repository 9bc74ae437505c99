"""int8 path (`inference_opt/int8.py`): outputs of the quantized small models agree with the
plain float32 model within the measured int8 tolerances for every covered family; HRNet, a
non-CPU model and a missing calibration are refused with one clear message."""

import copy

import pytest
import torch
from detectron2.modeling import build_model
from inference_opt_utils import (
    build_pair,
    given_boxes_inputs,
    results_on_given_boxes,
    small_model_config,
)

from densepose_ext import optimize_for_inference
from densepose_ext.config import is_cse
from densepose_ext.modeling.inference_opt import chart_agreement, cse_agreement, is_optimized
from densepose_ext.modeling.inference_opt.int8 import (
    Int8Error,
    int8_refusal,
    int8_state,
    is_int8,
    load_int8_state,
)

FAMILIES = {
    "chart": "densepose_rcnn_R_50_FPN_s1x.yaml",
    "confidence": "densepose_rcnn_R_50_FPN_WC2M_s1x.yaml",
    "deeplab": "densepose_rcnn_R_50_FPN_DL_s1x.yaml",
    "cse": "cse/densepose_rcnn_R_50_FPN_s1x.yaml",
}
# Measured on these random-weight small models (docs/inference.md): labels 0.88-0.93 with 8-bit
# activations (VNNI CPUs), 0.835-0.88 with 7-bit ones (AVX2 only); CSE vertices 0.86 / 0.80.
# Random heads give part logits with small margins, so labels flip more often than on a trained
# model; U/V agree to ~0.001.
RANDOM_WEIGHT_LABELS = 0.8
UV_P99 = 0.03
CSE_VERTICES = 0.75


def calibration_inputs():
    return [given_boxes_inputs(seed=s)[0] for s in (10, 11)]


def agreement(cfg, plain, quantized):
    a, b = results_on_given_boxes(plain, cfg), results_on_given_boxes(quantized, cfg)
    return (cse_agreement if is_cse(cfg) else chart_agreement)(a, b)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_int8_agrees_with_plain_model(family):
    cfg = small_model_config(FAMILIES[family])
    plain, _ = build_pair(cfg)
    int8 = optimize_for_inference(
        copy.deepcopy(plain), precision="int8", calibration=calibration_inputs()
    )
    assert is_optimized(int8) and is_int8(int8)
    parts = int8_state(int8)
    expected = {"backbone", "roi_heads.decoder"}
    if family != "deeplab":  # GroupNorm / ASPP head: float32
        expected.add("roi_heads.densepose_head")
    assert set(parts) == expected
    quantized_convs = [m for m in int8.modules() if "quantized" in type(m).__module__]
    assert len(quantized_convs) > 20
    measured = agreement(cfg, plain, int8)
    assert measured.pixels > 0
    if is_cse(cfg):
        assert measured.vertex_fraction >= CSE_VERTICES, measured
    else:
        assert measured.label_fraction >= RANDOM_WEIGHT_LABELS, measured
        assert measured.uv_p99 <= UV_P99, measured


def test_int8_state_reloads_into_a_fresh_model():
    cfg = small_model_config(FAMILIES["chart"])
    plain, _ = build_pair(cfg)
    int8 = optimize_for_inference(
        copy.deepcopy(plain), precision="int8", calibration=calibration_inputs()
    )
    reloaded = optimize_for_inference(
        copy.deepcopy(plain), precision="int8", calibration=int8_state(int8)
    )
    a, b = results_on_given_boxes(int8, cfg), results_on_given_boxes(reloaded, cfg)
    assert all(torch.equal(x.labels, y.labels) and torch.equal(x.uv, y.uv) for x, y in zip(a, b))
    assert optimize_for_inference(reloaded, precision="int8") is reloaded  # already int8


def test_int8_refusals():
    hrnet = build_model(small_model_config("HRNet/densepose_rcnn_HRFPN_HRNet_w32_s1x.yaml"))
    with pytest.raises(Int8Error, match="backbone is HRFPN over PoseHRNet, which int8 does not"):
        optimize_for_inference(hrnet, precision="int8", calibration=calibration_inputs())
    assert not is_optimized(hrnet)  # refused before anything changed
    chart = build_model(small_model_config(FAMILIES["chart"])).eval()
    with pytest.raises(Int8Error, match="needs calibration"):
        optimize_for_inference(chart, precision="int8")
    with pytest.raises(Int8Error, match="unknown int8 parts"):
        load_int8_state(chart, {"roi_heads.box_head": {}})
    on_meta = copy.deepcopy(chart).to("meta")
    assert "CPU only" in int8_refusal(on_meta)
