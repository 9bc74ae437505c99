"""Texture image files: chart atlases (6N x 4N) and SMPL textures (square), told apart by shape.

The one home of the format, for the visualizers and the texture tools: an atlas has 6 rows x 4
columns of N x N tiles, part p (1..24) in column (p-1)//6, row (p-1)%6. Known texels: the alpha
channel (> 0) of a 4-channel image, else the non-black texels; written textures carry their
known texels as alpha (`with_alpha`).
"""

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from ..utils.files import ExternalFileError, resolve_file

__all__ = [
    "ATLAS_COLS",
    "ATLAS_ROWS",
    "TextureAtlas",
    "atlas_tile_size",
    "load_texture_atlas",
    "read_texture",
    "read_texture_image",
    "texture_layout",
    "tile_slices",
    "with_alpha",
]

ATLAS_ROWS, ATLAS_COLS = 6, 4  # tiles of a DensePose chart atlas; 24 parts


def tile_slices(part: int, tile: int) -> tuple:
    """(rows, cols) slices of part `part`'s (1..24) tile: column (p-1)//6, row (p-1)%6."""
    row, col = (part - 1) % ATLAS_ROWS, (part - 1) // ATLAS_ROWS
    return slice(row * tile, (row + 1) * tile), slice(col * tile, (col + 1) * tile)


@dataclass
class TextureAtlas:
    """bgr float32 [H, W, 3] in 0..255 and alpha float32 [H, W] in [0, 1]."""

    bgr: np.ndarray
    alpha: np.ndarray
    source: str = ""

    @property
    def shape_hw(self):
        return self.bgr.shape[:2]

    def sample(self, rows: np.ndarray, cols: np.ndarray):
        """Texel colours [P, 3] and opacities [P] at int64 pixel coordinates (rows, cols)."""
        return self.bgr[rows, cols], self.alpha[rows, cols]


def atlas_tile_size(shape_hw, source: str = "") -> int:
    """Tile side N of a chart atlas of 6N x 4N pixels (H x W); `ExternalFileError` otherwise."""
    height, width = (int(s) for s in shape_hw[:2])
    tile = height // ATLAS_ROWS
    if height % ATLAS_ROWS or width != ATLAS_COLS * tile or tile < 1:
        raise ExternalFileError(
            f"texture atlas {source!r} is {height}x{width} (HxW); expected "
            f"{ATLAS_ROWS}N x {ATLAS_COLS}N (6 rows x 4 columns of N x N tiles)"
        )
    return tile


def texture_layout(shape_hw, source: str = "") -> str:
    """ "smpl" (square), "atlas" (see `atlas_tile_size`) or `ExternalFileError` naming `source`."""
    height, width = (int(s) for s in shape_hw[:2])
    if height == width and height > 1:
        return "smpl"
    try:
        atlas_tile_size(shape_hw, source)
    except ExternalFileError:
        raise ExternalFileError(
            f"texture {source!r} is {height}x{width} (HxW): expected a chart atlas of 6N x 4N "
            "(6 rows x 4 columns of N x N tiles) or a square SMPL texture"
        ) from None
    return "atlas"


def read_texture_image(path_or_url: str, what: str = "texture atlas") -> np.ndarray:
    """uint8 [H, W, 3 or 4] of a texture file (local path or URL, cached download): 16-bit
    images scaled down, grey ones replicated to 3 channels, channels as OpenCV reads them."""
    local = resolve_file(path_or_url, what=what)
    image = cv2.imread(local, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ExternalFileError(f"cannot read {what} {path_or_url!r}: not an image")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image


def load_texture_atlas(path_or_url: str) -> TextureAtlas:
    """Reads an atlas image (local path or URL, cached download).

    Opacity: the 4th channel / 255 for images with alpha, else 1 on non-black texels and 0 on
    black ones. Colours keep the file's colours (read in BGR order, like every canvas here).
    """
    image = read_texture_image(path_or_url)
    bgr = image[:, :, :3].astype(np.float32)
    if image.shape[2] == 4:
        alpha = image[:, :, 3].astype(np.float32) / 255.0
    else:
        alpha = (image[:, :, :3].max(axis=2) > 0).astype(np.float32)
    return TextureAtlas(bgr, alpha, str(path_or_url))


def read_texture(path_or_url: str) -> Tuple[np.ndarray, np.ndarray, str]:
    """(bgr uint8 [H, W, 3], known bool [H, W], layout "atlas" / "smpl") of a texture file."""
    image = read_texture_image(path_or_url, what="texture")
    layout = texture_layout(image.shape, path_or_url)
    bgr = np.ascontiguousarray(image[:, :, :3])
    known = image[:, :, 3] > 0 if image.shape[2] == 4 else bgr.max(axis=2) > 0
    return bgr, known, layout


def with_alpha(bgr: np.ndarray, known: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 4]: `bgr` with alpha 255 on known texels, 0 elsewhere."""
    return np.dstack([bgr, np.where(known, 255, 0).astype(np.uint8)])
