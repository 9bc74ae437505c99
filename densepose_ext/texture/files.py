"""A texture file of either layout as a chart atlas (the format: `vis.texture_atlas`)."""

from typing import Optional

import numpy as np

from ..utils.files import ExternalFileError
from ..vis.texture_atlas import TextureAtlas, load_texture_atlas, read_texture
from .smpl_layout import smpl_to_atlas

__all__ = ["load_texture"]


def load_texture(path: str, tile: Optional[int] = None) -> TextureAtlas:
    """A chart atlas from an atlas file (`load_texture_atlas`), or from an SMPL texture converted
    on the fly (to `tile`-texel tiles, default 200; unknown texels transparent)."""
    bgr, known, layout = read_texture(path)
    if layout == "atlas":
        return load_texture_atlas(path)
    bgr, known = smpl_to_atlas(bgr, known, tile=tile or 200)
    if not known.any():
        raise ExternalFileError(f"texture {path!r} has no visible texel (all black/transparent)")
    return TextureAtlas(bgr.astype(np.float32), known.astype(np.float32), str(path))
