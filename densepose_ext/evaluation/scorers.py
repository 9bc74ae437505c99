"""Per-image similarity between detections and GT for chart (IUV) and CSE predictions.

A scorer turns evaluation detections (dicts with `bbox` XYWH and a payload: `iuv` uint8 [3, h, w]
for charts, `coarse_segm` [K, S, S] + `embedding` [E, S, S] for CSE) into GPS matrices and masks.
"""

from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from .geodesics import DenseGeodesics, GeodesicDistances
from .gps import GroundTruthPoints, chart_gps_scores, cse_gps_scores
from .masks import chart_detection_mask, cse_detection_mask
from .surface import ChartSurface

__all__ = [
    "ChartScorer",
    "CseScorer",
    "ScorerInputError",
    "catalog_mesh_geodesics",
    "mesh_embeddings_table",
]


class ChartScorer:
    """GPS and masks for quantised chart detections against chart GT (`dp_I`, `dp_U`, `dp_V`)."""

    def __init__(self, surface: ChartSurface):
        self.surface = surface

    def gps_matrix(self, dets: List[dict], gt_anns: List[dict]) -> np.ndarray:
        gts = [GroundTruthPoints.from_annotation(a) for a in gt_anns]
        return chart_gps_scores(
            [d["iuv"] for d in dets], [d["bbox"] for d in dets], gts, self.surface
        )

    def detection_mask(self, det: dict, image_hw) -> np.ndarray:
        return chart_detection_mask(det["iuv"], det["bbox"], image_hw)


class ScorerInputError(ValueError):
    """An input of the scorer (mesh embeddings file) that it cannot use; names the file."""


def catalog_mesh_geodesics(name: str) -> GeodesicDistances:
    """Dense geodesics [V, V] of a mesh from the mesh catalog (`create_mesh(name).geodists`);
    a mesh whose files cannot be had is a `LocalMeshError` naming it and the local options."""
    from ..data.meshes import create_mesh, require_meshes

    require_meshes([name], extras=("geodists",), load=False)
    geodists = create_mesh(name).geodists
    if isinstance(geodists, torch.Tensor):
        geodists = geodists.cpu().numpy()
    return DenseGeodesics(geodists)


def mesh_embeddings_table(path: Optional[str]) -> Callable[[str], torch.Tensor]:
    """`embedder(mesh name)` -> [V, E] from a torch file {mesh name: tensor}; errors name the
    file and, for a missing mesh, the meshes it has."""
    if not path:
        raise ScorerInputError(
            "CSE results need --mesh-embeddings: a torch file {mesh name: vertex embeddings "
            "[V, E]} (docs/apply_net.md shows how to write it from a checkpoint)"
        )
    try:
        table = torch.load(path, map_location="cpu")
    except Exception as e:  # missing, not a torch file, not plain tensors
        first = " ".join(str(e).split()).split(". ")[0]
        raise ScorerInputError(f"cannot read --mesh-embeddings {path!r}: {first}") from e
    if not isinstance(table, dict) or not all(torch.is_tensor(v) for v in table.values()):
        raise ScorerInputError(f"--mesh-embeddings {path!r} is not a {{mesh name: tensor}} dict")

    def embeddings(name: str) -> torch.Tensor:
        if name not in table:
            raise ScorerInputError(
                f"--mesh-embeddings {path!r} has no embeddings for mesh {name!r} (it has: "
                f"{', '.join(map(str, table)) or 'none'})"
            )
        return table[name]

    return embeddings


class CseScorer:
    """GPS and masks for CSE detections against GT with `dp_vertex` / `ref_model`.

    `embedder(mesh_name)` -> normalised vertex embeddings [V, E]; `mesh_geodesics(mesh_name)` ->
    a GeodesicDistances (default: the mesh catalog's geodists). Both are cached per mesh.
    """

    def __init__(self, embedder: Callable, mesh_geodesics: Callable = catalog_mesh_geodesics):
        self._embedder = embedder
        self._mesh_geodesics = mesh_geodesics
        self._emb_cache: Dict[str, torch.Tensor] = {}
        self._geo_cache: Dict[str, GeodesicDistances] = {}

    def mesh_embeddings(self, name: str) -> torch.Tensor:
        if name not in self._emb_cache:
            with torch.no_grad():
                self._emb_cache[name] = self._embedder(name).detach().float().cpu()
        return self._emb_cache[name]

    def mesh_geodesics(self, name: str) -> GeodesicDistances:
        if name not in self._geo_cache:
            self._geo_cache[name] = self._mesh_geodesics(name)
        return self._geo_cache[name]

    def gps_matrix(self, dets: List[dict], gt_anns: List[dict]) -> np.ndarray:
        gts = [GroundTruthPoints.from_annotation(a) for a in gt_anns]
        return cse_gps_scores(
            [d["coarse_segm"] for d in dets],
            [d["embedding"] for d in dets],
            [d["bbox"] for d in dets],
            gts,
            self.mesh_embeddings,
            self.mesh_geodesics,
        )

    def detection_mask(self, det: dict, image_hw) -> np.ndarray:
        return cse_detection_mask(det["coarse_segm"], det["bbox"], image_hw)
