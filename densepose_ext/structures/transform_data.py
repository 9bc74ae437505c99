"""Horizontal-flip data for chart annotations and outputs: part swaps and UV remap tables."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..utils.files import ExternalFileError, resolve_file
from .constants import DENSEPOSE_DATA_URL_PREFIX

__all__ = [
    "MASK_LABEL_SYMMETRIES",
    "POINT_LABEL_SYMMETRIES",
    "UV_SYMMETRY_TRANSFORMS_URL",
    "DensePoseTransformData",
]

# Index = label (0 = background). Coarse labels 1..14, fine labels 1..24.
MASK_LABEL_SYMMETRIES = [0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 14]
POINT_LABEL_SYMMETRIES = [
    0,
    1,
    2,
    4,
    3,
    6,
    5,
    8,
    7,
    10,
    9,
    12,
    11,
    14,
    13,
    16,
    15,
    18,
    17,
    20,
    19,
    22,
    21,
    24,
    23,
]
UV_SYMMETRY_TRANSFORMS_URL = DENSEPOSE_DATA_URL_PREFIX + "UV_symmetry_transforms.mat"


@dataclass
class DensePoseTransformData:
    """Part swaps and UV flip tables.

    `uv_symmetries["U_transforms"]` / `["V_transforms"]`: float32 [24, 256, 256] in [0, 1]; for
    part p (1-based) a point (u, v) flips to `table[p - 1, floor(255 v), floor(255 u)]` (row = V).
    """

    mask_label_symmetries: torch.Tensor  # int64 [15]
    point_label_symmetries: torch.Tensor  # int64 [25]
    uv_symmetries: dict
    device: torch.device = torch.device("cpu")

    def to(self, device: Any, copy: bool = False) -> "DensePoseTransformData":
        if self.device == torch.device(device) and not copy:
            return self
        return DensePoseTransformData(
            self.mask_label_symmetries.to(device),
            self.point_label_symmetries.to(device),
            {k: v.to(device) for k, v in self.uv_symmetries.items()},
            torch.device(device),
        )

    @staticmethod
    def load(path_or_url: str = UV_SYMMETRY_TRANSFORMS_URL) -> "DensePoseTransformData":
        """Reads `UV_symmetry_transforms.mat` (official float tables or the uint8 copy)."""
        from scipy.io import loadmat

        local = resolve_file(
            path_or_url,
            what="UV symmetry tables (UV_symmetry_transforms.mat)",
            hint=f"Download {UV_SYMMETRY_TRANSFORMS_URL} and pass its local path.",
        )
        try:
            mat = loadmat(local)
        except Exception as e:
            raise ExternalFileError(f"{local}: not a readable MATLAB file ({e})") from e
        tables = {}
        for key in ("U_transforms", "V_transforms"):
            if key not in mat:
                raise ExternalFileError(f"{local}: missing variable {key!r}")
            cells = [np.asarray(mat[key][0, i]) for i in range(mat[key].shape[1])]
            if len(cells) != 24 or any(c.shape != (256, 256) for c in cells):
                raise ExternalFileError(f"{local}: {key} must be 1x24 cells of 256x256 tables")
            stacked = np.stack(cells).astype(np.float32)
            if np.issubdtype(cells[0].dtype, np.integer):
                stacked /= 255.0  # quantised copy: steps of 1/255
            tables[key] = torch.from_numpy(stacked)
        return DensePoseTransformData(
            torch.tensor(MASK_LABEL_SYMMETRIES, dtype=torch.int64),
            torch.tensor(POINT_LABEL_SYMMETRIES, dtype=torch.int64),
            tables,
        )
