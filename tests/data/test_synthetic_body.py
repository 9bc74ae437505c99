"""The procedural body: charts, mirror symmetry, geodesics, flip tables and mesh files."""

import pickle

import numpy as np
import pytest

from densepose_ext.data import meshes
from densepose_ext.data.synthetic.body import FINE_TO_COARSE, build_body_template, sample_body_dims
from densepose_ext.data.synthetic.body_files import (
    flip_tables,
    geodesic_distances,
    register_body_mesh,
    rest_vertices,
    write_body_files,
)
from densepose_ext.data.synthetic.pose import mirror_pose, posed_vertices, sample_pose
from densepose_ext.structures.transform_data import (
    MASK_LABEL_SYMMETRIES,
    POINT_LABEL_SYMMETRIES,
    DensePoseTransformData,
)

MIRROR_X = np.array([-1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def template():
    return build_body_template()


@pytest.fixture(scope="module")
def body_files(template, tmp_path_factory):
    return write_body_files(str(tmp_path_factory.mktemp("body")), template)


def test_parts_and_charts(template):
    assert set(np.unique(template.part_ids)) == set(range(1, 25))
    assert 2000 <= template.num_vertices <= 4000
    for arr in (template.u, template.v):
        assert arr.dtype == np.float32 and arr.min() == 0.0 and arr.max() == 1.0
    assert template.faces.dtype == np.int64 and template.faces.max() < template.num_vertices
    # every face lies within one part
    assert (template.part_ids[template.faces] == template.face_parts[:, None]).all()


def test_symmetry_matches_label_symmetries(template):
    sym = template.symmetry
    assert (sym[sym] == np.arange(template.num_vertices)).all()
    assert (template.part_ids[sym] == np.array(POINT_LABEL_SYMMETRIES)[template.part_ids]).all()
    coarse = FINE_TO_COARSE[template.part_ids]
    assert (FINE_TO_COARSE[template.part_ids[sym]] == np.array(MASK_LABEL_SYMMETRIES)[coarse]).all()


def test_left_right_conventions(template):
    """Left parts lie at +X (the person's left), fronts at +Z, head halves split at X = 0."""
    rest = rest_vertices(template)
    mean_x = {p: rest[template.part_ids == p, 0].mean() for p in range(1, 25)}
    mean_z = {p: rest[template.part_ids == p, 2].mean() for p in range(1, 25)}
    for left, right in [(4, 3), (5, 6), (8, 7), (10, 9), (15, 16), (17, 18), (19, 20), (24, 23)]:
        assert mean_x[left] > 0.02 and mean_x[right] < -0.02
    for front, back in [(2, 1), (9, 7), (10, 8), (13, 11), (14, 12)]:
        assert mean_z[front] > mean_z[back]
    assert mean_z[15] > mean_z[17]  # arm inside is the front/medial half


def test_posed_mirror_is_exact(template):
    rng = np.random.default_rng(3)
    dims, angles = sample_body_dims(rng), sample_pose(rng)
    posed = posed_vertices(template, dims, angles)
    mirrored = posed_vertices(template, dims, mirror_pose(angles))
    np.testing.assert_allclose(mirrored[template.symmetry], posed * MIRROR_X, atol=1e-12)


def test_flip_tables_map_charts_onto_mirror_vertices(template, body_files):
    data = DensePoseTransformData.load(body_files.flip_tables)
    u_table = data.uv_symmetries["U_transforms"].numpy()
    v_table = data.uv_symmetries["V_transforms"].numpy()
    assert np.allclose(u_table, flip_tables()["U_transforms"])
    p = template.part_ids - 1
    row = np.floor(255 * template.v).astype(np.int64)
    col = np.floor(255 * template.u).astype(np.int64)
    sym = template.symmetry
    np.testing.assert_allclose(u_table[p, row, col], template.u[sym], atol=1.0 / 255)
    np.testing.assert_allclose(v_table[p, row, col], template.v[sym], atol=1.0 / 255)


def test_geodesic_distances(template):
    geo = geodesic_distances(template)
    n = template.num_vertices
    assert geo.shape == (n, n) and geo.dtype == np.float32
    assert np.isfinite(geo).all() and (np.diag(geo) == 0).all()
    np.testing.assert_array_equal(geo, geo.T)
    sym = template.symmetry
    np.testing.assert_allclose(geo[np.ix_(sym, sym)], geo, atol=1e-6)
    rest = rest_vertices(template)
    sample = np.random.default_rng(0).choice(n, 300, replace=False)
    euclid = np.linalg.norm(rest[sample, None] - rest[None, sample], axis=-1)
    assert (geo[np.ix_(sample, sample)] >= euclid - 1e-3).all()
    # foot sole to head top: about the body height (1.7 m), not more than 15% longer
    foot, head = np.argmin(rest[:, 1]), np.argmax(rest[:, 1])
    assert 1.6 < geo[foot, head] < 1.15 * 1.75


def test_mesh_files(template, body_files):
    with open(body_files.mesh, "rb") as f:
        mesh = pickle.load(f)
    assert mesh["vertices"].shape == (template.num_vertices, 3)
    np.testing.assert_array_equal(mesh["faces"], template.faces)
    with open(body_files.symmetry, "rb") as f:
        sym = pickle.load(f)["vertex_transforms"]
    assert sym.dtype == np.int64 and (sym == template.symmetry).all()
    with open(body_files.texcoords, "rb") as f:
        tex = pickle.load(f)
    assert tex.shape == (template.num_vertices, 2) and 0 <= tex.min() and tex.max() <= 1
    surface = np.load(body_files.surface)
    assert set(surface.files) == {"part_ids", "u", "v", "geodists"}
    assert surface["part_ids"].dtype == np.int64
    with open(body_files.geodists, "rb") as f:
        np.testing.assert_array_equal(pickle.load(f), surface["geodists"])


def test_mesh_catalog_registration(body_files):
    assert register_body_mesh(body_files)
    info = meshes.MeshCatalog.get(body_files.mesh_name)
    assert info.geodists == body_files.geodists and info.symmetry == body_files.symmetry
