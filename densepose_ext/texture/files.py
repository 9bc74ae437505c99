"""Texture image files: chart atlases (6N x 4N) and SMPL textures (square), told apart by shape.

Known texels: the alpha channel (> 0) of a 4-channel image, else the non-black texels (the
convention of `load_texture_atlas`). Written textures carry their known texels as alpha.
"""

from typing import Optional, Tuple

import numpy as np

from ..utils.files import ExternalFileError
from ..vis.texture_atlas import ATLAS_COLS, ATLAS_ROWS, TextureAtlas, load_texture_atlas
from ..vis.texture_atlas import read_texture_image as read_image
from .smpl_layout import smpl_to_atlas

__all__ = ["layout_of", "load_texture", "read_texture_image", "with_alpha"]


def layout_of(shape_hw, source: str = "") -> str:
    """ "atlas" (6N x 4N), "smpl" (square) or `ExternalFileError` naming `source`."""
    height, width = (int(s) for s in shape_hw[:2])
    if height == width and height > 1:
        return "smpl"
    tile = height // ATLAS_ROWS
    if tile > 1 and height == ATLAS_ROWS * tile and width == ATLAS_COLS * tile:
        return "atlas"
    raise ExternalFileError(
        f"texture {source!r} is {height}x{width} (HxW): expected a chart atlas of 6N x 4N "
        "(6 rows x 4 columns of N x N tiles) or a square SMPL texture"
    )


def read_texture_image(path: str) -> Tuple[np.ndarray, np.ndarray, str]:
    """(bgr uint8 [H, W, 3], known bool [H, W], layout "atlas" / "smpl") of a texture file."""
    image = read_image(path, what="texture")
    layout = layout_of(image.shape, path)
    bgr = np.ascontiguousarray(image[:, :, :3])
    known = image[:, :, 3] > 0 if image.shape[2] == 4 else bgr.max(axis=2) > 0
    return bgr, known, layout


def with_alpha(bgr: np.ndarray, known: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 4]: `bgr` with alpha 255 on known texels, 0 elsewhere."""
    return np.dstack([bgr, np.where(known, 255, 0).astype(np.uint8)])


def load_texture(path: str, tile: Optional[int] = None) -> TextureAtlas:
    """A chart atlas from an atlas file (`load_texture_atlas`), or from an SMPL texture converted
    on the fly (to `tile`-texel tiles, default 200; unknown texels transparent)."""
    bgr, known, layout = read_texture_image(path)
    if layout == "atlas":
        return load_texture_atlas(path)
    bgr, known = smpl_to_atlas(bgr, known, tile=tile or 200)
    if not known.any():
        raise ExternalFileError(f"texture {path!r} has no visible texel (all black/transparent)")
    return TextureAtlas(bgr.astype(np.float32), known.astype(np.float32), str(path))
