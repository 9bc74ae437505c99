"""Mesh-alignment metrics for CSE embedders: how well named key vertices map between meshes."""

import json
import logging
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from ..utils.files import resolve_file
from .gps import point_similarity

__all__ = [
    "KEY_VERTICES_URL",
    "load_key_vertices",
    "mesh_alignment_errors",
    "evaluate_mesh_alignment",
]

logger = logging.getLogger(__name__)

KEY_VERTICES_URL = "https://dl.fbaipublicfiles.com/densepose/data/cse/mesh_keyvertices_v0.json"
ALIGNMENT_KAPPA = 0.255


def load_key_vertices(path_or_url: str = KEY_VERTICES_URL) -> Dict[str, Dict[str, int]]:
    """{mesh name: {key point name: vertex index (0-based)}}."""
    hint = (
        f"Download {KEY_VERTICES_URL} and pass its local path to enable mesh alignment evaluation."
    )
    with open(
        resolve_file(path_or_url, what="mesh key vertices (mesh_keyvertices_v0.json)", hint=hint)
    ) as f:
        return json.load(f)


def mesh_alignment_errors(
    emb_src: torch.Tensor,
    emb_dst: torch.Tensor,
    keys_src: Dict[str, int],
    keys_dst: Dict[str, int],
    geodesics_dst,
) -> np.ndarray:
    """Geodesic errors [K] on the destination mesh for key points named on both meshes.

    The match of a source key vertex is argmax over destination vertices of E_src[key] · E_dstᵀ.
    """
    names = [n for n in keys_src if n in keys_dst]
    if not names:
        return np.zeros(0)
    src = emb_src[[keys_src[n] for n in names]].float()  # [K, E]
    matches = (src @ emb_dst.float().T).argmax(dim=1).numpy()
    targets = np.array([keys_dst[n] for n in names], dtype=np.int64)
    return geodesics_dst.distances(matches, targets)


def evaluate_mesh_alignment(
    embedder: Callable,
    mesh_names: Optional[List[str]],
    mesh_geodesics: Callable,
    key_vertices: Optional[Dict[str, Dict[str, int]]] = None,
) -> Dict[str, float]:
    """GE, GPS (global) and GE-<mesh>, GPS-<mesh> (mean over partner meshes), all ×100."""
    key_vertices = key_vertices if key_vertices is not None else load_key_vertices()
    names = list(mesh_names) if mesh_names else list(getattr(embedder, "mesh_names", key_vertices))
    names = [n for n in names if n in key_vertices]
    per_mesh_ge, per_mesh_gps = {}, {}
    with torch.no_grad():
        embeddings = {n: embedder(n).detach().cpu() for n in names}
    for m1 in names:
        ge, gps = [], []
        for m2 in names:
            if m1 == m2:
                continue
            errors = mesh_alignment_errors(
                embeddings[m1],
                embeddings[m2],
                key_vertices[m1],
                key_vertices[m2],
                mesh_geodesics(m2),
            )
            if errors.size:
                ge.append(errors.mean())
                gps.append(point_similarity(errors, np.full(errors.shape, ALIGNMENT_KAPPA)).mean())
        if ge:
            per_mesh_ge[m1], per_mesh_gps[m1] = float(np.mean(ge)), float(np.mean(gps))
    if not per_mesh_ge:
        logger.warning("Mesh alignment: fewer than two meshes with shared key vertices")
        return {}
    results = {
        "GE": 100 * float(np.mean(list(per_mesh_ge.values()))),
        "GPS": 100 * float(np.mean(list(per_mesh_gps.values()))),
    }
    for m in per_mesh_ge:
        results[f"GE-{m}"] = 100 * per_mesh_ge[m]
        results[f"GPS-{m}"] = 100 * per_mesh_gps[m]
    return results
