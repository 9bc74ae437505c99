"""`dp_iuv_texture`: texture transfer from a DensePose chart atlas onto the detected bodies."""

import numpy as np

from .base import Visualizer, blend_in_box
from .texture_atlas import ATLAS_COLS, ATLAS_ROWS, TextureAtlas, atlas_tile_size, load_texture_atlas

__all__ = ["IUVTextureVisualizer", "chart_texel_coordinates"]


def chart_texel_coordinates(labels: np.ndarray, u: np.ndarray, v: np.ndarray, tile: int):
    """Atlas (rows, cols) int64 of chart points with part labels 1..24 and U, V (clamped to [0, 1]).

    Part p sits in tile column (p−1)//6, row (p−1)%6; inside a tile x = U·(N−1), y = (1−V)·(N−1)
    (truncated), N = tile side.
    """
    part = labels.astype(np.int64) - 1
    u = np.clip(u, 0.0, 1.0)
    v = np.clip(v, 0.0, 1.0)
    x = (u * (tile - 1)).astype(np.int64)
    y = ((1.0 - v) * (tile - 1)).astype(np.int64)
    return (part % ATLAS_ROWS) * tile + y, (part // ATLAS_ROWS) * tile + x


class IUVTextureVisualizer(Visualizer):
    """Replaces body pixels by atlas texels, blended with the atlas opacity."""

    name = "dp_iuv_texture"

    def __init__(self, atlas):
        self.atlas = atlas if isinstance(atlas, TextureAtlas) else load_texture_atlas(atlas)
        self.tile = atlas_tile_size(self.atlas.shape_hw, self.atlas.source)

    def draw(self, canvas: np.ndarray, prediction) -> None:
        for box, result in zip(prediction.int_boxes_xywh, prediction.chart_results()):
            labels = result.labels.numpy()
            mask = (labels > 0) & (labels <= ATLAS_ROWS * ATLAS_COLS)
            if not mask.any():
                continue
            uv = result.uv.numpy()
            rows, cols = chart_texel_coordinates(labels[mask], uv[0][mask], uv[1][mask], self.tile)
            texels, opacity = self.atlas.sample(rows, cols)
            overlay = np.zeros(labels.shape + (3,), dtype=np.float32)
            alpha = np.zeros(labels.shape, dtype=np.float32)
            overlay[mask], alpha[mask] = texels, opacity
            blend_in_box(canvas, box, overlay, mask, alpha)
