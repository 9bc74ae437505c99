"""Teacher input tensors: crop image, person mask and (optionally) the annotated points, spread
over the crop by nearest-point filling (the trivial inpainting the teacher learns to improve)."""

from typing import Optional

import numpy as np

from ..structures.constants import BOX_FRAME_SIZE, N_FINE_PARTS
from .crops import PersonCrop
from .model import TeacherConfig, input_channels

__all__ = ["nearest_point_planes", "teacher_input"]


def nearest_point_planes(
    x: np.ndarray, y: np.ndarray, i: np.ndarray, u: np.ndarray, v: np.ndarray, size: int
) -> np.ndarray:
    """Points (box frame) -> float32 [27, S, S], every crop pixel filled from its nearest point:
    distance to it (in crop pixels / S), its one-hot part 1..24, its U, V. No points: all 0."""
    planes = np.zeros((3 + N_FINE_PARTS, size, size), np.float32)
    if x.size == 0:
        return planes
    centres = (np.arange(size) + 0.5) * BOX_FRAME_SIZE / size
    d2 = (centres[None, :, None] - x[None, None, :]) ** 2 + (
        centres[:, None, None] - y[None, None, :]
    ) ** 2  # [S, S, P] in box-frame units
    nearest = d2.argmin(axis=2)
    rows, cols = np.mgrid[0:size, 0:size]
    planes[0] = np.sqrt(d2[rows, cols, nearest]) / BOX_FRAME_SIZE
    parts = np.clip(i, 1, N_FINE_PARTS)[nearest]
    planes[parts, rows, cols] = 1.0
    planes[1 + N_FINE_PARTS] = u[nearest]
    planes[2 + N_FINE_PARTS] = v[nearest]
    return planes


def teacher_input(
    crop: PersonCrop, config: TeacherConfig, keep: Optional[np.ndarray] = None
) -> np.ndarray:
    """float32 [C_in, S, S] for one crop; `keep` [P] bool selects the points shown to a
    point-input teacher (default: all of them)."""
    planes = [crop.image, crop.mask[None]]
    if config.point_input:
        sel = np.ones(crop.x.shape, bool) if keep is None else keep
        points = nearest_point_planes(
            crop.x[sel], crop.y[sel], crop.i[sel], crop.u[sel], crop.v[sel], crop.size
        )
        planes.append(points)
    out = np.concatenate(planes, axis=0)
    assert out.shape[0] == input_channels(config), out.shape
    return out
