"""Per-box CSE result: the closest mesh vertex of every foreground pixel of a box."""

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["DensePoseEmbeddingResult"]


@dataclass
class DensePoseEmbeddingResult:
    """Box-relative vertex map of one detection, [h, w] of its integer (truncated) box.

    mask: bool, coarse-segmentation foreground; vertices: int64 closest vertex id (0-based, 0
    outside the mask); distances: float squared embedding distance to that vertex (0 outside the
    mask); mesh_name: the mesh the vertex ids refer to.
    """

    mask: torch.Tensor
    vertices: torch.Tensor
    distances: torch.Tensor
    mesh_name: str

    def to(self, device: Any) -> "DensePoseEmbeddingResult":
        return DensePoseEmbeddingResult(
            self.mask.to(device),
            self.vertices.to(device),
            self.distances.to(device),
            self.mesh_name,
        )
