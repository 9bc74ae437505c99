"""Appearance cue for tracking: the mean colour of a person's DensePose foreground in horizontal
bands of the box (head/torso, middle, legs for 3 bands).

The foreground is the coarse segmentation of the head output (chart and CSE models both have
it), so the background inside the box does not dilute the colours; without DensePose output the
whole box is used. Cheap: one nearest-neighbour resize of an [S, S] mask per detection, and
at most 64 x 64 sampled pixels.
"""

from typing import Optional

import cv2
import numpy as np
import torch

__all__ = ["colour_bands"]


def _foreground(coarse_segm: Optional[torch.Tensor], n: int) -> Optional[np.ndarray]:
    """bool [N, S, S] (argmax of the coarse logits > 0), or None."""
    if coarse_segm is None or n == 0:
        return None
    return (coarse_segm.float().argmax(dim=1) > 0).numpy()


def colour_bands(
    image_bgr: np.ndarray,
    boxes_xyxy: np.ndarray,
    coarse_segm: Optional[torch.Tensor] = None,
    bands: int = 3,
    max_samples: int = 64,
) -> np.ndarray:
    """float64 [N, 3 * bands]: mean B, G, R / 255 of the foreground pixels in each horizontal
    band of each box (top band first); NaN where a band has no foreground pixel inside the image.

    Args:
        image_bgr: uint8 [H, W, 3].
        boxes_xyxy: [N, 4] pixels.
        coarse_segm: coarse logits [N, K, S, S] in box coordinates, or None (whole box).
        max_samples: pixels are sampled on a regular grid of at most this many per box side.
    """
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    out = np.full((len(boxes), bands, 3), np.nan)
    masks = _foreground(coarse_segm, len(boxes))
    height, width = image_bgr.shape[:2]
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        bx0, by0 = int(np.floor(x0)), int(np.floor(y0))
        bw, bh = max(int(np.ceil(x1)) - bx0, 1), max(int(np.ceil(y1)) - by0, 1)
        cx0, cy0 = max(bx0, 0), max(by0, 0)
        cx1, cy1 = min(bx0 + bw, width), min(by0 + bh, height)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        step = max(1, -(-max(bw, bh) // max_samples))  # a grid of at most max_samples a side
        crop = image_bgr[cy0:cy1:step, cx0:cx1:step].astype(np.float64)
        if masks is None:
            mask = np.ones(crop.shape[:2], dtype=bool)
        else:
            full = cv2.resize(masks[k].astype(np.uint8), (bw, bh), interpolation=cv2.INTER_NEAREST)
            mask = full[cy0 - by0 : cy1 - by0 : step, cx0 - bx0 : cx1 - bx0 : step].astype(bool)
        band_of_row = ((np.arange(cy0, cy1, step, dtype=np.int64) - by0) * bands) // bh
        for band in range(bands):
            selected = mask & (band_of_row == band)[:, None]
            if selected.any():
                out[k, band] = crop[selected].mean(axis=0) / 255.0
    return out.reshape(len(boxes), bands * 3)
