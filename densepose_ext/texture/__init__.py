"""Texture tools: extract a person's texture atlas, convert atlas <-> SMPL layouts, re-texture.

Python API (the command line is `python -m densepose_ext.texture`, see docs/texture.md)::

    from densepose_ext.texture import TextureAccumulator, read_iuv_png, select_people

    acc = TextureAccumulator(tile=200)
    for image, iuv_png in frames:
        for person in select_people(read_iuv_png(iuv_png)):
            acc.add(image, person)
    texture = acc.result(fill_distance=10)  # .bgr, .seen, .filled, .bgra(), .coverage_image()
"""

from ..vis.texture_atlas import read_texture
from .extract import WEIGHTINGS, ExtractedTexture, TextureAccumulator, fill_holes, viewing_weights
from .files import load_texture
from .people import (
    NoPersonError,
    PersonChart,
    people_from_iuv,
    people_from_maps,
    people_from_prediction,
    read_iuv_png,
    select_people,
)
from .retexture import PART_GROUPS, parse_parts, retexture
from .smpl_layout import DEFAULT_SMPL_SIZE, atlas_to_smpl, smpl_to_atlas

__all__ = [
    "DEFAULT_SMPL_SIZE",
    "PART_GROUPS",
    "WEIGHTINGS",
    "ExtractedTexture",
    "NoPersonError",
    "PersonChart",
    "TextureAccumulator",
    "atlas_to_smpl",
    "fill_holes",
    "load_texture",
    "parse_parts",
    "people_from_iuv",
    "people_from_maps",
    "people_from_prediction",
    "read_iuv_png",
    "read_texture",
    "retexture",
    "select_people",
    "smpl_to_atlas",
    "viewing_weights",
]
