"""The teacher's loss: the DensePose chart point losses (I cross-entropy, per-part U / V
smooth-L1) on the annotated points only, sampled with the chart loss helpers."""

from dataclasses import dataclass
from typing import Dict, Optional

import torch
import torch.nn.functional as F

from ..modeling.losses.utils import PointSamples, extract_at_points
from ..structures.constants import BOX_FRAME_SIZE
from .model import TeacherOutput

__all__ = ["TeacherLossWeights", "crop_point_samples", "teacher_loss"]


@dataclass
class TeacherLossWeights:
    """Weights of the terms: `part` x mean CE, `uv` x mean smooth-L1 (beta `beta`) per axis."""

    part: float = 1.0
    uv: float = 1.0
    beta: float = 0.1


def crop_point_samples(x: torch.Tensor, y: torch.Tensor, size: int) -> PointSamples:
    """Bilinear sampling positions on an S x S crop output of box-frame points x, y [P].

    Crop pixel c is centred on box-frame (c + 0.5) * 256 / S, so the grid coordinate is
    x * S / 256 - 0.5, clamped to the border pixels.
    """

    def axis(v):
        g = (v * size / BOX_FRAME_SIZE - 0.5).clamp(0, size - 1)
        lo = g.floor().long()
        hi = (lo + 1).clamp(max=size - 1)
        return lo, hi, g - lo.to(g.dtype)

    x_lo, x_hi, w_x = axis(x)
    y_lo, y_hi, w_y = axis(y)
    valid = torch.ones_like(x, dtype=torch.bool)
    return PointSamples(valid, x_lo, x_hi, y_lo, y_hi, w_x, w_y)


def teacher_loss(
    outputs: TeacherOutput,
    crop_indices: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    i: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    weights: Optional[TeacherLossWeights] = None,
) -> Dict[str, torch.Tensor]:
    """Losses of a batch at its supervised points.

    crop_indices [P] int64 (row of the outputs), x, y [P] box-frame coordinates, i [P] parts
    1..24, u, v [P]. Returns `loss_I`, `loss_U`, `loss_V` (already weighted).
    """
    weights = weights or TeacherLossWeights()
    size = outputs.fine_segm.shape[-1]
    samples = crop_point_samples(x, y, size)
    logits = extract_at_points(outputs.fine_segm, crop_indices, samples)  # [P, 25]
    losses = {"loss_I": F.cross_entropy(logits, i) * weights.part}
    for name, values, target in (("U", outputs.u, u), ("V", outputs.v, v)):
        est = extract_at_points(values, crop_indices, samples, channels=i)  # [P]
        losses[f"loss_{name}"] = (
            F.smooth_l1_loss(est, target, beta=weights.beta, reduction="mean") * weights.uv
        )
    return losses
