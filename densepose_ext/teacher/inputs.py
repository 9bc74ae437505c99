"""Teacher input tensors: crop image, person mask and (optionally) rasterised annotated points."""

from typing import Optional

import numpy as np

from ..structures.constants import BOX_FRAME_SIZE, N_FINE_PARTS
from .crops import PersonCrop
from .model import TeacherConfig, input_channels

__all__ = ["rasterise_points", "teacher_input"]


def rasterise_points(
    x: np.ndarray, y: np.ndarray, i: np.ndarray, u: np.ndarray, v: np.ndarray, size: int
) -> np.ndarray:
    """Points (box frame) -> float32 [27, S, S]: presence, one-hot part 1..24, U, V at the crop
    pixel under each point (a later point overwrites an earlier one in the same pixel)."""
    planes = np.zeros((3 + N_FINE_PARTS, size, size), np.float32)
    if x.size == 0:
        return planes
    cols = np.clip(np.floor(x * size / BOX_FRAME_SIZE), 0, size - 1).astype(np.int64)
    rows = np.clip(np.floor(y * size / BOX_FRAME_SIZE), 0, size - 1).astype(np.int64)
    planes[0, rows, cols] = 1.0
    parts = np.clip(i, 1, N_FINE_PARTS)
    planes[parts, rows, cols] = 1.0
    planes[1 + N_FINE_PARTS, rows, cols] = u
    planes[2 + N_FINE_PARTS, rows, cols] = v
    return planes


def teacher_input(
    crop: PersonCrop, config: TeacherConfig, keep: Optional[np.ndarray] = None
) -> np.ndarray:
    """float32 [C_in, S, S] for one crop; `keep` [P] bool selects the points shown to a
    point-input teacher (default: all of them)."""
    planes = [crop.image, crop.mask[None]]
    if config.point_input:
        sel = np.ones(crop.x.shape, bool) if keep is None else keep
        points = rasterise_points(
            crop.x[sel], crop.y[sel], crop.i[sel], crop.u[sel], crop.v[sel], crop.size
        )
        planes.append(points * crop.mask[None])
    out = np.concatenate(planes, axis=0)
    assert out.shape[0] == input_channels(config), out.shape
    return out
