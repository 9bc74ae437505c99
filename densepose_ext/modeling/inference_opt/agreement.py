"""How far the optimized model's results may be from the plain model's (issue 15 tolerances).

Box corners within 0.5 px; part labels equal on >= 99.9 % of box pixels; U and V within 0.01 at
the 99th percentile of the pixels labelled the same (foreground); CSE closest vertex equal on
>= 99.5 % of the pixels that both call foreground.
"""

from dataclasses import dataclass
from typing import Sequence

import torch

__all__ = [
    "TOLERANCES",
    "Agreement",
    "AgreementTolerances",
    "chart_agreement",
    "cse_agreement",
    "max_box_difference",
]


@dataclass(frozen=True)
class AgreementTolerances:
    box_px: float = 0.5
    label_fraction: float = 0.999
    uv_p99: float = 0.01
    vertex_fraction: float = 0.995


TOLERANCES = AgreementTolerances()


@dataclass
class Agreement:
    """Measured agreement; `ok` compares it with `TOLERANCES` (fields not measured are None)."""

    label_fraction: float = 1.0
    uv_p99: float = 0.0
    vertex_fraction: float = 1.0
    pixels: int = 0

    def ok(self, tolerances: AgreementTolerances = TOLERANCES) -> bool:
        return (
            self.label_fraction >= tolerances.label_fraction
            and self.uv_p99 <= tolerances.uv_p99
            and self.vertex_fraction >= tolerances.vertex_fraction
        )


def max_box_difference(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> float:
    """Largest absolute corner difference (px) of two [N, 4] box tensors of the same length."""
    if boxes_a.shape != boxes_b.shape:
        raise ValueError(f"different numbers of boxes: {tuple(boxes_a.shape)} vs {boxes_b.shape}")
    if boxes_a.numel() == 0:
        return 0.0
    return float((boxes_a.float() - boxes_b.float()).abs().max())


def chart_agreement(results_a: Sequence, results_b: Sequence) -> Agreement:
    """Agreement of two lists of chart results (`labels` [h, w], `uv` [2, h, w]) box by box."""
    if len(results_a) != len(results_b):
        raise ValueError(f"{len(results_a)} vs {len(results_b)} results")
    equal, total, uv_diffs = 0, 0, []
    for a, b in zip(results_a, results_b):
        same = a.labels == b.labels
        equal += int(same.sum())
        total += same.numel()
        fg = same & (a.labels > 0)
        uv_diffs.append((a.uv.float() - b.uv.float()).abs()[:, fg].flatten())
    diffs = torch.cat(uv_diffs) if uv_diffs else torch.zeros(0)
    return Agreement(
        label_fraction=equal / total if total else 1.0,
        uv_p99=float(torch.quantile(diffs[:1_000_000], 0.99)) if diffs.numel() else 0.0,
        pixels=total,
    )


def cse_agreement(results_a: Sequence, results_b: Sequence) -> Agreement:
    """Agreement of two lists of CSE results (`mask`, `vertices` [h, w]) box by box."""
    if len(results_a) != len(results_b):
        raise ValueError(f"{len(results_a)} vs {len(results_b)} results")
    equal, total, mask_equal, pixels = 0, 0, 0, 0
    for a, b in zip(results_a, results_b):
        both = a.mask & b.mask
        equal += int((a.vertices[both] == b.vertices[both]).sum())
        total += int(both.sum())
        mask_equal += int((a.mask == b.mask).sum())
        pixels += a.mask.numel()
    return Agreement(
        label_fraction=mask_equal / pixels if pixels else 1.0,
        vertex_fraction=equal / total if total else 1.0,
        pixels=pixels,
    )
