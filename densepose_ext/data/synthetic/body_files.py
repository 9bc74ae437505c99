"""The synthetic body as data files: CSE mesh, geodesic distances, flip tables, GPS surface data.

Files written by `write_body_files(directory)` (mesh `<m>` = "synthetic_body_<N>"):

* `<m>.pkl`: dict(vertices float32 [N, 3] rest pose in metres, faces int64 [M, 3]) (mesh catalog);
* `geodists/geodists_<m>.pkl`: float32 [N, N] geodesic distances (metres) in the rest pose;
* `symmetry/symmetry_<m>.pkl`: dict(vertex_transforms=int64 [N]) left/right mirror vertex map;
* `texcoords/texcoords_<m>.pkl`: float32 [N, 2] atlas coordinates: part p's chart occupies the
  tile (column (p-1)//6, row (p-1)%6) of a 4x6 grid, texcoord = ((col + u) / 4, (row + v) / 6);
* `<m>_surface.npz`: GPS evaluation data, keys `part_ids` int64 [N] (1..24), `u`, `v` float32 [N],
  `geodists` float32 [N, N] (same vertices as the mesh);
* `UV_symmetry_transforms_synthetic.mat`: flip tables in the official format (`U_transforms`,
  `V_transforms`: 1x24 cells of float 256x256; part p, point (u, v) flips to
  table[p-1][floor(255 v), floor(255 u)]). For this body every paired part keeps (u, v) and the
  torso parts map u -> 1 - u; table values are the centres of the 1/255 cells.
"""

import os
import pickle
from dataclasses import dataclass
from typing import Dict

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from .body import SEGMENTS, BodyTemplate, mean_body_dims
from .pose import posed_vertices, rest_pose

__all__ = [
    "BodyFiles",
    "rest_vertices",
    "geodesic_distances",
    "flip_tables",
    "synthetic_body_surface",
    "write_body_files",
    "register_body_mesh",
]

FLIP_TABLES_FILENAME = "UV_symmetry_transforms_synthetic.mat"
_SEAM_WEIGHT = 1e-9  # "zero-length" edges between coincident vertices (kept as explicit edges)


@dataclass(frozen=True)
class BodyFiles:
    """Paths of the files written by `write_body_files`."""

    mesh_name: str
    mesh: str
    geodists: str
    symmetry: str
    texcoords: str
    surface: str
    flip_tables: str


def rest_vertices(template: BodyTemplate) -> np.ndarray:
    """Vertices of the mean body in the rest pose, float64 [N, 3] (metres)."""
    return posed_vertices(template, mean_body_dims(), rest_pose())


# grid steps (d_s, d_theta) linked inside a part: a 16-neighbourhood keeps the metrication error
# of grid Dijkstra small (a few %) and, unlike the triangle diagonals, is mirror-symmetric
_GRID_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1), (1, 2), (2, 1), (1, -2), (2, -1))


def _grid_edges(template: BodyTemplate) -> np.ndarray:
    """Vertex pairs [E, 2] of the per-part (s, theta) grids for the steps in `_GRID_STEPS`."""
    pairs = []
    for part in range(1, 25):
        ids = np.nonzero(template.part_ids == part)[0]
        n_theta = np.unique(template.u[ids]).shape[0]
        grid = ids.reshape(-1, n_theta)  # vertices are row-major (s, theta) per part
        n_s = grid.shape[0]
        for ds, dt in _GRID_STEPS:
            t0, t1 = max(0, -dt), n_theta - max(0, dt)
            a = grid[: n_s - ds, t0:t1]
            b = grid[ds:, t0 + dt : t1 + dt]
            pairs.append(np.stack([a.ravel(), b.ravel()], axis=1))
    return np.concatenate(pairs)


def _edge_graph(template: BodyTemplate, points: np.ndarray) -> coo_matrix:
    """Grid edges + welds of coincident vertices + bridges between overlapping parent/child
    segments."""
    grid = _grid_edges(template)
    src, dst = grid[:, 0], grid[:, 1]
    weights = [np.maximum(np.linalg.norm(points[src] - points[dst], axis=1), _SEAM_WEIGHT)]
    edge_len = float(np.median(weights[0]))
    srcs, dsts = [src], [dst]
    keys = np.round(points / 1e-7).astype(np.int64)
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    representative = first[group.reshape(-1)]  # first vertex at the same position
    welded = representative != np.arange(points.shape[0])
    srcs.append(np.nonzero(welded)[0])
    dsts.append(representative[welded])
    weights.append(np.full(int(welded.sum()), _SEAM_WEIGHT))
    for child, seg in enumerate(SEGMENTS):
        if seg.parent < 0:
            continue
        child_ids = np.nonzero(template.segment == child)[0]
        parent_ids = np.nonzero(template.segment == seg.parent)[0]
        dist, nearest = cKDTree(points[parent_ids]).query(points[child_ids])
        keep = dist <= max(edge_len, np.sort(dist)[min(7, dist.shape[0] - 1)])
        srcs.append(child_ids[keep])
        dsts.append(parent_ids[nearest[keep]])
        weights.append(np.maximum(dist[keep], _SEAM_WEIGHT))
    n = points.shape[0]
    return coo_matrix(
        (np.concatenate(weights), (np.concatenate(srcs), np.concatenate(dsts))), shape=(n, n)
    )


def geodesic_distances(template: BodyTemplate) -> np.ndarray:
    """All-pairs geodesic distances on the rest-pose mean body (Dijkstra on edges),
    float32 [N, N]."""
    graph = _edge_graph(template, rest_vertices(template)).tocsr()
    num_components, _ = connected_components(graph, directed=False)
    if num_components != 1:
        raise RuntimeError(f"synthetic body graph has {num_components} components; expected 1")
    dist = dijkstra(graph, directed=False)
    dist = 0.5 * (dist + dist.T)
    mirror = template.symmetry
    dist = 0.5 * (dist + dist[np.ix_(mirror, mirror)])  # exact left/right symmetry (KD-tree ties)
    np.fill_diagonal(dist, 0.0)
    return dist.astype(np.float32)


def flip_tables() -> Dict[str, np.ndarray]:
    """`U_transforms`, `V_transforms`:
    float32 [24, 256, 256] indexed [part-1, floor(255 v), floor(255 u)]."""
    centres = np.minimum((np.arange(256) + 0.5) / 255.0, 1.0).astype(np.float32)
    u_table = np.broadcast_to(centres[None, None, :], (24, 256, 256)).copy()
    v_table = np.broadcast_to(centres[None, :, None], (24, 256, 256)).copy()
    u_table[[0, 1]] = 1.0 - u_table[[0, 1]]  # torso back / front are their own mirror images
    return {"U_transforms": u_table, "V_transforms": v_table}


def texture_coordinates(template: BodyTemplate) -> np.ndarray:
    """Atlas coordinates [N, 2] (4 columns x 6 rows of part tiles), see module docstring."""
    col = (template.part_ids - 1) // 6
    row = (template.part_ids - 1) % 6
    return np.stack([(col + template.u) / 4.0, (row + template.v) / 6.0], axis=1).astype(np.float32)


def synthetic_body_surface(template: BodyTemplate) -> Dict[str, np.ndarray]:
    """GPS evaluation data of the body: part_ids [N], u [N], v [N], geodists [N, N]."""
    return {
        "part_ids": template.part_ids.astype(np.int64),
        "u": template.u.astype(np.float32),
        "v": template.v.astype(np.float32),
        "geodists": geodesic_distances(template),
    }


def _dump(obj, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def _save_flip_tables(path: str) -> None:
    from scipy.io import savemat

    cells = {}
    for key, table in flip_tables().items():
        cell = np.empty((1, 24), dtype=object)
        for p in range(24):
            cell[0, p] = table[p]
        cells[key] = cell
    savemat(path, cells, do_compression=True)


def body_file_paths(directory: str, template: BodyTemplate) -> BodyFiles:
    m = template.mesh_name
    return BodyFiles(
        mesh_name=m,
        mesh=os.path.join(directory, f"{m}.pkl"),
        geodists=os.path.join(directory, "geodists", f"geodists_{m}.pkl"),
        symmetry=os.path.join(directory, "symmetry", f"symmetry_{m}.pkl"),
        texcoords=os.path.join(directory, "texcoords", f"texcoords_{m}.pkl"),
        surface=os.path.join(directory, f"{m}_surface.npz"),
        flip_tables=os.path.join(directory, FLIP_TABLES_FILENAME),
    )


def write_body_files(directory: str, template: BodyTemplate, overwrite: bool = False) -> BodyFiles:
    """Writes the body's files (see module docstring) unless they all exist already."""
    files = body_file_paths(directory, template)
    paths = [
        files.mesh,
        files.geodists,
        files.symmetry,
        files.texcoords,
        files.surface,
        files.flip_tables,
    ]
    if not overwrite and all(os.path.isfile(p) for p in paths):
        return files
    surface = synthetic_body_surface(template)
    vertices = rest_vertices(template).astype(np.float32)
    _dump({"vertices": vertices, "faces": template.faces.astype(np.int64)}, files.mesh)
    _dump(surface["geodists"], files.geodists)
    _dump({"vertex_transforms": template.symmetry.astype(np.int64)}, files.symmetry)
    _dump(texture_coordinates(template), files.texcoords)
    np.savez(files.surface, **surface)
    _save_flip_tables(files.flip_tables)
    return files


def register_body_mesh(files: BodyFiles) -> bool:
    """Registers the body in the CSE mesh catalog (if the catalog module is available)."""
    try:
        from ..meshes import MeshCatalog, MeshInfo, register_mesh
    except ImportError:
        return False
    info = MeshInfo(
        name=files.mesh_name,
        data=files.mesh,
        geodists=files.geodists,
        symmetry=files.symmetry,
        texcoords=files.texcoords,
    )
    try:
        if MeshCatalog.get(files.mesh_name) == info:
            return True
    except KeyError:
        pass
    register_mesh(info)
    return True
