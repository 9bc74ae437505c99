import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from densepose_ext.evaluation.geodesics import (
    CondensedGeodesics,
    DenseGeodesics,
    GraphGeodesics,
    condensed_index,
    mesh_edge_graph,
)


def test_condensed_layout_is_b_times_b_minus_1_over_2_plus_a():
    rng = np.random.default_rng(0)
    n = 9
    full = squareform(pdist(rng.normal(size=(n, 3))))
    # lower-triangle column-major order: entry (a, b), a < b, at b(b−1)/2 + a
    condensed = np.array([full[a, b] for b in range(n) for a in range(b)])
    assert condensed_index(np.array([0, 2]), np.array([1, 5])).tolist() == [0, 12]
    geo = CondensedGeodesics(condensed)
    assert geo.num_vertices == n
    a, b = rng.integers(0, n, 50), rng.integers(0, n, 50)
    np.testing.assert_allclose(geo.distances(a, b), full[a, b])
    np.testing.assert_allclose(geo.distances(b, a), full[a, b])
    assert geo.distances([4], [4]).tolist() == [0.0]
    with pytest.raises(ValueError):
        CondensedGeodesics(condensed[:-1], n)
    np.testing.assert_allclose(DenseGeodesics(full).distances(a, b), full[a, b])


def _grid(n=6):
    """Flat unit-spaced n×n grid, two triangles per cell (diagonal from (i,j) to (i+1,j+1))."""
    ys, xs = np.mgrid[0:n, 0:n]
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n)], 1).astype(float)
    faces = []
    for i in range(n - 1):
        for j in range(n - 1):
            v = i * n + j
            faces += [[v, v + 1, v + n + 1], [v, v + n + 1, v + n]]
    return vertices, np.array(faces)


def test_graph_geodesics_on_flat_grid():
    vertices, faces = _grid()
    edges_only = GraphGeodesics(mesh_edge_graph(vertices, faces, unfold_diagonals=False))
    unfolded = GraphGeodesics(mesh_edge_graph(vertices, faces))
    a, b = np.array([0, 0, 0, 0]), np.array([5, 35, 11, 17])
    exact = np.linalg.norm(vertices[a] - vertices[b], axis=1)  # flat: geodesic = Euclidean
    np.testing.assert_allclose(edges_only.distances(a[:2], b[:2]), [5.0, 5 * np.sqrt(2)], rtol=1e-6)
    # (0,0) -> (5,1): edges give 4 + sqrt 2 ≈ 5.414;
    # unfolded pairs give the exact sqrt(26)≈5.099 or close
    got_edges, got_unfolded = edges_only.distances(a, b), unfolded.distances(a, b)
    assert np.all(got_unfolded >= exact - 1e-5) and np.all(
        got_unfolded <= got_edges + 1e-5
    )  # float32 rows
    assert got_unfolded[3] < got_edges[3]
    assert np.abs(got_unfolded - exact).max() < np.abs(got_edges - exact).max()


def test_graph_geodesics_disk_cache(tmp_path):
    vertices, faces = _grid(5)
    path = str(tmp_path / "geo.f32")
    first = GraphGeodesics(mesh_edge_graph(vertices, faces), cache_file=path)
    expected = first.distances([0, 3, 3], [24, 7, 3])
    second = GraphGeodesics(mesh_edge_graph(vertices, faces), cache_file=path)
    assert second._done[[0, 3]].all() and not second._done[1]
    second.graph = None  # rows must come from disk now
    np.testing.assert_allclose(second.distances([0, 3, 3], [24, 7, 3]), expected)
    assert expected[2] == 0.0
