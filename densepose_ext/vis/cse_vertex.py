"""`dp_vertex`: CSE closest-vertex maps coloured by a per-vertex scalar through a colormap."""

import logging
from typing import Callable, Dict, Mapping, Optional

import numpy as np

from ..data.meshes import create_mesh
from ..utils.files import ExternalFileError, resolve_file
from .base import VisStyle, Visualizer, apply_colormap, blend_in_box

__all__ = ["VertexVisualizer", "SMPL_MDS_URL", "mds_vertex_scalars", "xyz_vertex_scalars"]

logger = logging.getLogger(__name__)

DEFAULT_COLORMAP = "jet"
SMPL_MDS_URL = "https://dl.fbaipublicfiles.com/densepose/data/cse/mds_d=256.npy"


def _normalise(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64) - values.min()
    top = values.max()
    return (values / top if top > 0 else values).astype(np.float32)


def xyz_vertex_scalars(mesh_name: str) -> np.ndarray:
    """float32 [V] in [0, 1]: (min-max normalised x + y + z of each vertex) squared."""
    vertices = create_mesh(mesh_name).vertices.cpu().numpy()
    return _normalise(vertices.sum(axis=1)) ** 2


def mds_vertex_scalars(path_or_url: str) -> np.ndarray:
    """float32 [V] in [0, 1]: first column of a multidimensional-scaling embedding [V, D] (.npy)."""
    local = resolve_file(path_or_url, what="vertex MDS embedding (.npy)")
    try:
        mds = np.load(local)
    except Exception as e:
        raise ExternalFileError(f"cannot read vertex MDS embedding {path_or_url!r}: {e}") from e
    return _normalise(np.asarray(mds, dtype=np.float64).reshape(len(mds), -1)[:, 0])


def default_vertex_scalars(
    mds_files: Optional[Mapping[str, str]] = None,
) -> Callable[[str], np.ndarray]:
    """mesh name -> per-vertex scalars: an MDS file where one is given (the original uses
    `SMPL_MDS_URL` for smpl_27554), else the xyz rule; a missing MDS file falls back to xyz."""
    mds_files = dict(mds_files or {})

    def scalars(mesh_name: str) -> np.ndarray:
        if mesh_name in mds_files:
            try:
                return mds_vertex_scalars(mds_files[mesh_name])
            except ExternalFileError as e:
                logger.warning(f"dp_vertex: {e}; colouring {mesh_name} by vertex position instead")
        return xyz_vertex_scalars(mesh_name)

    return scalars


class VertexVisualizer(Visualizer):
    """Each foreground pixel coloured by the scalar of its closest vertex (·255, colormap),
    blended."""

    name = "dp_vertex"

    def __init__(self, style: VisStyle = VisStyle(), vertex_scalars: Optional[Callable] = None):
        self.colormap = style.colormap or DEFAULT_COLORMAP
        self.alpha = style.alpha
        self.vertex_scalars = vertex_scalars or default_vertex_scalars({"smpl_27554": SMPL_MDS_URL})
        self._cache: Dict[str, np.ndarray] = {}

    def _scalars(self, mesh_name: str) -> np.ndarray:
        if mesh_name not in self._cache:
            self._cache[mesh_name] = np.asarray(self.vertex_scalars(mesh_name), dtype=np.float32)
        return self._cache[mesh_name]

    def draw(self, canvas: np.ndarray, prediction) -> None:
        for box, result in zip(prediction.int_boxes_xywh, prediction.cse_results()):
            mask = result.mask.numpy().astype(bool)
            if not mask.any():
                continue
            values = self._scalars(result.mesh_name)[result.vertices.numpy()]  # [h, w]
            scaled = np.clip(values * 255.0, 0, 255).astype(np.uint8)
            blend_in_box(canvas, box, apply_colormap(scaled, self.colormap), mask, self.alpha)
