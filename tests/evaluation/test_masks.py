import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from evaluation_cases import box_mask_rle

from densepose_ext.evaluation.masks import (
    chart_detection_mask,
    cse_detection_mask,
    decode_dp_masks,
    gt_mask,
    ignore_region_mask,
    keep_box_outside_ignore,
    keep_mask_outside_ignore,
    mask_ious,
    paste_box_mask,
)
from densepose_ext.structures.rle import RLEError


def test_decode_dp_masks_union_of_parts_and_single_dict():
    top, full = box_mask_rle(10), box_mask_rle(256)
    assert decode_dp_masks([top, [], top]).sum() == 10 * 256
    assert decode_dp_masks(full).sum() == 256 * 256


def test_decode_dp_masks_rejects_rle_of_wrong_size_or_length():
    short = box_mask_rle(10)
    short = {"size": short["size"], "counts": [100, 50]}  # covers 150 of 256 x 256 pixels
    with pytest.raises(RLEError, match="cover 150"):
        decode_dp_masks([short])
    small = mask_utils.encode(np.asfortranarray(np.ones((8, 8), dtype=np.uint8)))
    with pytest.raises(RLEError, match="expected"):
        decode_dp_masks(small)


def test_gt_mask_from_dp_masks_zoomed_and_pasted_clipped():
    ann = {"bbox": [150.5, 10.9, 100.0, 40.0], "dp_masks": [box_mask_rle(128)]}
    mask = gt_mask(ann, (60, 200))
    # box pasted at (int 150, int 10), width clipped to 50 px; top half of 40 rows ≈ 20 rows
    assert mask.shape == (60, 200)
    assert mask[:, :150].sum() == 0 and mask[:10].sum() == 0
    rows = np.nonzero(mask[:, 160])[0]
    assert rows[0] == 10 and abs(len(rows) - 20) <= 1
    assert mask[10].sum() == 50


def test_gt_mask_from_polygon_segmentation_or_empty():
    ann = {"bbox": [0, 0, 10, 10], "segmentation": [[2, 2, 8, 2, 8, 8, 2, 8]]}
    mask = gt_mask(ann, (20, 20))
    assert 30 < mask.sum() < 50 and mask[5, 5] == 1
    assert gt_mask({"bbox": [0, 0, 5, 5]}, (20, 20)).sum() == 0


def test_detection_masks():
    iuv = np.zeros((3, 4, 5), dtype=np.uint8)
    iuv[0, 1:3, 1:4] = 7
    mask = chart_detection_mask(iuv, [2.7, 3.2, 5.0, 4.0], (10, 10))
    assert mask.sum() == 6 and mask[4:6, 3:6].all()
    coarse = torch.zeros(2, 4, 4)
    coarse[1, :, 2:] = 5.0
    mask = cse_detection_mask(coarse, [0.0, 0.0, 8.0, 6.0], (10, 10))
    assert mask[:6, 4:8].all() and mask[:6, :3].sum() == 0 and mask[6:].sum() == 0


def test_paste_box_mask_negative_corner():
    canvas = paste_box_mask(np.ones((4, 4), dtype=np.uint8), -2, -1, (5, 5))
    assert canvas.sum() == 2 * 3 and canvas[:3, :2].all()


def test_mask_ious_crowd():
    a = np.zeros((10, 10), np.uint8)
    a[:5] = 1
    b = np.ones((10, 10), np.uint8)
    ious = mask_ious([a], [b, b], [0, 1])
    assert ious[0, 0] == pytest.approx(0.5) and ious[0, 1] == pytest.approx(1.0)


def test_ignore_regions():
    image = {
        "height": 20,
        "width": 20,
        "ignore_regions_x": [[0, 10, 10, 0]],
        "ignore_regions_y": [[0, 0, 10, 10]],
    }
    ignore = ignore_region_mask(image)
    assert 90 <= ignore.sum() <= 121
    assert ignore_region_mask({"height": 5, "width": 5}) is None
    assert not keep_box_outside_ignore([1, 1, 8, 8], ignore)
    assert keep_box_outside_ignore([12, 12, 5, 5], ignore)
    assert keep_box_outside_ignore([5, 5, 10, 10], ignore)  # about a quarter inside
    small = np.zeros((20, 20), np.uint8)
    small[2:5, 2:5] = 1
    assert not keep_mask_outside_ignore(
        small, [2, 2, 3, 3], ignore
    )  # inside a large region: dropped
    assert keep_mask_outside_ignore(small, [2, 2, 3, 3], None)
    rle = mask_utils.encode(np.asfortranarray(small))
    assert mask_utils.area(rle) == 9
