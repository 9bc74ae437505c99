"""Ground-truth visualizers draw where the annotation says, and only there; entry printing."""

import numpy as np
import pytest
from detectron2.structures import BoxMode
from pycocotools import mask as mask_utils

from densepose_ext.query.entry_format import format_entry
from densepose_ext.query.gt_visualizers import (
    GT_VISUALIZERS,
    annotation_box_xywh,
    build_gt_visualizers,
    densepose_points_in_image,
)

H, W = 120, 160


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _entry() -> dict:
    upper = np.zeros((256, 256), bool)
    upper[:128] = True  # coarse part 1 covers the upper half of the box frame
    masks = [_rle(upper)] + [[] for _ in range(13)]
    ann = {
        "id": 7,
        "bbox": [40.0, 20.0, 64.0, 80.0],
        "bbox_mode": BoxMode.XYWH_ABS,
        "category_id": 1,
        "dp_x": [0.0, 128.0, 255.0],
        "dp_y": [0.0, 128.0, 255.0],
        "dp_I": [1, 12, 24],
        "dp_U": [0.0, 0.5, 1.0],
        "dp_V": [1.0, 0.5, 0.0],
        "dp_masks": masks,
        "keypoints": [50.0, 30.0, 2, 90.0, 90.0, 0],
    }
    cse = {"bbox": [120.0, 10.0, 30.0, 30.0], "dp_x": [128.0], "dp_y": [128.0]}
    cse.update(dp_vertex=[5], ref_model="no_such_mesh")
    return {"image_id": 1, "height": H, "width": W, "annotations": [ann, cse]}


def _draw(name: str, entry=None) -> np.ndarray:
    canvas = np.zeros((H, W, 3), np.uint8)
    for visualizer in build_gt_visualizers([name]):
        visualizer.draw(canvas, entry or _entry())
    return canvas


def test_points_in_image_frame():
    ann = _entry()["annotations"][0]
    points = densepose_points_in_image(ann)
    np.testing.assert_allclose(points, [[40, 20], [72, 60], [40 + 63.75, 20 + 79.6875]])
    xyxy = dict(ann, bbox=[40.0, 20.0, 104.0, 100.0], bbox_mode=BoxMode.XYXY_ABS)
    np.testing.assert_allclose(annotation_box_xywh(xyxy), [40, 20, 64, 80])
    assert densepose_points_in_image({"bbox": [0, 0, 1, 1]}) is None


def test_bbox_draws_the_rectangle():
    canvas = _draw("bbox")
    assert canvas[20, 40:105].any(axis=1).all() and canvas[100, 40:105].any(axis=1).all()
    assert not canvas[60, 60:100].any()  # inside stays empty (the id label is at the top)


def test_segm_fills_the_annotated_half_only():
    canvas = _draw("dp_segm")
    painted = canvas.any(axis=2)
    assert painted[22:58, 42:102].all()  # upper half of the box
    assert not painted[62:100].any() and not painted[:20].any() and not painted[:, :40].any()


@pytest.mark.parametrize("name", ["dp_i", "dp_u", "dp_v", "dp_pts"])
def test_point_visualizers_draw_at_the_points(name):
    canvas = _draw(name)
    painted = canvas.any(axis=2)
    for x, y in [(40, 20), (72, 60), (104, 100)]:
        assert painted[y, x], (name, x, y)
    assert not painted[5:15, 5:30].any()
    assert painted.sum() < 80


def test_point_colours_follow_the_values():
    u, v = _draw("dp_u"), _draw("dp_v")
    # U rises along the points, V falls: the first and last point swap colours
    assert (u[20, 40] == v[100, 104]).all() and (u[100, 104] == v[20, 40]).all()
    assert not (u[20, 40] == u[100, 104]).all()


def test_vertex_points_without_a_loadable_mesh_fall_back(caplog):
    canvas = _draw("dp_vertex")
    assert canvas[25, 135].any()  # the CSE point in the second box
    assert not canvas[60, 72].any()  # chart-only annotation: nothing drawn
    assert "no_such_mesh" in caplog.text


def test_keypoints_visible_only():
    canvas = _draw("kp")
    assert canvas[30, 50].any() and not canvas[90, 90].any()


def test_unknown_visualization():
    with pytest.raises(ValueError, match="unknown visualization dp_nope; known: bbox"):
        build_gt_visualizers(["bbox", "dp_nope"])
    assert set(GT_VISUALIZERS) >= {"bbox", "dp_segm", "dp_i", "dp_u", "dp_v", "dp_pts"}


def test_format_entry_summarises_and_full_prints_everything():
    text = format_entry(_entry())
    assert "annotations: 2" in text and "[0] id=7 category_id=1" in text
    assert "dp_x: 3 values" not in text  # short lists are printed as they are
    assert "dp_masks: 14 coarse-part masks, present: [1]" in text
    assert "bbox_mode: XYWH_ABS" in text
    entry = _entry()
    entry["annotations"][0]["dp_x"] = list(range(100))
    assert "dp_x: 100 values in [0, 99]" in format_entry(entry)
    assert "99]" in format_entry(entry, full=True) and "'counts'" in format_entry(entry, full=True)
