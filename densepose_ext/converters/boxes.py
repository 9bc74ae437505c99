"""Integer box geometry shared by the converters (the original's truncation rule)."""

import torch

__all__ = ["int_boxes_xywh", "group_by_size"]


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
