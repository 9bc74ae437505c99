"""Triangle meshes of the CSE models: vertices, faces and lazily loaded per-vertex extras.

File formats (pickles, read with latin1 so Python 2 pickles load):
  mesh       dict(vertices [N, 3], faces [M, 3] 0-based)
  geodists   [N, N] geodesic distances between vertices
  symmetry   dict(vertex_transforms [N]): vertex index after a horizontal flip (0-based)
  texcoords  [N, 2] texture coordinates
"""

import pickle
from typing import Any, Dict, Optional

import numpy as np
import torch

from ..utils.files import ExternalFileError, resolve_file

__all__ = ["Mesh", "MeshLoadError", "load_mesh", "read_pickle"]


class MeshLoadError(ExternalFileError):
    """A mesh file (or one of its extras) is missing, unreadable or does not describe a mesh."""


def read_pickle(path_or_url: str, what: str) -> Any:
    """Loads a pickle from a local path or URL (cached); errors name the file."""
    local = resolve_file(path_or_url, what=what)
    try:
        with open(local, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except Exception as e:  # truncated / not a pickle / unknown classes
        raise MeshLoadError(f"cannot read {what} {path_or_url!r} (local {local!r}): {e}") from e


def _as_array(value: Any, what: str, source: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception as e:
        raise MeshLoadError(f"{what} in {source!r} is not an array: {e}") from e


def _check_float_array(arr: np.ndarray, shape: tuple, what: str, source: str) -> np.ndarray:
    """Checks ndim / fixed dims (None = any) and finiteness; returns float32."""
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        raise MeshLoadError(f"{what} in {source!r} has shape {arr.shape}, expected {shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise MeshLoadError(f"{what} in {source!r} has non-numeric dtype {arr.dtype}")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise MeshLoadError(f"{what} in {source!r} contains NaN or infinite values")
    return arr


def _check_indices(
    arr: np.ndarray, shape: tuple, num_vertices: int, what: str, source: str
) -> np.ndarray:
    """Checks shape and that every entry is an integer vertex index in [0, num_vertices)."""
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        raise MeshLoadError(f"{what} in {source!r} has shape {arr.shape}, expected {shape}")
    if arr.dtype.kind not in "iuf":
        raise MeshLoadError(f"{what} in {source!r} has non-numeric dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and np.all(arr == np.round(arr))):
        raise MeshLoadError(f"{what} in {source!r} has non-integer or non-finite values")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= num_vertices):
        raise MeshLoadError(
            f"{what} in {source!r} has indices in [{arr.min()}, {arr.max()}], "
            f"outside [0, {num_vertices}) for a mesh with {num_vertices} vertices"
        )
    return arr


def _load_vertices_faces(path_or_url: str, name: str):
    """Reads and validates the mesh pickle; returns (vertices float32 [N,3], faces int64 [M,3])."""
    data = read_pickle(path_or_url, what=f"mesh file of {name!r}")
    if not isinstance(data, dict) or "vertices" not in data or "faces" not in data:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise MeshLoadError(
            f"mesh file {path_or_url!r} of {name!r} must hold dict(vertices, faces); got {keys}"
        )
    vertices = _check_float_array(
        _as_array(data["vertices"], "vertices", path_or_url), (None, 3), "vertices", path_or_url
    )
    if vertices.shape[0] == 0:
        raise MeshLoadError(f"mesh file {path_or_url!r} of {name!r} has no vertices")
    if not np.any(vertices):
        raise MeshLoadError(
            f"mesh file {path_or_url!r} of {name!r}: all {vertices.shape[0]} vertex positions are "
            "zero. "
            "This is a known defect of the official download of the human mesh (smpl_27554.pkl). "
            "Get a correct copy (the vertices are the 1-to-4 midpoint subdivision of the SMPL "
            "template) and register it with "
            "register_mesh(MeshInfo(name=..., data=<local path>, ...)) or replace the cached file."
        )
    faces_raw = _as_array(data["faces"], "faces", path_or_url)
    faces = _check_indices(faces_raw, (None, 3), vertices.shape[0], "faces", path_or_url)
    return vertices, faces


class Mesh:
    """A triangle mesh on `device`; geodesics, symmetry and texcoords load on first access.

    vertices float32 [N, 3]; faces int64 [M, 3]; geodists float32 [N, N];
    symmetry {"vertex_transforms": int64 [N]}; texcoords float32 [N, 2].
    """

    def __init__(
        self,
        vertices: torch.Tensor,
        faces: torch.Tensor,
        geodists: Optional[torch.Tensor] = None,
        symmetry: Optional[Dict[str, torch.Tensor]] = None,
        texcoords: Optional[torch.Tensor] = None,
        name: str = "",
        geodists_file: Optional[str] = None,
        symmetry_file: Optional[str] = None,
        texcoords_file: Optional[str] = None,
        device: Optional[torch.device] = None,
    ):
        self.name = name
        self.device = torch.device(device) if device is not None else vertices.device
        self.vertices = vertices.to(self.device)
        self.faces = faces.to(self.device)
        self._geodists = geodists
        self._symmetry = symmetry
        self._texcoords = texcoords
        self._geodists_file = geodists_file
        self._symmetry_file = symmetry_file
        self._texcoords_file = texcoords_file

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    def _missing(self, what: str) -> MeshLoadError:
        return MeshLoadError(f"mesh {self.name!r} has no {what} file registered")

    @property
    def geodists(self) -> torch.Tensor:
        if self._geodists is None:
            if not self._geodists_file:
                raise self._missing("geodesic distances")
            src = self._geodists_file
            arr = _as_array(
                read_pickle(src, f"geodesic distances of {self.name!r}"), "geodists", src
            )
            n = self.num_vertices
            self._geodists = torch.from_numpy(_check_float_array(arr, (n, n), "geodists", src))
        return self._geodists.to(self.device)

    @property
    def symmetry(self) -> Dict[str, torch.Tensor]:
        if self._symmetry is None:
            if not self._symmetry_file:
                raise self._missing("symmetry")
            src = self._symmetry_file
            data = read_pickle(src, f"symmetry of {self.name!r}")
            if not isinstance(data, dict) or "vertex_transforms" not in data:
                raise MeshLoadError(f"symmetry file {src!r} must hold dict(vertex_transforms=[N])")
            raw = _as_array(data["vertex_transforms"], "vertex_transforms", src).reshape(-1)
            n = self.num_vertices
            transforms = _check_indices(raw, (n,), n, "vertex_transforms", src)
            self._symmetry = {"vertex_transforms": torch.from_numpy(transforms)}
        return {k: v.to(self.device) for k, v in self._symmetry.items()}

    @property
    def texcoords(self) -> torch.Tensor:
        if self._texcoords is None:
            if not self._texcoords_file:
                raise self._missing("texture coordinates")
            src = self._texcoords_file
            arr = _as_array(
                read_pickle(src, f"texture coordinates of {self.name!r}"), "texcoords", src
            )
            n = self.num_vertices
            self._texcoords = torch.from_numpy(_check_float_array(arr, (n, 2), "texcoords", src))
        return self._texcoords.to(self.device)

    def to(self, device: Any) -> "Mesh":
        """A copy on `device` sharing the not-yet-loaded file references."""
        return Mesh(
            self.vertices,
            self.faces,
            self._geodists,
            self._symmetry,
            self._texcoords,
            self.name,
            self._geodists_file,
            self._symmetry_file,
            self._texcoords_file,
            device,
        )


def load_mesh(info: Any, device: Any = "cpu") -> Mesh:
    """Builds a `Mesh` from a mesh description with attributes name, data, geodists, symmetry,
    texcoords (paths or URLs; see `densepose_ext.data.meshes.MeshInfo`). Vertices and faces are read
    and validated now, the extras on first access."""
    vertices, faces = _load_vertices_faces(info.data, info.name)
    return Mesh(
        torch.from_numpy(vertices),
        torch.from_numpy(faces),
        name=info.name,
        geodists_file=info.geodists,
        symmetry_file=info.symmetry,
        texcoords_file=info.texcoords,
        device=device,
    )
