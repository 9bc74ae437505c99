"""DensePose outputs -> full-image instance masks (`BitMasks`)."""

from typing import Tuple, Union

import numpy as np
import torch
from detectron2.structures import BitMasks, Boxes

from ..structures.predictor_outputs import DensePoseChartPredictorOutput
from .boxes import group_by_size, int_boxes_xywh
from .chart_result import resample_labels
from .resample import channel_argmax, resize_maps

ArrayLike = Union[np.ndarray, torch.Tensor]

__all__ = [
    "ToMaskConverter",
    "densepose_outputs_to_box_masks",
    "paste_box_mask_into",
    "paste_box_masks",
]


def densepose_outputs_to_box_masks(output, int_boxes: torch.Tensor) -> list:
    """Per box a bool [h, w] foreground mask of the integer box size.

    Chart outputs: fine labels (gated by coarse foreground) > 0. Other outputs with `coarse_segm`
    (CSE): coarse argmax > 0.
    """
    is_chart = isinstance(output, DensePoseChartPredictorOutput)
    masks: list = [None] * len(int_boxes)
    device = output.coarse_segm.device
    for (h, w), indices in group_by_size(int_boxes).items():
        idx = torch.as_tensor(indices, dtype=torch.int64, device=device)
        coarse = output.coarse_segm[idx].float()
        if is_chart:
            fg = resample_labels(coarse, output.fine_segm[idx].float(), h, w) > 0
        else:
            fg = channel_argmax(resize_maps(coarse, h, w)) > 0
        for j, i in enumerate(indices):
            masks[i] = fg[j]
    return masks


def paste_box_mask_into(canvas: ArrayLike, box_mask: ArrayLike, x0: int, y0: int) -> None:
    """Writes `box_mask` [h, w] into `canvas` [H, W] at rows y0:y0+h, cols x0:x0+w, clipped to
    the canvas (NumPy arrays or tensors; the canvas dtype converts the values)."""
    height, width = canvas.shape[-2:]
    h, w = box_mask.shape[-2:]
    xs, ys, xe, ye = max(x0, 0), max(y0, 0), min(x0 + w, width), min(y0 + h, height)
    if xe > xs and ye > ys:
        canvas[..., ys:ye, xs:xe] = box_mask[..., ys - y0 : ye - y0, xs - x0 : xe - x0]


def paste_box_masks(
    box_masks: list, int_boxes: torch.Tensor, image_size_hw: Tuple[int, int], device
) -> torch.Tensor:
    """Pastes [h, w] masks at rows y:y+h, cols x:x+w of a bool [N, H, W] canvas (clipped to it)."""
    height, width = image_size_hw
    canvas = torch.zeros((len(box_masks), height, width), dtype=torch.bool, device=device)
    for i, (x, y, _w, _h) in enumerate(int_boxes.tolist()):
        paste_box_mask_into(canvas[i], box_masks[i], x, y)
    return canvas


class ToMaskConverter:
    """Chart or CSE outputs (N) + their boxes -> `BitMasks` [N, H, W] in image coordinates."""

    @staticmethod
    def convert(output, boxes, image_size_hw: Tuple[int, int]) -> BitMasks:
        tensor = boxes.tensor if isinstance(boxes, Boxes) else boxes
        int_boxes = int_boxes_xywh(tensor)
        box_masks = densepose_outputs_to_box_masks(output, int_boxes)
        return BitMasks(paste_box_masks(box_masks, int_boxes, image_size_hw, tensor.device))
