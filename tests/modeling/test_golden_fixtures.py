"""Golden fixtures (tests/fixtures/golden, chart cases):
our DensePose branch reproduces the original.

Checks follow the fixtures README, "How a test should use them": same state-dict keys/shapes,
raw outputs within rtol 1e-4 / atol 1e-5, exact labels, U/V and confidences within 1e-5 (+rtol),
quantised labels exact and U/V within 1, instance masks exact.
"""

import numpy as np
import pytest
import torch
from fixture_utils import (
    build_golden_roi_heads,
    densepose_state_dict,
    load_golden_case,
    run_golden_case,
)

from densepose_ext.converters import ToMaskConverter, chart_outputs_to_results
from densepose_ext.structures.chart_result import quantize_densepose_chart_result
from densepose_ext.structures.predictor_outputs import DensePoseChartPredictorOutputWithConfidences

CHART_CASES = ["chart_v1convx", "chart_deeplab_wc2m", "chart_legacy"]
RAW_FIELDS = [
    "coarse_segm",
    "fine_segm",
    "u",
    "v",
    "sigma_1",
    "sigma_2",
    "kappa_u",
    "kappa_v",
    "fine_segm_confidence",
    "coarse_segm_confidence",
]
PER_PART = ["sigma_2", "kappa_u", "kappa_v"]
SINGLE_CHANNEL = ["fine_segm_confidence", "coarse_segm_confidence"]
MARGIN_EXEMPT = 1e-4


@pytest.fixture(scope="module", params=CHART_CASES)
def golden(request):
    case = load_golden_case(request.param)
    roi_heads = build_golden_roi_heads(case)
    return case, roi_heads, run_golden_case(case, roi_heads)


def test_state_dict_keys_and_shapes(golden):
    case, roi_heads, _ = golden
    ours = densepose_state_dict(roi_heads)
    assert list(ours) == list(case.weights)  # same keys, same order
    for key, value in ours.items():
        assert tuple(value.shape) == case.weights[key].shape, key


def test_raw_outputs(golden):
    case, _, instances = golden
    out = instances.pred_densepose
    assert isinstance(out, DensePoseChartPredictorOutputWithConfidences)
    for name in RAW_FIELDS:
        value = getattr(out, name)
        if name not in case.outputs:
            assert value is None, name
            continue
        np.testing.assert_allclose(
            case.raw(value), case.outputs[name], rtol=1e-4, atol=1e-5, err_msg=name
        )


def test_per_box_results(golden):
    case, _, instances = golden
    results = chart_outputs_to_results(instances.pred_densepose, instances.pred_boxes.tensor)
    assert len(results) == 3
    for i, result in enumerate(results):
        expected_labels = case.outputs[f"box{i}_labels"]
        decided = case.outputs[f"box{i}_margin"] >= MARGIN_EXEMPT
        labels = result.labels.numpy()
        assert labels.shape == expected_labels.shape and result.labels.dtype == torch.int64
        np.testing.assert_array_equal(labels[decided], expected_labels[decided])
        same = labels == expected_labels
        np.testing.assert_allclose(
            result.uv.numpy()[:, same], case.outputs[f"box{i}_uv"][:, same], rtol=1e-4, atol=1e-5
        )
        for name in PER_PART + SINGLE_CHANNEL:
            key = f"box{i}_{name}"
            value = getattr(result, name)
            if key not in case.outputs:
                assert value is None, key
                continue
            where = same if name in PER_PART else np.ones_like(same)
            np.testing.assert_allclose(
                value.numpy()[where], case.outputs[key][where], rtol=1e-4, atol=1e-5
            )
        quantized = quantize_densepose_chart_result(result).labels_uv_uint8.numpy().astype(np.int64)
        expected_q = case.outputs[f"box{i}_labels_uv_uint8"].astype(np.int64)
        np.testing.assert_array_equal(quantized[0][decided], expected_q[0][decided])
        assert np.abs(quantized[1:, same] - expected_q[1:, same]).max() <= 1


def test_instance_masks(golden):
    case, _, instances = golden
    masks = ToMaskConverter.convert(
        instances.pred_densepose, instances.pred_boxes, instances.image_size
    )
    expected = case.outputs["masks"]
    assert masks.tensor.shape == expected.shape and masks.tensor.dtype == torch.bool
    np.testing.assert_array_equal(masks.tensor.numpy(), expected)
