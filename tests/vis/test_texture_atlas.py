"""The texture file format: one size rule for atlases, SMPL squares, known texels as alpha."""

import cv2
import numpy as np
import pytest

from densepose_ext.utils.files import ExternalFileError
from densepose_ext.vis.texture_atlas import (
    atlas_tile_size,
    read_texture,
    texture_layout,
    with_alpha,
)


def test_layout_follows_the_atlas_size_rule():
    assert texture_layout((60, 40)) == "atlas" and atlas_tile_size((60, 40)) == 10
    assert texture_layout((64, 64)) == "smpl"
    for shape in ((61, 40), (60, 41), (5, 4)):
        with pytest.raises(ExternalFileError, match="6N x 4N"):
            texture_layout(shape, "t.png")
        with pytest.raises(ExternalFileError, match="6N x 4N"):
            atlas_tile_size(shape, "t.png")


def test_known_texels_round_trip_through_alpha(tmp_path):
    bgr = np.zeros((12, 8, 3), np.uint8)
    bgr[:6] = 200
    known = np.zeros((12, 8), bool)
    known[:3] = True
    cv2.imwrite(str(tmp_path / "a.png"), with_alpha(bgr, known))
    read_bgr, read_known, layout = read_texture(str(tmp_path / "a.png"))
    assert layout == "atlas" and (read_known == known).all() and (read_bgr == bgr).all()
    cv2.imwrite(str(tmp_path / "b.png"), bgr)  # no alpha: the non-black texels are known
    assert (read_texture(str(tmp_path / "b.png"))[1] == (bgr.max(axis=2) > 0)).all()
