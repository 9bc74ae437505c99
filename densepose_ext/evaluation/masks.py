"""Image-size masks for GPSm / IOU evaluation (GT and detections) and ignore-region tests."""

from typing import Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils
import torch
import torch.nn.functional as F
from scipy.ndimage import zoom

from ..converters.to_mask import paste_box_mask_into
from ..structures.constants import BOX_FRAME_SIZE
from ..structures.rle import decode_rle

__all__ = [
    "decode_dp_masks",
    "gt_mask",
    "paste_box_mask",
    "chart_detection_mask",
    "cse_detection_mask",
    "encode_mask",
    "mask_ious",
    "ignore_region_mask",
    "keep_box_outside_ignore",
    "keep_mask_outside_ignore",
    "IGNORE_BOX_FRACTION",
    "IGNORE_MASK_IOU",
]

IGNORE_BOX_FRACTION = 0.7  # a box with this fraction of its area in ignore regions is dropped
IGNORE_MASK_IOU = 0.9  # a detection mask with this IoU with the ignore mask is dropped


def decode_dp_masks(dp_masks) -> np.ndarray:
    """Foreground (union of all coarse parts) uint8 [256, 256] in the GT box frame.

    Raises `RLEError` for an RLE that does not describe a 256 x 256 mask."""
    size = (BOX_FRAME_SIZE, BOX_FRAME_SIZE)
    if isinstance(dp_masks, dict):
        return (decode_rle(dp_masks, size) > 0).astype(np.uint8)
    fg = np.zeros(size, dtype=np.uint8)
    for rle in dp_masks:
        if rle:
            fg |= (decode_rle(rle, size) > 0).astype(np.uint8)
    return fg


def paste_box_mask(box_mask: np.ndarray, x0: int, y0: int, image_hw) -> np.ndarray:
    """Pastes a [h, w] mask with its top-left corner at (x0, y0) into a uint8 [H, W] canvas
    (clipped)."""
    canvas = np.zeros((int(image_hw[0]), int(image_hw[1])), dtype=np.uint8)
    paste_box_mask_into(canvas, np.asarray(box_mask) > 0, int(x0), int(y0))
    return canvas


def gt_mask(ann: dict, image_hw) -> np.ndarray:
    """uint8 [H, W] GT mask: from `dp_masks` (zoomed, order-1 spline, > 0.5),
    else `segmentation`."""
    height, width = int(image_hw[0]), int(image_hw[1])
    if ann.get("dp_masks"):
        gx, gy, gw, gh = (float(c) for c in ann["bbox"])
        fg = decode_dp_masks(ann["dp_masks"]).astype(np.float64)
        scaled = zoom(fg, (max(gh, 1) / BOX_FRAME_SIZE, max(gw, 1) / BOX_FRAME_SIZE), order=1) > 0.5
        return paste_box_mask(scaled.astype(np.uint8), int(gx), int(gy), image_hw)
    segm = ann.get("segmentation")
    if segm:
        if isinstance(segm, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
            return mask_utils.decode(rle)
        return decode_rle(segm, (height, width))
    return np.zeros((height, width), dtype=np.uint8)


def chart_detection_mask(iuv: np.ndarray, det_box, image_hw) -> np.ndarray:
    """uint8 [H, W]: quantised labels (row 0 of [3, h, w]) > 0 pasted at the truncated box
    corner."""
    return paste_box_mask(
        (np.asarray(iuv)[0] > 0).astype(np.uint8), int(det_box[0]), int(det_box[1]), image_hw
    )


def cse_detection_mask(coarse_segm: torch.Tensor, det_box, image_hw) -> np.ndarray:
    """uint8 [H, W]: coarse segm [K, S, S] resized to the integer box, argmax > 0, pasted."""
    h, w = max(int(det_box[3]), 1), max(int(det_box[2]), 1)
    resized = F.interpolate(
        coarse_segm[None].float(), (h, w), mode="bilinear", align_corners=False
    )[0]
    fg = (resized.argmax(dim=0) > 0).numpy().astype(np.uint8)
    return paste_box_mask(fg, int(det_box[0]), int(det_box[1]), image_hw)


def encode_mask(mask: np.ndarray) -> dict:
    """Compressed RLE of a [H, W] binary mask."""
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))


def mask_ious(
    det_masks: Sequence[np.ndarray], gt_masks: Sequence[np.ndarray], gt_iscrowd
) -> np.ndarray:
    """Mask IoU [D, G] (pycocotools, crowd GTs use intersection over detection area)."""
    if len(det_masks) == 0 or len(gt_masks) == 0:
        return np.zeros((len(det_masks), len(gt_masks)))
    dt = [encode_mask(m) for m in det_masks]
    gt = [encode_mask(m) for m in gt_masks]
    return np.asarray(mask_utils.iou(dt, gt, [int(c) for c in gt_iscrowd]), dtype=np.float64)


def ignore_region_mask(image: dict) -> Optional[np.ndarray]:
    """uint8 [H, W] union of the image's ignore polygons (`ignore_regions_x/_y`), or None."""
    xs, ys = image.get("ignore_regions_x"), image.get("ignore_regions_y")
    if not xs or not ys:
        return None
    polygons = []
    for px, py in zip(xs, ys):
        if len(px) >= 3 and len(px) == len(py):
            polygons.append(np.stack([px, py], 1).reshape(-1).astype(np.float64).tolist())
    if not polygons:
        return None
    height, width = int(image["height"]), int(image["width"])
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, height, width)))


def keep_box_outside_ignore(box, ignore: Optional[np.ndarray]) -> bool:
    """False when ≥ 70 % of the integer box area lies in the ignore mask."""
    if ignore is None:
        return True
    x, y, w, h = (int(c) for c in box)
    if w * h == 0:
        return False
    inside = ignore[max(y, 0) : y + h, max(x, 0) : x + w].sum()
    return inside == 0 or inside / (w * h) < IGNORE_BOX_FRACTION


def keep_mask_outside_ignore(mask: np.ndarray, box, ignore: Optional[np.ndarray]) -> bool:
    """False when ≥ 90 % of the detection mask lies in the ignore mask (crowd-style IoU, i.e.
    intersection over the detection area, so small people in a large ignore region are dropped)."""
    if ignore is None:
        return True
    x, y, w, h = (int(c) for c in box)
    if w * h == 0:
        return False
    if ignore[max(y, 0) : y + h, max(x, 0) : x + w].sum() == 0:
        return True
    iou = mask_utils.iou([encode_mask(mask)], [encode_mask(ignore)], [1])[0][0]
    return iou < IGNORE_MASK_IOU
