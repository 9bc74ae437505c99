import pickle

import numpy as np
import pytest
import scipy.io
from fixture_paths import data_root_with

from densepose_ext.evaluation.surface import (
    ChartSurface,
    build_approximate_smpl_surface,
    load_chart_surface,
    load_official_surface,
    load_synthetic_surface,
)
from densepose_ext.utils.files import ExternalFileError


def test_missing_official_files_error_names_files_location_and_source(tmp_path):
    (tmp_path / "SMPL_subdiv.mat").write_bytes(b"")  # present but empty counts as missing too
    with pytest.raises(ExternalFileError) as info:
        load_official_surface(str(tmp_path))
    message = str(info.value)
    for name in ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat", "Pdist_matrix.pkl"):
        assert name in message
    assert str(tmp_path) in message
    assert "https://dl.fbaipublicfiles.com/densepose/data/Pdist_matrix.pkl" in message
    assert "smpl_approximate" in message


def _write_official_files(directory):
    """4 subdiv points (parts 1,1,2,2) mapped (1-based) to 3 geodesic vertices; distances 1, 2,
    3."""
    scipy.io.savemat(
        directory / "SMPL_subdiv.mat",
        {
            "U_subdiv": np.array([[0.1, 0.9, 0.1, 0.9]]),
            "V_subdiv": np.array([[0.5, 0.5, 0.5, 0.5]]),
            "Part_ID_subdiv": np.array([[1, 1, 2, 2]]),
        },
    )
    scipy.io.savemat(
        directory / "SMPL_SUBDIV_TRANSFORM.mat", {"index": np.array([[1], [2], [3], [3]])}
    )
    pdist = np.array([[1.0], [2.0], [3.0]])  # (0,1)=1, (0,2)=2, (1,2)=3
    with open(directory / "Pdist_matrix.pkl", "wb") as f:
        pickle.dump({"Pdist_matrix": pdist}, f, protocol=2)


def test_official_loader_on_local_files(tmp_path):
    _write_official_files(tmp_path)
    surface = load_chart_surface(str(tmp_path))
    assert not surface.approximate and surface.vertex_ids.tolist() == [0, 1, 2, 2]
    vertices = surface.closest_vertices([1, 1, 2, 0, 7], [0.2, 0.8, 0.95, 0.5, 0.5], [0.5] * 5)
    assert vertices.tolist() == [0, 1, 2, -1, -1]
    assert surface.geodesics.distances([0, 1, 2], [1, 2, 0]).tolist() == [1.0, 3.0, 2.0]


def test_synthetic_npz_surface(tmp_path):
    path = tmp_path / "body.npz"
    geodists = np.array([[0, 1.5], [1.5, 0]])
    np.savez(
        path,
        part_ids=np.array([3, 3]),
        u=np.array([0.0, 1.0]),
        v=np.array([0.0, 0.0]),
        geodists=geodists,
    )
    surface = load_chart_surface(str(path))
    assert isinstance(surface, ChartSurface) and surface.closest_vertices(
        [3], [0.7], [0.1]
    ).tolist() == [1]
    assert surface.geodesics.distances([0], [1]).tolist() == [1.5]
    np.savez(tmp_path / "bad.npz", part_ids=np.array([1]))
    with pytest.raises(ExternalFileError, match="geodists"):
        load_synthetic_surface(str(tmp_path / "bad.npz"))


def test_approximate_smpl_surface_from_real_data(tmp_path):
    data_root = data_root_with("uv/UV_Processed.mat", "meshes/smpl_27554.pkl")
    uv_path, mesh_path = data_root / "uv/UV_Processed.mat", data_root / "meshes/smpl_27554.pkl"
    surface = build_approximate_smpl_surface(str(uv_path), str(mesh_path), cache_dir=str(tmp_path))
    assert surface.approximate
    chart = scipy.io.loadmat(uv_path)
    num_chart = chart["All_U_norm"].shape[0]
    # chart vertices keep their (u, v) and map to their SMPL vertex; every mesh vertex is reached
    np.testing.assert_allclose(surface.uv[:num_chart, 0], chart["All_U_norm"].ravel())
    assert (surface.vertex_ids[:num_chart] == chart["All_vertices"].ravel().astype(int) - 1).all()
    assert np.unique(surface.vertex_ids).size == 27554 and set(np.unique(surface.part_ids)) == set(
        range(1, 25)
    )
    with open(mesh_path, "rb") as f:
        vertices = pickle.load(f)["vertices"]
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 27554, 20), rng.integers(0, 27554, 20)
    geo = surface.geodesics.distances(a, b)
    euclid = np.linalg.norm(vertices[a] - vertices[b], axis=1)
    assert np.all(geo >= euclid - 1e-6) and np.all(geo < 3.0)
    np.testing.assert_allclose(surface.geodesics.distances(b, a), geo, rtol=1e-5)
    assert load_chart_surface(f"smpl_approximate:{data_root}").approximate


def test_synthetic_body_surface_files_work_with_gps(tmp_path):
    from densepose_ext.data.synthetic.body import build_body_template
    from densepose_ext.data.synthetic.body_files import write_body_files
    from densepose_ext.evaluation.gps import GroundTruthPoints, chart_gps_scores

    files = write_body_files(str(tmp_path), build_body_template())
    surface = load_chart_surface(files.surface)
    assert set(np.unique(surface.part_ids)) == set(range(1, 25))
    rng = np.random.default_rng(0)
    picks = rng.choice(surface.part_ids.size, 40, replace=False)
    xs, ys = np.arange(40) * 6.0 + 3.0, np.full(40, 128.0)  # box 255 px wide: pixel = trunc(x)
    gt = GroundTruthPoints(
        box=(0, 0, 255, 255),
        x=xs,
        y=ys,
        i=surface.part_ids[picks],
        u=surface.uv[picks, 0],
        v=surface.uv[picks, 1],
    )
    iuv = np.zeros((3, 255, 255), dtype=np.uint8)
    px = xs.astype(int)
    iuv[0, 128, px] = surface.part_ids[picks]
    iuv[1, 128, px] = np.round(surface.uv[picks, 0] * 255).astype(np.uint8)
    iuv[2, 128, px] = np.round(surface.uv[picks, 1] * 255).astype(np.uint8)
    assert chart_gps_scores([iuv], [(0, 0, 255, 255)], [gt], surface)[0, 0] > 0.95
    iuv[0, 128, px] = 0  # background everywhere: nothing matches
    assert chart_gps_scores([iuv], [(0, 0, 255, 255)], [gt], surface)[0, 0] == 0.0
