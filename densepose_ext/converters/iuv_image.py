"""Per-box chart results -> one full-image IUV map and instance-index map (Caffe2 DensePose format).

Convention: instances are painted in increasing score order, each over its foreground pixels
(label > 0) only, so where instances overlap the higher-scoring one is on top (ties: the later
instance in the input order wins). `iuv` is uint8 [H, W, 3] with channels I (part 0..24),
U·255, V·255 (clamped to [0, 255], truncated, as in the quantised result). `inds` is uint8
[H, W]: 0 = background, k = the k-th instance of the input list (1-based), i.e. it indexes the
given results, not their score order.
"""

from typing import List, Sequence, Tuple

import torch

from ..structures.chart_result import DensePoseChartResult
from .boxes import int_boxes_xywh

__all__ = ["make_iuv_image"]


def make_iuv_image(
    results: Sequence[DensePoseChartResult],
    boxes_xyxy: torch.Tensor,
    scores: torch.Tensor,
    image_size_hw: Tuple[int, int],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Composes N per-box results ([h, w] in their integer boxes) into (iuv [H,W,3], inds [H,W])."""
    height, width = image_size_hw
    if len(results) != len(boxes_xyxy) or len(results) != len(scores):
        raise ValueError("results, boxes and scores must have the same length")
    if len(results) > 255:
        raise ValueError("at most 255 instances fit a uint8 instance-index map")
    iuv = torch.zeros((height, width, 3), dtype=torch.uint8)
    inds = torch.zeros((height, width), dtype=torch.uint8)
    int_boxes = int_boxes_xywh(boxes_xyxy).tolist()
    order: List[int] = torch.argsort(torch.as_tensor(scores).cpu(), stable=True).tolist()
    for i in order:
        x, y, w, h = int_boxes[i]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            continue
        result = results[i]
        labels = result.labels[y0 - y : y1 - y, x0 - x : x1 - x].cpu()
        uv = result.uv[:, y0 - y : y1 - y, x0 - x : x1 - x].cpu()
        box_iuv = torch.stack(
            [labels.to(torch.uint8), *(uv * 255.0).clamp(0, 255).to(torch.uint8)], dim=-1
        )  # [h', w', 3]
        fg = labels > 0
        iuv[y0:y1, x0:x1][fg] = box_iuv[fg]
        inds[y0:y1, x0:x1][fg] = i + 1
    return iuv, inds
