import numpy as np
import pytest
from texture_test_helpers import (
    max_neighbour_step,
    render_person,
    rendered_people,
    smooth_atlas,
    textured_photo,
)

from densepose_ext.texture.extract import TextureAccumulator, fill_holes
from densepose_ext.texture.people import PersonChart
from densepose_ext.vis.texture_atlas import tile_slices

TILE = 48


@pytest.fixture(scope="module")
def atlas():
    return smooth_atlas(TILE, seed=1)


@pytest.fixture(scope="module")
def views():
    """The same synthetic person seen from the front and from behind."""
    return [render_person(seed=5, yaw=yaw) for yaw in (0.0, np.pi)]


def _extract(renders, atlas, weighting="both", supersample=1):
    acc = TextureAccumulator(TILE, weighting, supersample)
    for rendered in renders:
        image = textured_photo(rendered, atlas, TILE)
        for person in rendered_people(rendered):
            assert acc.add(image, person) > 0
    return acc.result()


@pytest.mark.parametrize("weighting", ["both", "none"])
def test_extraction_recovers_the_known_atlas_on_seen_texels(views, atlas, weighting):
    texture = _extract(views[:1], atlas, weighting)
    assert texture.seen.sum() > 500
    error = np.abs(texture.bgr.astype(float) - atlas.astype(float))[texture.seen]  # [K, 3]
    # The photo shows the atlas bilinearly interpolated at each pixel's exact (U, V); extraction
    # puts the pixel on texel floor(U (N-1)), floor((1-V) (N-1)). The interpolated colour mixes
    # that texel with its right, lower and diagonal neighbours, so it differs from it by at most
    # two neighbour steps (plus 0.5 for rounding); a weighted mean of such colours too. On
    # average the interpolation offset is half a texel per axis: MAE <= one step.
    step = max_neighbour_step(atlas, TILE)
    assert error.max() <= 2 * step + 0.5
    assert error.mean() <= step
    assert error.mean() < 5.0  # in levels (step is about 9 here)


def test_supersampling_fills_gaps_within_a_bound(views, atlas):
    exact = _extract(views[:1], atlas)
    texture = _extract(views[:1], atlas, supersample=2)
    assert texture.seen.sum() > 2 * exact.seen.sum()
    error = np.abs(texture.bgr.astype(float) - atlas.astype(float))[texture.seen]
    # A sample takes its pixel's colour (within 2 steps of the pixel's own texel, see above) and
    # lies at most 1.5 texels away from the pixel's centre, i.e. on a texel at most 2 rows and
    # 2 columns from the pixel's texel: 4 more steps.
    step = max_neighbour_step(atlas, TILE)
    assert error.max() <= 6 * step + 0.5
    assert error.mean() <= step / 2


def test_a_wrong_atlas_is_not_recovered(views, atlas):
    """The bound above is informative: another atlas is far off on the same texels."""
    texture = _extract(views[:1], atlas)
    other = smooth_atlas(TILE, seed=2)
    error = np.abs(texture.bgr.astype(float) - other.astype(float))[texture.seen]
    assert error.mean() > 30


def test_two_views_cover_more_than_either(views, atlas):
    front, back = (_extract([v], atlas).seen for v in views)
    both = _extract(views, atlas).seen
    assert both.sum() > front.sum() and both.sum() > back.sum()
    assert np.array_equal(both, front | back)
    assert (back & ~front).sum() > 0.5 * back.sum()  # the back shows mostly other texels


def test_weighted_mean_and_viewing_weights():
    """Two pixels on one texel: the frontal one (isotropic chart) outweighs the grazing one."""
    labels = np.ones((8, 16), np.int64)
    xs, ys = np.meshgrid(np.arange(16), np.arange(8))
    u = 0.2 + 0.01 * xs
    v = 0.8 - 0.01 * ys
    frontal = PersonChart((0, 0, 16, 8), labels, u.astype(np.float32), v.astype(np.float32))
    grazing = PersonChart(
        (0, 0, 16, 8), labels, (0.2 + 0.08 * xs).astype(np.float32), v.astype(np.float32)
    )
    acc = TextureAccumulator(tile=200, weighting="angle", supersample=1)
    weights = acc.pixel_weights(frontal)
    assert np.allclose(weights, 1.0, atol=1e-3)
    assert np.allclose(acc.pixel_weights(grazing), 1 / 8, atol=1e-3)
    acc.add(np.full((8, 16, 3), 200, np.uint8), frontal)
    acc.add(np.full((8, 16, 3), 20, np.uint8), grazing)
    texture = acc.result()
    # texel of U = 0.2, V = 0.8: row (1 - 0.8) 199 = 39, col 0.2 199 = 39; both views hit it once
    assert texture.seen[39, 39]
    expected = (200 * 1.0 + 20 * 0.125) / 1.125
    assert abs(int(texture.bgr[39, 39, 0]) - expected) <= 1
    none = TextureAccumulator(tile=200, weighting="none", supersample=1)
    none.add(np.full((8, 16, 3), 200, np.uint8), frontal)
    none.add(np.full((8, 16, 3), 20, np.uint8), grazing)
    assert none.result().bgr[39, 39, 0] == 110


def test_confidence_weights_multiply():
    labels = np.ones((2, 2), np.int64)
    u = np.full((2, 2), 0.5, np.float32)
    conf = np.array([[1.0, 0.5], [0.25, 1.0]], np.float32)
    person = PersonChart((0, 0, 2, 2), labels, u, u, confidence=conf)
    assert np.allclose(TextureAccumulator(8, "confidence").pixel_weights(person), conf)
    assert np.allclose(TextureAccumulator(8, "none").pixel_weights(person), 1.0)


def test_hole_filling_stays_within_each_part():
    tile = 16
    bgr = np.zeros((6 * tile, 4 * tile, 3), np.uint8)
    known = np.zeros(bgr.shape[:2], bool)
    rows, cols = tile_slices(1, tile)
    bgr[rows, cols][:, :4] = (0, 0, 250)  # part 1: red left strip
    known[rows, cols][:, :4] = True
    rows2, cols2 = tile_slices(2, tile)  # part 2 (the tile below) stays unknown
    out, filled = fill_holes(bgr, known, tile)
    assert filled[rows, cols][:, 4:].all() and not filled[rows, cols][:, :4].any()
    assert (out[rows, cols][:, 4:, 2] > 200).all()
    assert not filled[rows2, cols2].any() and not out[rows2, cols2].any()
    _, near = fill_holes(bgr, known, tile, max_distance=3)
    assert near[rows, cols][:, 4:7].all() and not near[rows, cols][:, 8:].any()
