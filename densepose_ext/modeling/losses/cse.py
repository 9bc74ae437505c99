"""`DensePoseCseLoss`: coarse segmentation + per-mesh embedding losses (+ optional cycle losses).

Loss dict: `loss_densepose_S` (x INDEX_WEIGHTS), `loss_densepose_E<mesh>` for every embedder mesh
(x EMBED_LOSS_WEIGHT; zero-valued when the mesh is absent from the batch), `loss_shape2shape`,
`loss_pix2shape` when enabled (x their WEIGHT).
"""

from typing import Any, Dict, List

import torch
from detectron2.structures import Instances

from ..registry import DENSEPOSE_LOSS_REGISTRY
from .cycle import PixToShapeCycleLoss, ShapeToShapeCycleLoss
from .embed import EMBEDDING_LOSSES
from .segm import MaskOrSegmentationLoss
from .utils import pack_densepose_gt, sample_point_locations, zero_loss

__all__ = ["DensePoseCseLoss"]


@DENSEPOSE_LOSS_REGISTRY.register()
class DensePoseCseLoss:
    """CSE losses; called as `loss(proposals_with_gt, predictor_outputs, embedder=embedder)`."""

    def __init__(self, cfg):
        head = cfg.MODEL.ROI_DENSEPOSE_HEAD
        cse = head.CSE
        if cse.EMBED_LOSS_NAME not in EMBEDDING_LOSSES:
            raise KeyError(
                f"unknown CSE.EMBED_LOSS_NAME {cse.EMBED_LOSS_NAME!r}; known: "
                f"{list(EMBEDDING_LOSSES)}"
            )
        self.embed_loss = EMBEDDING_LOSSES[cse.EMBED_LOSS_NAME](cfg)
        self.w_segm = head.INDEX_WEIGHTS
        self.w_embed = cse.EMBED_LOSS_WEIGHT
        self.segm_loss = MaskOrSegmentationLoss(cfg)
        self.shape2shape = None
        self.pix2shape = None
        if cse.SHAPE_TO_SHAPE_CYCLE_LOSS.ENABLED:
            self.shape2shape = ShapeToShapeCycleLoss(cfg)
            self.w_shape2shape = cse.SHAPE_TO_SHAPE_CYCLE_LOSS.WEIGHT
        if cse.PIX_TO_SHAPE_CYCLE_LOSS.ENABLED:
            self.pix2shape = PixToShapeCycleLoss(cfg)
            self.w_pix2shape = cse.PIX_TO_SHAPE_CYCLE_LOSS.WEIGHT

    def __call__(
        self,
        proposals_with_gt: List[Instances],
        predictor_outputs: Any,
        embedder: Any = None,
        **kwargs,
    ) -> Dict[str, torch.Tensor]:
        if embedder is None:
            raise ValueError(
                "DensePoseCseLoss needs the embedder (MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS)"
            )
        packed = pack_densepose_gt(proposals_with_gt, "cse") if proposals_with_gt else None
        losses = {
            "loss_densepose_S": self.segm_loss(
                proposals_with_gt, predictor_outputs.coarse_segm, packed
            )
            * self.w_segm
        }
        per_mesh = {}
        if packed is not None:
            samples = sample_point_locations(packed, predictor_outputs.embedding.shape[-1])
            if bool(samples.valid.any()):
                per_mesh = self.embed_loss(predictor_outputs, packed, samples, embedder)
        for mesh_name in sorted(embedder.mesh_names):
            if mesh_name in per_mesh:
                value = per_mesh[mesh_name] * self.w_embed
            else:
                value = zero_loss(predictor_outputs.embedding, embedder(mesh_name))
            losses[f"loss_densepose_E{mesh_name}"] = value
        if self.shape2shape is not None:
            losses["loss_shape2shape"] = self.shape2shape(embedder) * self.w_shape2shape
        if self.pix2shape is not None:
            losses["loss_pix2shape"] = (
                self.pix2shape(proposals_with_gt, predictor_outputs, packed, embedder)
                * self.w_pix2shape
            )
        return losses
