"""`dp_cse_texture`: texture transfer through mesh texture coordinates of the closest vertices."""

import logging
from typing import Dict, Mapping

import numpy as np

from ..data.meshes import create_mesh
from .base import Visualizer, blend_in_box
from .texture_atlas import TextureAtlas, load_texture_atlas

__all__ = ["CseTextureVisualizer", "texcoord_texel_coordinates"]

logger = logging.getLogger(__name__)


def texcoord_texel_coordinates(texcoords: np.ndarray, atlas_hw) -> tuple:
    """[P, 2] (u, v) -> atlas (rows, cols) int64: x = u·W, y = v·H (clamped; V is not flipped)."""
    height, width = atlas_hw
    tc = np.clip(texcoords, 0.0, 1.0)
    cols = np.minimum((tc[:, 0] * width).astype(np.int64), width - 1)
    rows = np.minimum((tc[:, 1] * height).astype(np.int64), height - 1)
    return rows, cols


class CseTextureVisualizer(Visualizer):
    """Foreground pixels take the atlas texel at their closest vertex's texture coordinates.

    `atlases` maps mesh name -> atlas (path, URL or `TextureAtlas`); boxes of other meshes are
    left untouched.
    """

    name = "dp_cse_texture"

    def __init__(self, atlases: Mapping[str, object]):
        if not atlases:
            raise ValueError("dp_cse_texture needs at least one mesh -> atlas entry")
        self.atlases: Dict[str, TextureAtlas] = {
            mesh: (a if isinstance(a, TextureAtlas) else load_texture_atlas(a))
            for mesh, a in atlases.items()
        }
        self._texcoords: Dict[str, np.ndarray] = {}
        self._warned = set()

    def _mesh_texcoords(self, mesh_name: str) -> np.ndarray:
        if mesh_name not in self._texcoords:
            self._texcoords[mesh_name] = create_mesh(mesh_name).texcoords.cpu().numpy()
        return self._texcoords[mesh_name]

    def draw(self, canvas: np.ndarray, prediction) -> None:
        for box, result in zip(prediction.int_boxes_xywh, prediction.cse_results()):
            atlas = self.atlases.get(result.mesh_name)
            if atlas is None:
                if result.mesh_name not in self._warned:
                    logger.warning(
                        f"dp_cse_texture: no atlas for mesh {result.mesh_name!r}; skipped"
                    )
                    self._warned.add(result.mesh_name)
                continue
            mask = result.mask.numpy().astype(bool)
            if not mask.any():
                continue
            texcoords = self._mesh_texcoords(result.mesh_name)[result.vertices.numpy()[mask]]
            texels, opacity = atlas.sample(*texcoord_texel_coordinates(texcoords, atlas.shape_hw))
            overlay = np.zeros(mask.shape + (3,), dtype=np.float32)
            alpha = np.zeros(mask.shape, dtype=np.float32)
            overlay[mask], alpha[mask] = texels, opacity
            blend_in_box(canvas, box, overlay, mask, alpha)
