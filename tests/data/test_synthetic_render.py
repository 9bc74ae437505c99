"""Rendered scenes: image statistics, determinism,
and horizontal flip against mirrored rendering."""

import numpy as np
import pytest

from densepose_ext.data.synthetic.body import FINE_TO_COARSE
from densepose_ext.data.synthetic.body_files import _save_flip_tables
from densepose_ext.data.synthetic.generate import body_template, render_example
from densepose_ext.data.synthetic.scene import mirror_scene, render_scene, sample_scene
from densepose_ext.structures.transform_data import POINT_LABEL_SYMMETRIES, DensePoseTransformData


@pytest.fixture(scope="module")
def transform_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("flip") / "UV_symmetry_transforms_synthetic.mat"
    _save_flip_tables(str(path))
    return DensePoseTransformData.load(str(path))


def test_sample_image_statistics():
    rendered, annotations = render_example(7, seed=0, size=256)
    image, part = rendered.image, rendered.part
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    fg = part > 0
    assert 0.03 < fg.mean() < 0.8
    assert len(np.unique(part[fg])) >= 10
    assert image.reshape(-1, 3).std(axis=0).min() > 15  # textured, not flat
    assert image[fg].std() > 10 and image[~fg].std() > 10
    # every visible person pixel has a valid chart, background has none
    assert (
        (rendered.u[fg] >= 0)
        & (rendered.u[fg] <= 1)
        & (rendered.v[fg] >= 0)
        & (rendered.v[fg] <= 1)
    ).all()
    assert (rendered.vertex[fg] >= 0).all() and (rendered.vertex[~fg] == -1).all()
    assert ((rendered.person >= 0) == fg).all()
    assert len(annotations) >= 1


def test_colour_does_not_encode_parts():
    """Over many people, a part's mean colour varies a lot (random outfits and skin)."""
    means = {p: [] for p in (2, 9, 15)}
    for index in range(12):
        rendered, _ = render_example(index, seed=1, size=128)
        for k in range(int(rendered.person.max()) + 1):
            for p in means:
                sel = (rendered.person == k) & (rendered.part == p)
                if sel.sum() > 20:
                    means[p].append(rendered.image[sel].mean(axis=0))
    for p, values in means.items():
        assert len(values) >= 4
        assert np.std(np.array(values), axis=0).max() > 25, p


def test_rendering_is_deterministic():
    a, anns_a = render_example(3, seed=5, size=128)
    b, anns_b = render_example(3, seed=5, size=128)
    c, _ = render_example(3, seed=6, size=128)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.u, b.u)
    assert anns_a == anns_b
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hflip_with_tables_matches_mirrored_rendering(seed, transform_data):
    """Flipping the dense GT with the body's tables (spec semantics) equals rendering the mirror."""
    template = body_template()
    scene = sample_scene(np.random.default_rng(seed), 160, 200)
    original = render_scene(template, scene)
    mirrored = render_scene(template, mirror_scene(scene))
    part = original.part[:, ::-1]
    fg = part > 0
    np.testing.assert_array_equal(np.array(POINT_LABEL_SYMMETRIES)[part], mirrored.part)
    u_table = transform_data.uv_symmetries["U_transforms"].numpy()
    v_table = transform_data.uv_symmetries["V_transforms"].numpy()
    row = np.floor(255 * original.v[:, ::-1][fg]).astype(np.int64)
    col = np.floor(255 * original.u[:, ::-1][fg]).astype(np.int64)
    p = part[fg] - 1
    quantum = 0.5 / 255 + 1e-5
    np.testing.assert_allclose(u_table[p, row, col], mirrored.u[fg], atol=quantum)
    np.testing.assert_allclose(v_table[p, row, col], mirrored.v[fg], atol=quantum)
    coarse = FINE_TO_COARSE[original.part][:, ::-1]
    assert (
        FINE_TO_COARSE[mirrored.part] == np.array(transform_data.mask_label_symmetries)[coarse]
    ).all()
    assert (template.symmetry[original.vertex[:, ::-1][fg]] == mirrored.vertex[fg]).all()


def _plain_appearance(torso_region: int):
    from densepose_ext.data.synthetic.textures import N_REGIONS, sample_appearance

    appearance = sample_appearance(np.random.default_rng(0))
    appearance.part_region[[1, 2]] = torso_region
    appearance.colors = np.array(
        [[200.0, 150.0, 120.0], [0.0, 0.0, 255.0], [0, 255, 0], [90, 90, 90], [250, 250, 0]]
    )
    appearance.stripe_amps = np.zeros((N_REGIONS, 2))
    appearance.hair_height = 0.05  # low hairline: only the face is never covered by (yellow) hair
    return appearance


def test_faces_and_necklines_mark_the_front_of_the_body():
    """Eyes, mouth and neckline appear on the front (+Z) only: the cue photos give of facing."""
    from densepose_ext.data.synthetic.textures import EYE_HEIGHT, EYE_X, TOP, shade_people

    neck = 0.6
    points = np.array(
        [
            [EYE_X, neck + EYE_HEIGHT, 0.07],  # front of head at an eye
            [EYE_X, neck + EYE_HEIGHT, -0.07],  # back of head, same height
            [0.0, neck - 0.03, 0.09],  # front of torso below the neck
            [0.0, neck - 0.03, -0.09],  # back of torso below the neck
            [0.0, neck - 0.3, 0.09],  # front of torso, far below the neck
        ]
    )
    part = np.array([24, 24, 2, 1, 2])
    colors = shade_people(
        [_plain_appearance(TOP)],
        np.zeros(5, dtype=np.int64),
        part,
        points,
        np.tile([0.0, 0.0, 1.0], (5, 1)),
        np.array([neck]),
        np.array([0.0, 0.0, 1.0]),
    )
    eye, back_of_head, neckline, back_neck, chest = colors
    assert eye.max() < 60  # a dark eye, not hair
    np.testing.assert_allclose(back_of_head / back_of_head.max(), [1.0, 1.0, 0.0])  # yellow hair
    np.testing.assert_allclose(
        neckline / neckline.max(), np.array([200.0, 150.0, 120.0]) / 200.0
    )  # skin
    assert back_neck[2] > 200 and back_neck[:2].max() < 1 and chest[2] > 200  # the shirt's blue
