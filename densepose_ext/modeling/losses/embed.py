"""Per-mesh CSE embedding losses (`CSE.EMBED_LOSS_NAME`: `EmbeddingLoss`, `SoftEmbeddingLoss`).

For mesh m: points = valid and GT mesh id = m; e_p = L2-normalised bilinear sample of the embedding
(all D channels); E = embedder(m) (normalised, [V, D]); d2(p, k) = |e_p - E_k|^2.
  EmbeddingLoss:     mean CE over vertices of logits -d2 / EMBEDDING_DIST_GAUSS_SIGMA,
  target = GT vertex
  SoftEmbeddingLoss: target q_k = softmax_k(-G[gt, k] / GEODESIC_DIST_GAUSS_SIGMA) (G geodesics);
                     mean over points of -sum_k q_k log_softmax_k(-d2 / EMBEDDING_DIST_GAUSS_SIGMA)
Both return {mesh name: unweighted loss} for the meshes present in the batch.
"""

from typing import Any, Callable, Dict

import torch
import torch.nn.functional as F

from ...data.meshes.catalog import MeshCatalog, create_mesh
from .utils import PackedDensePoseGT, PointSamples, extract_at_points

__all__ = ["EmbeddingLoss", "SoftEmbeddingLoss", "EMBEDDING_LOSSES", "squared_euclidean_distances"]


def squared_euclidean_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a_i - b_j|^2 for a [P, D], b [V, D] -> [P, V] (clamped at 0)."""
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)


class _PerMeshEmbeddingLoss:
    """Splits the valid points by GT mesh and applies `point_loss` per mesh."""

    def __init__(self, cfg):
        self.embdist_gauss_sigma = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDING_DIST_GAUSS_SIGMA

    def point_loss(
        self, logits: torch.Tensor, vertex_ids: torch.Tensor, mesh_name: str
    ) -> torch.Tensor:
        raise NotImplementedError

    def __call__(
        self, outputs: Any, packed: PackedDensePoseGT, samples: PointSamples, embedder: Callable
    ) -> Dict[str, torch.Tensor]:
        losses = {}
        mesh_ids = packed.vertex_mesh_ids_gt
        for mesh_id in torch.unique(mesh_ids[samples.valid]).tolist():
            mesh_name = MeshCatalog.get_mesh_name(int(mesh_id))
            if not embedder.has_embeddings(mesh_name):
                raise ValueError(
                    f"GT refers to mesh {mesh_name!r}, which has no embedder in CSE.EMBEDDERS"
                )
            selected = samples.valid & (mesh_ids == mesh_id)
            pixel_embeddings = extract_at_points(
                outputs.embedding, packed.point_bbox_indices, samples, mask=selected
            )  # [P', D]
            pixel_embeddings = F.normalize(pixel_embeddings, dim=1)
            d2 = squared_euclidean_distances(pixel_embeddings, embedder(mesh_name))  # [P', V]
            logits = -d2 / self.embdist_gauss_sigma
            losses[mesh_name] = self.point_loss(logits, packed.vertex_ids_gt[selected], mesh_name)
        return losses


class EmbeddingLoss(_PerMeshEmbeddingLoss):
    """Hard assignment: cross-entropy against the GT vertex (index -1 ignored)."""

    def point_loss(self, logits, vertex_ids, mesh_name):
        return F.cross_entropy(logits, vertex_ids, ignore_index=-1)


class SoftEmbeddingLoss(_PerMeshEmbeddingLoss):
    """Soft assignment: cross-entropy against a geodesic Gaussian around the GT vertex."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.geodist_gauss_sigma = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.GEODESIC_DIST_GAUSS_SIGMA

    def point_loss(self, logits, vertex_ids, mesh_name):
        geodists = create_mesh(mesh_name, logits.device).geodists  # [V, V]
        with torch.no_grad():
            target = F.softmax(-geodists[vertex_ids] / self.geodist_gauss_sigma, dim=1)  # [P', V]
        return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


EMBEDDING_LOSSES = {"EmbeddingLoss": EmbeddingLoss, "SoftEmbeddingLoss": SoftEmbeddingLoss}
