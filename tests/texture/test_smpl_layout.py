import numpy as np
import pytest
from texture_test_helpers import smooth_atlas

from densepose_ext.texture.smpl_layout import atlas_to_smpl, load_smpl_uv_data, smpl_to_atlas
from densepose_ext.utils.files import ExternalFileError
from densepose_ext.vis.texture_atlas import tile_slices


@pytest.fixture(scope="module")
def atlas_domain():
    """bool [1200, 800]: the atlas texels on a face of the mesh (the charts' shapes)."""
    return smpl_to_atlas(np.full((64, 64, 3), 255, np.uint8), tile=200)[1]


def test_uv_data_shapes():
    data = load_smpl_uv_data()
    assert data.part.shape == (13774,) and set(np.unique(data.part)) == set(range(1, 25))
    assert data.chart_uv.shape == data.smpl_uv.shape == (13774, 3, 2)
    assert 0 <= data.smpl_uv.min() and data.smpl_uv.max() <= 1


def test_round_trip_keeps_covered_texels(atlas_domain):
    """atlas -> SMPL (1024) -> atlas: >= 95 % of the texels on the charts within 8 levels."""
    assert 0.6 < atlas_domain.mean() < 0.8
    atlas = smooth_atlas(200, seed=0, cells=12)  # up to ~19 levels between neighbour texels
    smpl, smpl_known = atlas_to_smpl(atlas)
    assert smpl.shape == (1024, 1024, 3) and 0.6 < smpl_known.mean() < 0.9
    back, back_known = smpl_to_atlas(smpl, smpl_known, tile=200)
    close = np.abs(back.astype(int) - atlas.astype(int)).max(axis=-1) <= 8
    kept = (close & back_known & atlas_domain).sum() / atlas_domain.sum()
    assert kept >= 0.95
    assert not back_known[~atlas_domain].any()


def test_chart_points_land_on_their_smpl_texture_coordinates():
    """Atlas colour = (part·10, U·255, V·255): each mesh corner's SMPL texel shows its own chart
    point (the corners of all faces, seams included, must agree to within a few levels)."""
    tile = 200
    atlas = np.zeros((6 * tile, 4 * tile, 3), np.uint8)
    rows, cols = np.meshgrid(np.arange(tile), np.arange(tile), indexing="ij")
    for part in range(1, 25):
        u, v = cols / (tile - 1), 1 - rows / (tile - 1)
        atlas[tile_slices(part, tile)] = np.stack(
            [np.full_like(u, part * 10), np.rint(u * 255), np.rint(v * 255)], axis=-1
        )
    size = 1024
    smpl, known = atlas_to_smpl(atlas, size=size)
    data = load_smpl_uv_data()
    centroid = data.smpl_uv.mean(axis=1, keepdims=True)
    inner = 0.8 * data.smpl_uv + 0.2 * centroid  # points well inside each face
    inner_chart = 0.8 * data.chart_uv + 0.2 * data.chart_uv.mean(axis=1, keepdims=True)
    row = np.rint((1 - inner[..., 1]) * (size - 1)).astype(np.int64).ravel()
    col = np.rint(inner[..., 0] * (size - 1)).astype(np.int64).ravel()
    expected = np.stack(
        [
            np.repeat(data.part, 3) * 10,
            inner_chart[..., 0].ravel() * 255,
            inner_chart[..., 1].ravel() * 255,
        ],
        axis=-1,
    )
    ok = known[row, col]
    assert ok.mean() > 0.98  # misses: island borders (texel centre on no face)
    error = np.abs(smpl[row, col].astype(float) - expected)[ok]
    assert (error[:, 0] == 0).mean() > 0.97  # the right part
    assert np.median(error[:, 1:]) < 1.5 and (error[:, 1:].max(axis=1) <= 6).mean() > 0.95


def test_unknown_texels_stay_unknown_and_sizes():
    atlas = smooth_atlas(40, seed=3)
    known = np.zeros(atlas.shape[:2], bool)
    known[tile_slices(2, 40)] = True  # front torso only
    smpl, smpl_known = atlas_to_smpl(atlas, known, size=300)
    assert smpl.shape == (300, 300, 3)
    assert 0.01 < smpl_known.mean() < 0.2
    assert not smpl[~smpl_known].any()
    back, back_known = smpl_to_atlas(smpl, smpl_known, tile=40)
    assert back.shape == (240, 160, 3)
    assert back_known[tile_slices(2, 40)].mean() > 0.5
    outside = np.ones_like(back_known)
    outside[tile_slices(2, 40)] = False
    assert back_known[outside].mean() < 0.01  # only texels on the torso seams come back


def test_bad_shapes():
    with pytest.raises(ExternalFileError, match="6 rows x 4 columns"):
        atlas_to_smpl(np.zeros((100, 70, 3), np.uint8))
    with pytest.raises(ValueError, match="square"):
        smpl_to_atlas(np.zeros((100, 70, 3), np.uint8))


@pytest.mark.slow
def test_agrees_with_the_package_converter():
    """uvtextureconverter's own (nearest-texel) Atlas2Normal at 200 -> 512 gives nearly the same
    SMPL texture as this module."""
    from UVTextureConverter import Atlas2Normal

    atlas = smooth_atlas(200, seed=0, cells=6)
    ours, ours_known = atlas_to_smpl(atlas, size=512)
    tiles = np.stack([np.swapaxes(atlas[tile_slices(p, 200)], 0, 1) for p in range(1, 25)])
    theirs, theirs_known = Atlas2Normal(200, 512).convert(
        tiles.astype(np.float64), np.ones(tiles.shape[:3])
    )
    both = ours_known & (theirs_known > 0.5)
    assert both.sum() > 0.95 * ours_known.sum()
    difference = np.abs(np.rint(theirs * 255) - ours.astype(float)).max(axis=-1)[both]
    assert np.median(difference) <= 2 and (difference <= 8).mean() > 0.95
