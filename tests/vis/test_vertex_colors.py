"""Vertex colours and vertex -> chart (I, U, V) for the subdivided SMPL mesh."""

import pickle

import numpy as np
import pytest
import torch
from fixture_paths import data_file

from densepose_ext.data.meshes.smpl_charts import SmplChartData, load_smpl_chart_data
from densepose_ext.utils.files import ExternalFileError
from densepose_ext.vis.vertex_colors import (
    chart_iuv_colors,
    colorize_vertex_map,
    midpoint_subdivision_edges,
    smpl_subdiv_vertex_iuv,
    vertex_colors_from_coordinates,
)


def test_colors_from_coordinates():
    colors = vertex_colors_from_coordinates(
        np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 5.0], [1.0, 2.0, 5.0]])
    )
    np.testing.assert_allclose(colors, [[0, 0, 0], [1, 1, 0], [0.5, 0.5, 0]])


def test_colorize_vertex_map():
    colors = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    image = colorize_vertex_map(
        torch.tensor([[0, 1], [1, 0]]), torch.tensor([[True, True], [False, True]]), colors
    )
    assert image.dtype == np.uint8 and image.shape == (2, 2, 3)
    assert image[0, 0].tolist() == [255, 0, 0] and image[0, 1].tolist() == [0, 255, 0]
    assert image[1, 0].tolist() == [0, 0, 0]
    assert chart_iuv_colors(np.array([24]), np.array([0.5]), np.array([0.25])).tolist() == [
        [1.0, 0.5, 0.25]
    ]


def subdivide(faces: np.ndarray, num_vertices: int) -> np.ndarray:
    """1-to-4 midpoint subdivision (test helper): midpoints numbered after the base vertices."""
    edge_ids = {}
    out = []
    for a, b, c in faces.tolist():
        mids = []
        for u, v in ((a, b), (b, c), (c, a)):
            key = (min(u, v), max(u, v))
            edge_ids.setdefault(key, num_vertices + len(edge_ids))
            mids.append(edge_ids[key])
        ab, bc, ca = mids
        out += [[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]
    return np.array(out), edge_ids


def test_midpoint_edges_and_iuv_on_a_toy_chart():
    # two SMPL triangles sharing edge (1, 2); vertex 1 and 2 lie on a part border (2 chart copies)
    smpl_faces = np.array([[0, 1, 2], [1, 3, 2]])
    charts = SmplChartData(
        face_parts=np.array([3, 5]),
        faces=np.array([[0, 1, 2], [3, 4, 5]]),
        u=np.array([0.0, 1.0, 0.0, 0.2, 0.6, 0.2], dtype=np.float32),
        v=np.array([0.0, 0.0, 1.0, 0.4, 0.4, 0.8], dtype=np.float32),
        chart_to_smpl=np.array([0, 1, 2, 1, 3, 2]),
    )
    subdiv_faces, edge_ids = subdivide(smpl_faces, 4)
    edges = midpoint_subdivision_edges(subdiv_faces, 4)
    for (a, b), m in edge_ids.items():
        assert sorted(edges[m - 4].tolist()) == [a, b]
    parts, u, v = smpl_subdiv_vertex_iuv(charts, subdiv_faces)
    assert parts[:4].tolist() == [3, 3, 3, 5]  # first chart vertex of each SMPL vertex
    np.testing.assert_allclose(u[:4], [0.0, 1.0, 0.0, 0.6])
    m = edge_ids[(1, 3)]
    assert parts[m] == 5 and u[m] == pytest.approx(0.4) and v[m] == pytest.approx(0.4)
    m = edge_ids[(1, 2)]  # shared edge: the first face (part 3) wins
    assert parts[m] == 3 and u[m] == pytest.approx(0.5) and v[m] == pytest.approx(0.5)


def test_midpoint_edges_rejects_other_meshes():
    with pytest.raises(ValueError, match="midpoint subdivision"):
        midpoint_subdivision_edges(np.array([[0, 1, 2], [0, 2, 3], [0, 3, 1]]), 1)


def test_real_smpl_27554_chart_coordinates():
    uv_path = data_file("uv/UV_Processed.mat")
    mesh_path = data_file("meshes/smpl_27554.pkl")
    charts = load_smpl_chart_data(str(uv_path))
    assert charts.num_smpl_vertices == 6890 and charts.faces.shape == (13774, 3)
    with open(mesh_path, "rb") as f:
        mesh = pickle.load(f, encoding="latin1")
    faces, positions = np.asarray(mesh["faces"]), np.asarray(mesh["vertices"])
    edges = midpoint_subdivision_edges(faces, 6890)
    assert edges.shape == (27554 - 6890, 2)
    # geometry agrees: each midpoint vertex lies halfway between its edge endpoints
    np.testing.assert_allclose(positions[6890:], positions[edges].mean(axis=1), atol=1e-6)
    parts, u, v = smpl_subdiv_vertex_iuv(charts, faces)
    assert parts.shape == (27554,) and parts.min() >= 1 and parts.max() == 24
    assert 0 <= u.min() and u.max() <= 1 and 0 <= v.min() and v.max() <= 1
    # midpoints whose endpoints have a single chart copy each, in the same part: U, V average
    copies = np.bincount(charts.chart_to_smpl, minlength=6890)
    simple = (
        (copies[edges] == 1).all(1)
        & (parts[edges[:, 0]] == parts[6890:])
        & (parts[edges[:, 1]] == parts[6890:])
    )
    assert simple.sum() > 10000
    np.testing.assert_allclose(u[6890:][simple], u[edges[simple]].mean(1), atol=1e-6)
    np.testing.assert_allclose(v[6890:][simple], v[edges[simple]].mean(1), atol=1e-6)


def test_chart_data_errors(tmp_path):
    with pytest.raises(ExternalFileError, match="UV_missing.mat"):
        load_smpl_chart_data(str(tmp_path / "UV_missing.mat"))
    from scipy.io import savemat

    path = tmp_path / "UV_partial.mat"
    savemat(path, {"All_FaceIndices": np.ones((2, 1))})
    with pytest.raises(ExternalFileError, match="lacks"):
        load_smpl_chart_data(str(path))
