"""The body surface GPS evaluation needs: chart points (part, U, V), their geodesic vertices,
distances.

Sources: the official DensePose evaluation files (`SMPL_subdiv.mat`, `SMPL_SUBDIV_TRANSFORM.mat`,
`Pdist_matrix.pkl`), an offline approximation built from the chart definition `UV_Processed.mat` and
the subdivided SMPL mesh `smpl_27554.pkl` (graph geodesics, `approximate=True`), or a synthetic body
`.npz` (per-vertex `part_ids`, `u`, `v` and dense `geodists`).
"""

import hashlib
import logging
import os
import pickle
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np
from scipy.spatial import cKDTree

from ..structures.constants import DENSEPOSE_DATA_URL_PREFIX, N_FINE_PARTS
from ..utils.files import ExternalFileError, resolve_file
from .geodesics import (
    CondensedGeodesics,
    DenseGeodesics,
    GeodesicDistances,
    GraphGeodesics,
    mesh_edge_graph,
)

__all__ = [
    "ChartSurface",
    "OFFICIAL_SURFACE_URLS",
    "load_official_surface",
    "build_approximate_smpl_surface",
    "load_synthetic_surface",
    "load_chart_surface",
    "default_cache_dir",
]

logger = logging.getLogger(__name__)

OFFICIAL_BASE_URL = DENSEPOSE_DATA_URL_PREFIX
OFFICIAL_SURFACE_URLS = {
    name: OFFICIAL_BASE_URL + name
    for name in ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat", "Pdist_matrix.pkl")
}


@dataclass
class ChartSurface:
    """Surface points of a chart body model and geodesic distances between them.

    `part_ids` int64 [M] (1..24), `uv` float64 [M, 2] chart coordinates of each surface point,
    `vertex_ids` int64 [M] 0-based vertex of the geodesic provider for each point.
    `approximate` marks surfaces whose distances are not the official ones.
    """

    part_ids: np.ndarray
    uv: np.ndarray
    vertex_ids: np.ndarray
    geodesics: GeodesicDistances
    approximate: bool = False
    name: str = ""
    _trees: Dict[int, tuple] = field(default_factory=dict, repr=False)

    def _part_tree(self, part: int):
        if part not in self._trees:
            members = np.nonzero(self.part_ids == part)[0]
            tree = cKDTree(self.uv[members]) if members.size else None
            self._trees[part] = (tree, members)
        return self._trees[part]

    def closest_points(self, labels, u, v) -> np.ndarray:
        """Index [P] of the surface point nearest in (U, V) among points of part `labels[k]`.

        -1 where the label is not a part (0 = background) or the part has no surface points.
        """
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        uv = np.stack(
            [np.asarray(u, np.float64).reshape(-1), np.asarray(v, np.float64).reshape(-1)], 1
        )
        out = np.full(labels.shape[0], -1, dtype=np.int64)
        for part in np.unique(labels):
            if part < 1 or part > N_FINE_PARTS:
                continue
            tree, members = self._part_tree(int(part))
            if tree is None:
                continue
            sel = labels == part
            _, nearest = tree.query(uv[sel])
            out[sel] = members[nearest]
        return out

    def closest_vertices(self, labels, u, v) -> np.ndarray:
        """Geodesic vertex id [P] (0-based) of the closest surface point; -1 for none."""
        points = self.closest_points(labels, u, v)
        return np.where(points >= 0, self.vertex_ids[np.maximum(points, 0)], -1)


def default_cache_dir() -> str:
    """`$DENSEPOSE_EXT_CACHE`, else `$XDG_CACHE_HOME/densepose_ext` (default ~/.cache)."""
    if os.environ.get("DENSEPOSE_EXT_CACHE"):
        return os.environ["DENSEPOSE_EXT_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "densepose_ext")


def _official_hint(location: str) -> str:
    urls = ", ".join(OFFICIAL_SURFACE_URLS.values())
    return (
        "GPS evaluation needs the official DensePose files SMPL_subdiv.mat, "
        "SMPL_SUBDIV_TRANSFORM.mat and Pdist_matrix.pkl. Download them from " + urls + " and put "
        f"them in {location} (or point the dataset metadata 'densepose_surface' at the directory "
        "holding them); for an offline approximation use 'smpl_approximate:<dir>' with "
        "UV_Processed.mat and smpl_27554.pkl."
    )


def load_official_surface(directory: Optional[str] = None) -> ChartSurface:
    """Loads the three official files from `directory` (local dir or URL prefix; None = official
    URLs).

    Raises ExternalFileError naming every missing file, where it goes and how to get it.
    """
    where = directory or OFFICIAL_BASE_URL
    paths, problems = {}, []
    for name, url in OFFICIAL_SURFACE_URLS.items():
        location = url if directory is None else directory.rstrip("/") + "/" + name
        try:
            paths[name] = resolve_file(location, what=name)
        except ExternalFileError as e:
            problems.append(str(e))
    if problems:
        raise ExternalFileError("; ".join(problems) + ". " + _official_hint(where))
    import scipy.io

    subdiv = scipy.io.loadmat(paths["SMPL_subdiv.mat"])
    transform = scipy.io.loadmat(paths["SMPL_SUBDIV_TRANSFORM.mat"])
    with open(paths["Pdist_matrix.pkl"], "rb") as f:
        pdist = pickle.load(f, encoding="latin1")["Pdist_matrix"]
    uv = np.stack(
        [np.asarray(subdiv["U_subdiv"]).reshape(-1), np.asarray(subdiv["V_subdiv"]).reshape(-1)], 1
    )
    index_1based = np.asarray(transform["index"]).reshape(-1).astype(np.int64)
    return ChartSurface(
        part_ids=np.asarray(subdiv["Part_ID_subdiv"]).reshape(-1).astype(np.int64),
        uv=uv.astype(np.float64),
        vertex_ids=index_1based - 1,
        geodesics=CondensedGeodesics(pdist),
        approximate=False,
        name="smpl_official",
    )


def _subdivide_chart(faces: np.ndarray, face_parts: np.ndarray, uv: np.ndarray):
    """1-to-4 midpoint subdivision of the chart: per point parts [M], uv [M,2], chart edges [E,2].

    Points 0..C-1 are the chart vertices, C + e is the midpoint of chart edge e.
    """
    num_chart = uv.shape[0]
    vertex_parts = np.zeros(num_chart, dtype=np.int64)
    vertex_parts[faces.reshape(-1)] = np.repeat(face_parts, 3)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edge_parts = np.tile(face_parts, 3)
    edges, first = np.unique(np.sort(edges, axis=1), axis=0, return_index=True)
    parts = np.concatenate([vertex_parts, edge_parts[first]])
    points_uv = np.concatenate([uv, (uv[edges[:, 0]] + uv[edges[:, 1]]) / 2])
    return parts, points_uv, edges


def _chart_points_to_mesh(chart_to_smpl, edges, mesh_vertices) -> np.ndarray:
    """Mesh vertex [M] of every subdivided chart point (SMPL vertex or SMPL edge midpoint)."""
    ends = chart_to_smpl[edges]  # [E, 2] SMPL vertex ids of each chart edge
    midpoints = (mesh_vertices[ends[:, 0]] + mesh_vertices[ends[:, 1]]) / 2
    dist, nearest = cKDTree(mesh_vertices).query(midpoints)
    scale = np.linalg.norm(mesh_vertices.max(0) - mesh_vertices.min(0))
    if np.any(dist > 1e-6 * scale):
        raise ValueError(
            f"{int(np.sum(dist > 1e-6 * scale))} chart edge midpoints have no matching mesh "
            "vertex: "
            "the mesh is not the midpoint subdivision of the chart surface"
        )
    return np.concatenate([chart_to_smpl, nearest]).astype(np.int64)


def build_approximate_smpl_surface(
    uv_processed_path: str, mesh_path: str, cache_dir: Optional[str] = None
) -> ChartSurface:
    """Offline stand-in for the official files, from `UV_Processed.mat` and `smpl_27554.pkl`.

    Surface points = 1-to-4 subdivided chart; geodesics = shortest paths over the mesh edges plus
    unfolded triangle-pair diagonals (an upper bound, see docs); rows cached under `cache_dir`
    (default `default_cache_dir()`; "" disables the disk cache). `approximate=True`.
    """
    import scipy.io

    chart = scipy.io.loadmat(resolve_file(uv_processed_path, what="UV_Processed.mat"))
    with open(resolve_file(mesh_path, what="smpl_27554.pkl"), "rb") as f:
        mesh = pickle.load(f, encoding="latin1")
    vertices = np.asarray(mesh["vertices"], dtype=np.float64)
    faces = np.asarray(mesh["faces"], dtype=np.int64)
    chart_faces = np.asarray(chart["All_Faces"], dtype=np.int64) - 1
    face_parts = np.asarray(chart["All_FaceIndices"], dtype=np.int64).reshape(-1)
    chart_uv = np.stack(
        [np.asarray(chart["All_U_norm"]).reshape(-1), np.asarray(chart["All_V_norm"]).reshape(-1)],
        1,
    )
    chart_to_smpl = np.asarray(chart["All_vertices"], dtype=np.int64).reshape(-1) - 1
    parts, points_uv, edges = _subdivide_chart(chart_faces, face_parts, chart_uv)
    vertex_ids = _chart_points_to_mesh(chart_to_smpl, edges, vertices)
    cache_file = None
    if cache_dir is None:
        cache_dir = default_cache_dir()
    if cache_dir:
        digest = hashlib.md5(vertices.tobytes() + faces.tobytes() + b"unfolded-v1").hexdigest()[:16]
        cache_file = os.path.join(cache_dir, "geodesics", f"smpl_{vertices.shape[0]}_{digest}.f32")
    return ChartSurface(
        part_ids=parts,
        uv=points_uv,
        vertex_ids=vertex_ids,
        geodesics=GraphGeodesics(mesh_edge_graph(vertices, faces), cache_file=cache_file),
        approximate=True,
        name="smpl_approximate",
    )


def load_synthetic_surface(npz_path: str) -> ChartSurface:
    """Synthetic body `.npz`: per vertex `part_ids` (1..24), `u`,
    `v` and dense `geodists` [V, V]."""
    data = np.load(resolve_file(npz_path, what="synthetic body surface (.npz)"))
    missing = [k for k in ("part_ids", "u", "v", "geodists") if k not in data]
    if missing:
        raise ExternalFileError(f"synthetic surface {npz_path!r} lacks keys {missing}")
    part_ids = np.asarray(data["part_ids"], dtype=np.int64).reshape(-1)
    return ChartSurface(
        part_ids=part_ids,
        uv=np.stack([data["u"].reshape(-1), data["v"].reshape(-1)], 1).astype(np.float64),
        vertex_ids=np.arange(part_ids.shape[0], dtype=np.int64),
        geodesics=DenseGeodesics(data["geodists"]),
        approximate=False,
        name="synthetic",
    )


def _approximate_from_directory(directory: str) -> ChartSurface:
    candidates = [
        ("uv/UV_Processed.mat", "meshes/smpl_27554.pkl"),
        ("UV_Processed.mat", "smpl_27554.pkl"),
    ]
    for uv_rel, mesh_rel in candidates:
        uv_path, mesh_path = os.path.join(directory, uv_rel), os.path.join(directory, mesh_rel)
        if os.path.isfile(uv_path) and os.path.isfile(mesh_path):
            return build_approximate_smpl_surface(uv_path, mesh_path)
    raise ExternalFileError(
        f"'smpl_approximate' needs UV_Processed.mat and smpl_27554.pkl in {directory!r} "
        "(either directly or as uv/UV_Processed.mat and meshes/smpl_27554.pkl)"
    )


def load_chart_surface(source: Optional[str] = None) -> ChartSurface:
    """Surface from a source string (dataset metadata `densepose_surface`).

    None / "" / "official" -> official URLs; "<path>.npz" -> synthetic body;
    "smpl_approximate:<dir>" -> offline approximation; any other string -> a directory or URL
    prefix holding the three official files.
    """
    if not source or source == "official":
        return load_official_surface(None)
    if source.startswith("smpl_approximate"):
        directory = source.partition(":")[2]
        if not directory:
            raise ExternalFileError(
                "'smpl_approximate' needs a directory: 'smpl_approximate:<dir>' with "
                "UV_Processed.mat and smpl_27554.pkl"
            )
        return _approximate_from_directory(directory)
    if source.endswith(".npz"):
        return load_synthetic_surface(source)
    return load_official_surface(source)
