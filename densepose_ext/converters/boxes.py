"""Box geometry shared by the converters (the original's truncation rule), and given boxes as
detections."""

from typing import Optional, Sequence, Tuple

import torch
from detectron2.structures import Boxes, Instances

__all__ = ["given_box_instances", "group_by_size", "int_boxes_xywh"]


def int_boxes_xywh(boxes_xyxy: torch.Tensor) -> torch.Tensor:
    """[N, 4] XYXY absolute -> int64 [N, 4] (x, y, w, h).

    XYXY -> XYWH in the boxes' dtype, then each of x, y, w, h truncated separately; w, h >= 1.
    """
    b = boxes_xyxy.detach()
    xywh = torch.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], dim=1)
    out = xywh.to(torch.int64)  # truncation toward zero, as tensor.long()
    out[:, 2:] = out[:, 2:].clamp(min=1)
    return out.cpu()


def group_by_size(int_boxes: torch.Tensor) -> dict:
    """(h, w) -> list of box indices having that size (to batch resizing of equal-size boxes)."""
    groups: dict = {}
    for i, (_x, _y, w, h) in enumerate(int_boxes.tolist()):
        groups.setdefault((h, w), []).append(i)
    return groups


def given_box_instances(
    image_hw: Tuple[int, int], boxes_xyxy: Sequence, classes: Optional[Sequence[int]] = None
) -> Instances:
    """Boxes from elsewhere (another detector, a fixed test layout) as the detections that
    `model.inference(inputs, [instances])` / `roi_heads.forward_with_given_boxes` take.

    Args:
        image_hw: (H, W) of the original image; boxes_xyxy: [N, 4] absolute pixels.
        classes: per-box class index (default 0, the person class).
    Returns:
        `Instances` with pred_boxes, pred_classes (int64) and scores (1).
    """
    boxes = torch.as_tensor(boxes_xyxy, dtype=torch.float32).reshape(-1, 4)
    instances = Instances(tuple(image_hw))
    instances.pred_boxes = Boxes(boxes)
    if classes is None:
        instances.pred_classes = torch.zeros(len(boxes), dtype=torch.int64)
    else:
        instances.pred_classes = torch.as_tensor(classes, dtype=torch.int64)
    instances.scores = torch.ones(len(boxes))
    return instances
