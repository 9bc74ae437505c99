import numpy as np
import pytest

from densepose_ext.texture.people import PersonChart
from densepose_ext.texture.retexture import parse_parts, retexture
from densepose_ext.utils.files import ExternalFileError
from densepose_ext.vis.texture_atlas import TextureAtlas

N = 10  # tile side


def _atlas(alpha=1.0):
    """Texel (r, c) = BGR (r, c, 200): a colour that names its texel."""
    rows, cols = np.meshgrid(np.arange(6 * N), np.arange(4 * N), indexing="ij")
    bgr = np.stack([rows, cols, np.full_like(rows, 200)], axis=-1).astype(np.float32)
    return TextureAtlas(bgr, np.full(rows.shape, alpha, np.float32), "test atlas")


def _person():
    """Box (2, 1, 3, 2): background, part 1 (U 0, V 1), part 7 (U 0.5, V 0.5); part 24 (U 1,
    V 0), part 3 (U 1, V 1), part 2 (U 0.35, V 0.6)."""
    labels = np.array([[0, 1, 7], [24, 3, 2]])
    u = np.array([[0.0, 0.0, 0.5], [1.0, 1.0, 0.35]], np.float32)
    v = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.6]], np.float32)
    return PersonChart((2, 1, 3, 2), labels, u, v, score=0.9)


def test_texels_land_on_their_pixels():
    image = np.full((4, 6, 3), 7, np.uint8)
    out = retexture(image, [_person()], _atlas())
    assert out[1, 2].tolist() == [7, 7, 7]  # background pixel of the box
    assert out[1, 3].tolist() == [0, 0, 200]  # part 1 (column 0, row 0), U 0, V 1: texel (0, 0)
    # part 7: tile column 1, row 0; x = y = 0.5 (N-1) = 4 (truncated)
    assert out[1, 4].tolist() == [4, N + 4, 200]
    assert out[2, 2].tolist() == [5 * N + 9, 3 * N + 9, 200]  # part 24: last tile, U 1, V 0
    assert out[2, 3].tolist() == [2 * N, 9, 200]  # part 3: column 0, row 2; U 1, V 1
    assert out[2, 4].tolist() == [N + 3, 3, 200]  # part 2: row 1; x = 0.35·9, y = 0.4·9 -> 3
    assert out[0].tolist() == image[0].tolist() and out[3].tolist() == image[3].tolist()
    assert (image == 7).all()  # the input is not modified


def test_opacity_parts_and_alpha():
    image = np.full((4, 6, 3), 100, np.uint8)
    half = retexture(image, [_person()], _atlas(), opacity=0.5)
    assert half[1, 3].tolist() == [50, 50, 150]
    clothes = retexture(image, [_person()], _atlas(), parts=parse_parts("clothes"))
    assert clothes[2, 2].tolist() == [100, 100, 100]  # head untouched
    assert clothes[2, 3].tolist() == [100, 100, 100]  # hand untouched
    assert clothes[1, 4].tolist() == [4, N + 4, 200]  # upper leg dressed
    transparent = retexture(image, [_person()], _atlas(alpha=0.0))
    assert (transparent == image).all()


def test_keep_shading_multiplies_by_the_luminance_ratio():
    labels = np.ones((1, 2), np.int64)
    uv = np.full((1, 2), 0.5, np.float32)
    person = PersonChart((0, 0, 2, 1), labels, uv, uv)
    image = np.array([[[50, 50, 50], [150, 150, 150]]], np.uint8)  # part mean luminance 100
    atlas = TextureAtlas(np.full((6 * N, 4 * N, 3), 100, np.float32), np.ones((6 * N, 4 * N)))
    out = retexture(image, [person], atlas, keep_shading=True)
    assert out[0, 0].tolist() == [50, 50, 50] and out[0, 1].tolist() == [150, 150, 150]
    flat = retexture(image, [person], atlas)
    assert (flat == 100).all()


def test_parse_parts():
    assert parse_parts(None) is None and parse_parts("all") is None
    assert parse_parts("torso,hands") == [1, 2, 3, 4]
    assert parse_parts("1, 7-9") == [1, 7, 8, 9]
    assert parse_parts("clothes") == [1, 2] + list(range(7, 23))
    with pytest.raises(ValueError, match="unknown part 'shirt'"):
        parse_parts("shirt")
    with pytest.raises(ValueError, match=r"1..24, got \[25\]"):
        parse_parts("25")


def test_atlas_of_the_wrong_size():
    atlas = TextureAtlas(np.zeros((50, 50, 3), np.float32), np.ones((50, 50)), "square.png")
    with pytest.raises(ExternalFileError, match="square.png.*6 rows x 4 columns"):
        retexture(np.zeros((4, 6, 3), np.uint8), [_person()], atlas)
