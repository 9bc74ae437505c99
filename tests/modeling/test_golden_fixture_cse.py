"""Golden fixture `cse_v1convx`: our CSE branch and vertex assignment reproduce the original."""

import numpy as np
import pytest
import torch
from fixture_utils import (
    build_golden_roi_heads,
    densepose_state_dict,
    load_golden_case,
    run_golden_case,
)

from densepose_ext.converters.boxes import int_boxes_xywh
from densepose_ext.converters.cse_vertices import cse_output_to_results
from densepose_ext.structures import DensePoseEmbeddingPredictorOutput

MARGIN_EXEMPT = 1e-4


@pytest.fixture(scope="module")
def case():
    return load_golden_case("cse_v1convx")


@pytest.fixture(scope="module")
def roi_heads(case):
    return build_golden_roi_heads(case)


@pytest.fixture(scope="module")
def prediction(case, roi_heads):
    return run_golden_case(case, roi_heads)


def test_state_dict_keys_and_order(case, roi_heads):
    ours = densepose_state_dict(roi_heads)
    assert list(ours) == list(case.weights)
    for key, value in ours.items():
        assert tuple(value.shape) == case.weights[key].shape, key


def test_raw_outputs(case, prediction):
    out = prediction.pred_densepose
    assert type(out) is DensePoseEmbeddingPredictorOutput
    for key in ("embedding", "coarse_segm"):
        np.testing.assert_allclose(
            case.raw(getattr(out, key)), case.outputs[key], rtol=1e-4, atol=1e-5
        )


def test_vertex_embeddings(case, roi_heads):
    with torch.no_grad():
        actual = roi_heads.embedder("smpl_27554").numpy()
    np.testing.assert_allclose(
        actual, case.outputs["vertex_embeddings_smpl_27554"], rtol=1e-4, atol=1e-6
    )


def test_per_box_vertices_and_masks(case, roi_heads, prediction):
    mapping = dict(case.cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)
    results = cse_output_to_results(
        prediction.pred_densepose,
        prediction.pred_boxes,
        prediction.pred_classes,
        roi_heads.embedder,
        mapping,
    )
    h_img, w_img = (int(v) for v in case.inputs["image_size"])
    masks = np.zeros((3, h_img, w_img), dtype=bool)
    exempt = np.zeros((3, h_img, w_img), dtype=bool)
    for i, (result, box) in enumerate(
        zip(results, int_boxes_xywh(prediction.pred_boxes.tensor).tolist())
    ):
        x, y, w, h = box
        margin = case.outputs[f"box{i}_margin"]
        assert result.mesh_name == "smpl_27554"
        assert result.mask.shape == margin.shape == (h, w)
        trusted = margin >= MARGIN_EXEMPT
        expected_mask = case.outputs[f"box{i}_mask"]
        np.testing.assert_array_equal(result.mask.numpy()[trusted], expected_mask[trusted])
        expected_vertices = case.outputs[f"box{i}_vertices"]
        assert result.vertices.dtype == torch.int64
        np.testing.assert_array_equal(result.vertices.numpy()[trusted], expected_vertices[trusted])
        assert (result.vertices.numpy()[~result.mask.numpy()] == 0).all()
        masks[i, y : y + h, x : x + w] = result.mask.numpy()
        exempt[i, y : y + h, x : x + w] = ~trusted
    np.testing.assert_array_equal(masks[~exempt], case.outputs["masks"][~exempt])
