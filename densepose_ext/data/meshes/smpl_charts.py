"""The DensePose chart definition of the SMPL surface (`UV_Processed.mat`).

Charts split the 6890-vertex SMPL surface into 24 parts; a SMPL vertex on a part border has one
chart vertex per part it belongs to (7829 chart vertices in total).
"""

from dataclasses import dataclass

import numpy as np

from ...utils.files import ExternalFileError, resolve_file

__all__ = ["SmplChartData", "load_smpl_chart_data"]

_REQUIRED_KEYS = ("All_FaceIndices", "All_Faces", "All_U_norm", "All_V_norm", "All_vertices")


@dataclass
class SmplChartData:
    """All indices 0-based except `face_parts` (part labels 1..24).

    face_parts int64 [F]; faces int64 [F, 3] into chart vertices; u, v float32 [C] in [0, 1];
    chart_to_smpl int64 [C] SMPL vertex of each chart vertex.
    """

    face_parts: np.ndarray
    faces: np.ndarray
    u: np.ndarray
    v: np.ndarray
    chart_to_smpl: np.ndarray

    @property
    def num_smpl_vertices(self) -> int:
        return int(self.chart_to_smpl.max()) + 1


def load_smpl_chart_data(path_or_url: str) -> SmplChartData:
    """Reads a UV_Processed.mat-style file (path or URL, cached) and converts indices to 0-based."""
    from scipy.io import loadmat

    local = resolve_file(path_or_url, what="SMPL chart definition (UV_Processed.mat)")
    try:
        mat = loadmat(local)
    except Exception as e:
        raise ExternalFileError(f"cannot read SMPL chart definition {path_or_url!r}: {e}") from e
    missing = [k for k in _REQUIRED_KEYS if k not in mat]
    if missing:
        raise ExternalFileError(f"SMPL chart definition {path_or_url!r} lacks {missing}")
    data = SmplChartData(
        face_parts=np.asarray(mat["All_FaceIndices"]).reshape(-1).astype(np.int64),
        faces=np.asarray(mat["All_Faces"]).astype(np.int64) - 1,
        u=np.asarray(mat["All_U_norm"]).reshape(-1).astype(np.float32),
        v=np.asarray(mat["All_V_norm"]).reshape(-1).astype(np.float32),
        chart_to_smpl=np.asarray(mat["All_vertices"]).reshape(-1).astype(np.int64) - 1,
    )
    num_chart = data.u.shape[0]
    ok = (
        data.faces.ndim == 2
        and data.faces.shape[1] == 3
        and data.face_parts.shape[0] == data.faces.shape[0]
        and data.v.shape[0] == num_chart == data.chart_to_smpl.shape[0]
        and data.faces.min() >= 0
        and data.faces.max() < num_chart
        and data.chart_to_smpl.min() >= 0
    )
    if not ok:
        raise ExternalFileError(
            f"SMPL chart definition {path_or_url!r} has inconsistent shapes or indices"
        )
    return data
