"""Vectorised z-buffer triangle rasteriser (numpy).

Screen frame: x to the right, y down, pixel (row i, col j) has its centre at (j + 0.5, i + 0.5);
smaller depth = closer to the camera. Triangles are grouped by the size of their pixel bounding
box (powers of two) and all candidate pixels of a group are tested at once; the closest fragment
per pixel wins.
"""

from typing import List, Tuple

import numpy as np

__all__ = ["rasterize"]


def _triangle_boxes(tri: np.ndarray, height: int, width: int) -> Tuple[np.ndarray, ...]:
    """Inclusive pixel ranges whose centres may lie in each triangle: x0, x1, y0, y1 int64 [F]."""
    lo = tri.min(axis=1)
    hi = tri.max(axis=1)
    x0 = np.clip(np.ceil(lo[:, 0] - 0.5), 0, width - 1).astype(np.int64)
    x1 = np.clip(np.floor(hi[:, 0] - 0.5), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.ceil(lo[:, 1] - 0.5), 0, height - 1).astype(np.int64)
    y1 = np.clip(np.floor(hi[:, 1] - 0.5), -1, height - 1).astype(np.int64)
    return x0, x1, y0, y1


def _fragments(tri, depth, x0, y0, side: int, height: int, width: int):
    """Covered pixels of triangles whose box fits in side x side: (face, row, col, depth, bary).

    Barycentric weights are affine in the pixel centre (px, py): w = k + kx * px + ky * py.
    """
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]  # [F, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    offsets = np.arange(side) + 0.5
    px = (x0[:, None] + offsets[None, :])[:, None, :]  # [F, 1, side]
    py = (y0[:, None] + offsets[None, :])[:, :, None]  # [F, side, 1]
    weights = []
    for p, q in ((b, c), (c, a)):  # w0 from edge (b, c), w1 from edge (c, a)
        k = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]) / area
        kx = (p[:, 1] - q[:, 1]) / area
        ky = (q[:, 0] - p[:, 0]) / area
        weights.append(k[:, None, None] + kx[:, None, None] * px + ky[:, None, None] * py)
    w0, w1 = weights  # [F, side, side]
    w2 = 1.0 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (px < width) & (py < height)
    face, r, col = np.nonzero(inside)
    bary = np.stack([w0[face, r, col], w1[face, r, col], w2[face, r, col]], axis=1)
    z = np.einsum("kj,kj->k", bary, depth[face])
    return face, y0[face] + r, x0[face] + col, z, bary


def rasterize(
    xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, height: int, width: int, cull: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """Z-buffer rasterisation of a triangle mesh in screen coordinates.

    Args:
        xy: [V, 2] vertex screen positions (pixels); depth: [V] (smaller = closer);
        faces: [F, 3] int64 vertex indices.
        cull: 0 keeps every face; +1 / -1 keeps only faces whose signed screen area has that sign
            (back-face culling of closed, consistently oriented surfaces).
    Returns:
        face_map: int64 [H, W], index of the visible face (-1 = background);
        bary: float32 [H, W, 3], barycentric weights of the face's 3 vertices at the pixel centre.
    """
    faces = np.asarray(faces, dtype=np.int64)
    tri = xy[faces]  # [F, 3, 2]
    tri_depth = depth[faces]  # [F, 3]
    area = (tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1]) - (
        tri[:, 1, 1] - tri[:, 0, 1]
    ) * (tri[:, 2, 0] - tri[:, 0, 0])
    x0, x1, y0, y1 = _triangle_boxes(tri, height, width)
    extent = np.maximum(x1 - x0, y1 - y0) + 1
    keep = (np.abs(area) > 1e-10) & (x1 >= x0) & (y1 >= y0)
    if cull:
        keep &= area * cull > 0
    face_ids = np.nonzero(keep)[0]
    side = np.maximum(1, 2 ** np.ceil(np.log2(np.maximum(extent[face_ids], 1)))).astype(np.int64)
    parts: List[Tuple[np.ndarray, ...]] = []
    for s in np.unique(side):
        sel = face_ids[side == s]
        f, r, c, z, bary = _fragments(
            tri[sel], tri_depth[sel], x0[sel], y0[sel], int(s), height, width
        )
        parts.append((sel[f], r * width + c, z, bary))
    face_map = np.full(height * width, -1, dtype=np.int64)
    bary_map = np.zeros((height * width, 3), dtype=np.float32)
    if parts:
        face, pix, z, bary = (np.concatenate(p) for p in zip(*parts))
        winner = _closest_per_pixel(pix, z)
        face_map[pix[winner]] = face[winner]
        bary_map[pix[winner]] = bary[winner]
    return face_map.reshape(height, width), bary_map.reshape(height, width, 3)


def _closest_per_pixel(pix: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Index of the smallest-depth fragment of every covered pixel (ties: lowest index)."""
    if pix.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((z, pix))
    sorted_pix = pix[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = sorted_pix[1:] != sorted_pix[:-1]
    return order[first]
