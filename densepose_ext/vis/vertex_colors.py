"""Per-vertex colours for CSE vertex maps, and vertex -> chart (I, U, V) for the human mesh."""

from typing import Tuple

import numpy as np
import torch

from ..data.meshes.smpl_charts import SmplChartData

__all__ = [
    "chart_iuv_colors",
    "colorize_vertex_map",
    "midpoint_subdivision_edges",
    "smpl_subdiv_vertex_iuv",
    "vertex_colors_from_coordinates",
]


def vertex_colors_from_coordinates(vertices: np.ndarray) -> np.ndarray:
    """[V, 3] positions -> float32 [V, 3] RGB in [0, 1]: each axis min-max normalised."""
    vertices = np.asarray(vertices, dtype=np.float64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return ((vertices - lo) / span).astype(np.float32)


def colorize_vertex_map(
    vertices: torch.Tensor, mask: torch.Tensor, vertex_colors: np.ndarray
) -> np.ndarray:
    """Vertex ids [h, w] + mask [h, w] -> uint8 [h, w, 3] image (colours in [0, 1]; black
    off-mask)."""
    ids = vertices.cpu().numpy().astype(np.int64)
    image = np.asarray(vertex_colors, dtype=np.float32)[ids] * 255.0
    image[~mask.cpu().numpy().astype(bool)] = 0
    return np.clip(image, 0, 255).astype(np.uint8)


def chart_iuv_colors(
    parts: np.ndarray, u: np.ndarray, v: np.ndarray, num_parts: int = 24
) -> np.ndarray:
    """Chart coordinates -> float32 [V, 3] colours (I / num_parts, U, V)."""
    return np.stack([np.asarray(parts) / num_parts, u, v], axis=1).astype(np.float32)


def midpoint_subdivision_edges(faces: np.ndarray, num_base_vertices: int) -> np.ndarray:
    """Endpoints int64 [V - num_base_vertices, 2] of the edge each midpoint vertex splits.

    `faces` [M, 3] of a 1-to-4 midpoint subdivision whose first `num_base_vertices` vertices are
    the base mesh; a midpoint's base-vertex neighbours are exactly its two endpoints.
    """
    faces = np.asarray(faces, dtype=np.int64)
    num_vertices = int(faces.max()) + 1
    is_base = faces < num_base_vertices
    pairs = []  # (midpoint, base vertex) over every face edge that joins the two kinds
    for a, b in ((0, 1), (1, 2), (2, 0)):
        mixed = is_base[:, a] != is_base[:, b]
        base = np.where(is_base[mixed, a], faces[mixed, a], faces[mixed, b])
        mid = np.where(is_base[mixed, a], faces[mixed, b], faces[mixed, a])
        pairs.append(np.stack([mid, base], axis=1))
    pairs = np.unique(np.concatenate(pairs), axis=0)  # sorted by midpoint, then base vertex
    counts = np.bincount(pairs[:, 0], minlength=num_vertices)[num_base_vertices:]
    if len(counts) != num_vertices - num_base_vertices or not np.all(counts == 2):
        raise ValueError("faces are not a 1-to-4 midpoint subdivision of the first vertices")
    return pairs[:, 1].reshape(-1, 2)


def _smpl_vertex_iuv(charts: SmplChartData) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I, U, V of every SMPL vertex from its first chart vertex (I = 0 if not on any chart face)."""
    n = charts.num_smpl_vertices
    chart_part = np.zeros(len(charts.u), dtype=np.int64)
    chart_part[charts.faces.reshape(-1)] = np.repeat(charts.face_parts, 3)
    order = np.argsort(charts.chart_to_smpl, kind="stable")
    smpl_sorted = charts.chart_to_smpl[order]
    first = order[np.searchsorted(smpl_sorted, np.arange(n))]  # first chart vertex per SMPL vertex
    found = smpl_sorted[
        np.minimum(np.searchsorted(smpl_sorted, np.arange(n)), len(order) - 1)
    ] == np.arange(n)
    parts = np.where(found, chart_part[first], 0)
    return parts, np.where(found, charts.u[first], 0), np.where(found, charts.v[first], 0)


def _edge_iuv(
    charts: SmplChartData, edges: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I, U, V of SMPL edge midpoints [E, 2]:
    chart-edge midpoint in the first face having the edge."""
    n = np.int64(charts.num_smpl_vertices)
    c0 = charts.faces.reshape(-1)  # [3F] chart vertices, then their successors in each face
    c1 = charts.faces[:, [1, 2, 0]].reshape(-1)
    s0, s1 = charts.chart_to_smpl[c0], charts.chart_to_smpl[c1]
    keys = np.minimum(s0, s1) * n + np.maximum(s0, s1)
    unique_keys, first = np.unique(keys, return_index=True)  # first = lowest face index
    query = np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1])
    pos = np.minimum(np.searchsorted(unique_keys, query), len(unique_keys) - 1)
    found = unique_keys[pos] == query
    k = first[pos]
    parts = np.where(found, np.repeat(charts.face_parts, 3)[k], 0)
    u = np.where(found, (charts.u[c0[k]] + charts.u[c1[k]]) / 2, 0)
    v = np.where(found, (charts.v[c0[k]] + charts.v[c1[k]]) / 2, 0)
    return parts, u, v


def smpl_subdiv_vertex_iuv(
    charts: SmplChartData, subdiv_faces: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chart coordinates of every vertex of the subdivided SMPL mesh (e.g. smpl_27554).

    Returns parts int64 [V] (1..24, 0 = not on a chart), u, v float32 [V]. Vertices below 6890 are
    SMPL vertices (their first chart vertex); the others are edge midpoints, placed at the middle
    of the corresponding chart edge (the chart map is linear on each face).
    """
    base_parts, base_u, base_v = _smpl_vertex_iuv(charts)
    edges = midpoint_subdivision_edges(subdiv_faces, charts.num_smpl_vertices)
    mid_parts, mid_u, mid_v = _edge_iuv(charts, edges)
    parts = np.concatenate([base_parts, mid_parts]).astype(np.int64)
    u = np.concatenate([base_u, mid_u]).astype(np.float32)
    v = np.concatenate([base_v, mid_v]).astype(np.float32)
    return parts, u, v
