"""DensePose outputs -> full-image instance masks (`BitMasks`)."""

from typing import Tuple

import torch
from detectron2.structures import BitMasks, Boxes

from ..structures.predictor_outputs import DensePoseChartPredictorOutput
from .boxes import group_by_size, int_boxes_xywh
from .chart_result import resample_labels
from .resample import channel_argmax, resize_maps

__all__ = ["ToMaskConverter", "densepose_outputs_to_box_masks", "paste_box_masks"]


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


def paste_box_masks(
    box_masks: list, int_boxes: torch.Tensor, image_size_hw: Tuple[int, int], device
) -> torch.Tensor:
    """Pastes [h, w] masks at rows y:y+h, cols x:x+w of a bool [N, H, W] canvas (clipped to it)."""
    height, width = image_size_hw
    canvas = torch.zeros((len(box_masks), height, width), dtype=torch.bool, device=device)
    for i, (x, y, w, h) in enumerate(int_boxes.tolist()):
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 > x0 and y1 > y0:
            canvas[i, y0:y1, x0:x1] = box_masks[i][y0 - y : y1 - y, x0 - x : x1 - x]
    return canvas


class ToMaskConverter:
    """Chart or CSE outputs (N) + their boxes -> `BitMasks` [N, H, W] in image coordinates."""

    @staticmethod
    def convert(output, boxes, image_size_hw: Tuple[int, int]) -> BitMasks:
        tensor = boxes.tensor if isinstance(boxes, Boxes) else boxes
        int_boxes = int_boxes_xywh(tensor)
        box_masks = densepose_outputs_to_box_masks(output, int_boxes)
        return BitMasks(paste_box_masks(box_masks, int_boxes, image_size_hw, tensor.device))
