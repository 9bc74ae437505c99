"""CSE cycle-consistency losses: shape-to-shape (mesh -> mesh -> mesh) and pixel-to-shape."""

import itertools
import random
from typing import Any, List, Optional

import torch
import torch.nn.functional as F
from detectron2.structures import Instances

from ...data.meshes.catalog import MeshCatalog, create_mesh
from .utils import PackedDensePoseGT, zero_loss

__all__ = ["ShapeToShapeCycleLoss", "PixToShapeCycleLoss", "embedder_zero_loss"]


def embedder_zero_loss(embedder: Any) -> torch.Tensor:
    """0 connected to every embedder mesh output (keeps DDP graphs identical)."""
    return zero_loss(*[embedder(name) for name in sorted(embedder.mesh_names)])


def _entrywise_norm(x: torch.Tensor, p: float) -> torch.Tensor:
    return torch.linalg.vector_norm(x.reshape(-1), ord=p)


class ShapeToShapeCycleLoss:
    """|G1 * (P12 P21)|_p + |G2 * (P21 P12)|_p for the next pair of embedder meshes.

    A = E1 E2^T, P12 = softmax_rows(A / T), P21 = softmax_rows(A^T / T); pairs are drawn from a
    shuffled list of all unordered pairs, reshuffled when exhausted; each mesh optionally restricted
    to MAX_NUM_VERTICES random vertices.
    """

    def __init__(self, cfg):
        cse = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE
        s2s = cse.SHAPE_TO_SHAPE_CYCLE_LOSS
        self.shape_names = list(cse.EMBEDDERS.keys())
        self.all_pairs = list(itertools.combinations(self.shape_names, 2))
        self.norm_p = s2s.NORM_P
        self.temperature = s2s.TEMPERATURE
        self.max_num_vertices = s2s.MAX_NUM_VERTICES
        self._queue: List = []

    def _next_pair(self):
        if not self._queue:
            self._queue = random.sample(self.all_pairs, len(self.all_pairs))
        return self._queue.pop(0)

    def _sampled(self, embedder: Any, name: str):
        embeddings = embedder(name)  # [V, D]
        geodists = create_mesh(name, embeddings.device).geodists
        n = embeddings.shape[0]
        if 0 < self.max_num_vertices < n:
            keep = torch.randperm(n, device=embeddings.device)[: self.max_num_vertices]
            embeddings, geodists = embeddings[keep], geodists[keep][:, keep]
        return embeddings, geodists

    def __call__(self, embedder: Any) -> torch.Tensor:
        if not self.all_pairs:
            return embedder_zero_loss(embedder)
        name_1, name_2 = self._next_pair()
        e1, g1 = self._sampled(embedder, name_1)
        e2, g2 = self._sampled(embedder, name_2)
        sim = e1 @ e2.T  # [V1, V2]
        p12 = F.softmax(sim / self.temperature, dim=1)
        p21 = F.softmax(sim.T / self.temperature, dim=1)
        return _entrywise_norm(g1 * (p12 @ p21), self.norm_p) + _entrywise_norm(
            g2 * (p21 @ p12), self.norm_p
        )


class PixToShapeCycleLoss:
    """Mean over (instance, mesh) of |D_pix * (softmax_rows(A / T_pv) softmax_rows(A^T / T_vp))|_p.

    Pixels: up to NUM_PIXELS_TO_SAMPLE random foreground pixels of the GT mask cropped to the
    proposal (S x S); A = P E^T with P the normalised pixel embeddings; D_pix = squared distances of
    the pixels' (row, col). Meshes: those in the batch GT, or all embedder meshes.
    """

    def __init__(self, cfg):
        p2s = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.PIX_TO_SHAPE_CYCLE_LOSS
        self.norm_p = p2s.NORM_P
        self.use_all_meshes = p2s.USE_ALL_MESHES_NOT_GT_ONLY
        self.num_pixels_to_sample = p2s.NUM_PIXELS_TO_SAMPLE
        self.t_pix_to_vertex = p2s.TEMPERATURE_PIXEL_TO_VERTEX
        self.t_vertex_to_pix = p2s.TEMPERATURE_VERTEX_TO_PIXEL

    @staticmethod
    def _masks(proposals_with_gt: List[Instances], side: int, device) -> Optional[torch.Tensor]:
        crops = []
        for instances in proposals_with_gt:
            if len(instances) == 0:
                continue
            if not instances.has("gt_masks"):
                raise ValueError(
                    "PIX_TO_SHAPE_CYCLE_LOSS needs instance masks (gt_masks): enable "
                    "MODEL.MASK_ON or COARSE_SEGM_TRAINED_BY_MASKS"
                )
            crops.append(instances.gt_masks.crop_and_resize(instances.proposal_boxes.tensor, side))
        return torch.cat(crops).to(device) if crops else None

    def _mesh_names(self, packed: Optional[PackedDensePoseGT], embedder: Any) -> List[str]:
        if self.use_all_meshes:
            return sorted(embedder.mesh_names)
        if packed is None:
            return []
        ids = torch.unique(packed.vertex_mesh_ids_gt).tolist()
        return [MeshCatalog.get_mesh_name(int(i)) for i in ids]

    def __call__(
        self,
        proposals_with_gt: List[Instances],
        outputs: Any,
        packed: Optional[PackedDensePoseGT],
        embedder: Any,
    ) -> torch.Tensor:
        embeddings = outputs.embedding  # [N, D, S, S]
        n, d, side = embeddings.shape[0], embeddings.shape[1], embeddings.shape[-1]
        masks = self._masks(proposals_with_gt, side, embeddings.device)
        meshes = self._mesh_names(packed, embedder)
        if masks is None or not meshes:
            return zero_loss(embeddings) + embedder_zero_loss(embedder)
        rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
        coords = torch.stack([rows.reshape(-1), cols.reshape(-1)], 1).to(embeddings)  # [S*S, 2]
        vertex_embeddings = {name: embedder(name) for name in meshes}
        terms = []
        for k in range(n):
            pixels = masks[k].reshape(-1).nonzero().flatten()
            if self.num_pixels_to_sample > 0 and pixels.numel() > self.num_pixels_to_sample:
                pick = torch.randperm(pixels.numel(), device=pixels.device)[
                    : self.num_pixels_to_sample
                ]
                pixels = pixels[pick]
            if pixels.numel() == 0:
                continue
            p = F.normalize(embeddings[k].reshape(d, -1)[:, pixels].T, dim=1)  # [n_pix, D]
            d_pix = torch.cdist(coords[pixels], coords[pixels]).pow(2)  # [n_pix, n_pix]
            for name in meshes:
                sim = p @ vertex_embeddings[name].T  # [n_pix, V]
                cycle = F.softmax(sim / self.t_pix_to_vertex, dim=1) @ F.softmax(
                    sim.T / self.t_vertex_to_pix, dim=1
                )
                terms.append(_entrywise_norm(d_pix * cycle, self.norm_p))
        if not terms:
            return zero_loss(embeddings) + embedder_zero_loss(embedder)
        return torch.stack(terms).mean()
