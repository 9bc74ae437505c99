"""Geodesic distance providers: `distances(a, b)` for paired 0-based vertex index arrays.

Three sources: a dense [V, V] matrix, a condensed pairwise vector (the official `Pdist_matrix`
layout) and shortest paths over a mesh graph computed on demand (an approximation of the true
surface geodesic; rows are cached in memory and optionally in a memory-mapped file on disk).
"""

import logging
import os
from typing import Dict, Optional

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = [
    "GeodesicDistances",
    "DenseGeodesics",
    "CondensedGeodesics",
    "GraphGeodesics",
    "condensed_index",
    "mesh_edge_graph",
]

logger = logging.getLogger(__name__)


class GeodesicDistances:
    """Interface: `distances(a, b)` -> float64 [N] distance between vertices a[k] and b[k]."""

    num_vertices: int

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _as_index(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64).reshape(-1)


class DenseGeodesics(GeodesicDistances):
    """Distances stored as a dense [V, V] matrix (e.g. CSE mesh geodists, synthetic bodies)."""

    def __init__(self, matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"dense geodesic matrix must be square [V, V], got {matrix.shape}")
        self.matrix = matrix
        self.num_vertices = int(matrix.shape[0])

    def distances(self, a, b) -> np.ndarray:
        return self.matrix[_as_index(a), _as_index(b)].astype(np.float64)


def condensed_index(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Position of pair (a, b), a != b, 0-based, in a condensed vector: hi(hi-1)/2 + lo."""
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    return hi * (hi - 1) // 2 + lo


class CondensedGeodesics(GeodesicDistances):
    """Distances stored as a condensed vector of length n(n-1)/2 (0 on the diagonal)."""

    def __init__(self, condensed, num_vertices: Optional[int] = None):
        condensed = np.asarray(condensed).reshape(-1)
        if num_vertices is None:  # n(n-1)/2 = L  ->  n = (1 + sqrt(1 + 8L)) / 2
            num_vertices = int(round((1 + np.sqrt(1 + 8 * condensed.shape[0])) / 2))
        expected = num_vertices * (num_vertices - 1) // 2
        if condensed.shape[0] != expected:
            raise ValueError(
                f"condensed geodesic vector has {condensed.shape[0]} entries, expected "
                f"{expected} for {num_vertices} vertices"
            )
        self.condensed = condensed
        self.num_vertices = int(num_vertices)

    def distances(self, a, b) -> np.ndarray:
        a, b = _as_index(a), _as_index(b)
        out = np.zeros(a.shape[0], dtype=np.float64)
        off = a != b
        out[off] = self.condensed[condensed_index(a[off], b[off])]
        return out


def mesh_edge_graph(
    vertices: np.ndarray, faces: np.ndarray, unfold_diagonals: bool = True
) -> csr_matrix:
    """Symmetric sparse [V, V] graph of mesh edges weighted by their Euclidean length.

    With `unfold_diagonals`, each pair of triangles sharing an edge also contributes the straight
    line between their two opposite vertices in the unfolded (flattened) pair, when that line stays
    inside the pair; it is a path on the surface, so the graph distance remains an upper bound of
    the true geodesic, but much tighter than edges alone.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)  # [E, 2]
    lengths = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    if unfold_diagonals:
        diagonals, diagonal_lengths = _unfolded_diagonals(vertices, faces)
        edges, lengths = _shortest_per_pair(
            np.concatenate([edges, diagonals]), np.concatenate([lengths, diagonal_lengths])
        )
    n = vertices.shape[0]
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return coo_matrix((np.concatenate([lengths, lengths]), (rows, cols)), shape=(n, n)).tocsr()


def _shortest_per_pair(pairs: np.ndarray, lengths: np.ndarray):
    """Unique sorted vertex pairs [K, 2] with the smallest length given for each."""
    order = np.lexsort((lengths, pairs[:, 1], pairs[:, 0]))
    pairs, lengths = pairs[order], lengths[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = np.any(pairs[1:] != pairs[:-1], axis=1)
    return pairs[first], lengths[first]


def _unfolded_diagonals(vertices: np.ndarray, faces: np.ndarray):
    """Opposite-vertex pairs [K, 2] of edge-adjacent triangles and their unfolded distances [K]."""
    n = vertices.shape[0]
    a = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    b = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    c = np.concatenate([faces[:, 2], faces[:, 0], faces[:, 1]])  # vertex opposite edge (a, b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    key, lo, hi, c = key[order], lo[order], hi[order], c[order]
    first = np.nonzero(key[:-1] == key[1:])[0]  # edges shared by (at least) two triangles
    i, j, k, m = lo[first], hi[first], c[first], c[first + 1]
    edge = vertices[j] - vertices[i]
    length = np.linalg.norm(edge, axis=1)
    keep = (length > 0) & (k != m)
    i, j, k, m, edge, length = i[keep], j[keep], k[keep], m[keep], edge[keep], length[keep]
    t = edge / length[:, None]
    rel_k, rel_m = vertices[k] - vertices[i], vertices[m] - vertices[i]
    along_k, along_m = (rel_k * t).sum(1), (rel_m * t).sum(1)
    height_k = np.linalg.norm(rel_k - along_k[:, None] * t, axis=1)
    height_m = np.linalg.norm(rel_m - along_m[:, None] * t, axis=1)
    total_height = height_k + height_m
    crossing = along_k + (along_m - along_k) * height_k / np.maximum(total_height, 1e-12)
    inside = (total_height > 0) & (crossing >= 0) & (crossing <= length)
    dist = np.sqrt((along_k - along_m) ** 2 + total_height**2)
    pairs = np.sort(np.stack([k, m], axis=1)[inside], axis=1)
    pairs, first_idx = np.unique(pairs, axis=0, return_index=True)
    return pairs, dist[inside][first_idx]


class GraphGeodesics(GeodesicDistances):
    """Shortest-path distances over a weighted mesh graph, computed per needed source vertex.

    Rows (float32 [V]) are computed with Dijkstra for the unique source vertices of a query and
    kept in memory; with `cache_file` they are also stored in a memory-mapped [V, V] float32
    file (sparse on disk: only computed rows take space) plus a `<cache_file>.done.npy` row mask.
    """

    def __init__(self, graph: csr_matrix, cache_file: Optional[str] = None):
        self.graph = graph.tocsr()
        self.num_vertices = int(graph.shape[0])
        self._rows: Dict[int, np.ndarray] = {}
        self._disk = None
        self._done = None
        self._cache_file = cache_file
        if cache_file:
            self._open_disk_cache(cache_file)

    def _open_disk_cache(self, path: str) -> None:
        n = self.num_vertices
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        done_path = path + ".done.npy"
        expected_size = n * n * 4
        if (
            os.path.isfile(path)
            and os.path.getsize(path) == expected_size
            and os.path.isfile(done_path)
        ):
            self._disk = np.memmap(path, dtype=np.float32, mode="r+", shape=(n, n))
            self._done = np.load(done_path)
        else:
            self._disk = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, n))
            self._done = np.zeros(n, dtype=bool)

    def _ensure_rows(self, sources: np.ndarray) -> None:
        missing = [int(s) for s in sources if int(s) not in self._rows]
        if self._disk is not None and missing:
            on_disk = [s for s in missing if self._done[s]]
            for s in on_disk:
                self._rows[s] = np.array(self._disk[s])
            missing = [s for s in missing if not self._done[s]]
        if not missing:
            return
        rows = dijkstra(self.graph, directed=False, indices=np.asarray(missing, dtype=np.int64))
        rows = np.atleast_2d(rows).astype(np.float32)
        for s, row in zip(missing, rows):
            self._rows[s] = row
        if self._disk is not None:
            idx = np.asarray(missing, dtype=np.int64)
            self._disk[idx] = rows
            self._disk.flush()
            self._done[idx] = True
            np.save(self._cache_file + ".done.npy", self._done)

    def distances(self, a, b) -> np.ndarray:
        a, b = _as_index(a), _as_index(b)
        if a.size == 0:
            return np.zeros(0, dtype=np.float64)
        # distances are symmetric: use the side with fewer distinct vertices as Dijkstra sources
        if np.unique(b).size < np.unique(a).size:
            a, b = b, a
        sources, inverse = np.unique(a, return_inverse=True)
        self._ensure_rows(sources)
        out = np.empty(a.shape[0], dtype=np.float64)
        order = np.argsort(inverse, kind="stable")
        groups = np.split(order, np.cumsum(np.bincount(inverse, minlength=sources.size))[:-1])
        for s, group in zip(sources, groups):
            out[group] = self._rows[int(s)][b[group]]
        return out
