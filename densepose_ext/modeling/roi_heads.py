"""`DensePoseROIHeads`: detectron2's standard ROI heads plus the DensePose branch."""

import logging
from typing import Dict, List, Optional

import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling import ROI_HEADS_REGISTRY, StandardROIHeads
from detectron2.modeling.poolers import ROIPooler
from detectron2.modeling.roi_heads import select_foreground_proposals
from detectron2.structures import Boxes, Instances

from ..structures.predictor_outputs import PredictorOutput
from .cse.embedder import build_densepose_embedder
from .decoder import Decoder
from .filter import build_densepose_data_filter
from .registry import (
    DENSEPOSE_LOSS_REGISTRY,
    build_densepose_head,
    build_densepose_losses,
    build_densepose_predictor,
)

__all__ = ["DensePoseROIHeads", "densepose_inference"]

logger = logging.getLogger(__name__)


def densepose_inference(
    predictor_output: Optional[PredictorOutput], instances: List[Instances]
) -> None:
    """Splits the batched output (leading size sum N_i) into `pred_densepose` of each image.

    With no output (no box in the batch) no image gets a `pred_densepose` field.
    """
    if predictor_output is None:
        return
    start = 0
    for image_instances in instances:
        n = len(image_instances)
        image_instances.pred_densepose = predictor_output[start : start + n]
        start += n


@ROI_HEADS_REGISTRY.register()
class DensePoseROIHeads(StandardROIHeads):
    """Standard box (+mask/keypoint) heads, then decoder -> DensePose pooler -> head -> predictor.

    Submodules (state-dict order after the box branch): `decoder` (if DECODER_ON),
    `densepose_head`, `densepose_predictor`, `embedder` (CSE, None without embedders).
    """

    def __init__(self, cfg, input_shape: Dict[str, ShapeSpec]):
        super().__init__(cfg, input_shape)
        self._init_densepose_head(cfg, input_shape)

    def _init_densepose_head(self, cfg, input_shape: Dict[str, ShapeSpec]) -> None:
        self.densepose_on = cfg.MODEL.DENSEPOSE_ON
        self.embedder = None
        if not self.densepose_on:
            return
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        self.densepose_data_filter = build_densepose_data_filter(cfg)
        self.use_decoder = head_cfg.DECODER_ON
        if self.use_decoder:
            # the decoder output is one map at the first in-feature's stride
            pooler_scales = (1.0 / input_shape[self.in_features[0]].stride,)
            self.decoder = Decoder(cfg, input_shape, self.in_features)
        else:
            pooler_scales = tuple(1.0 / input_shape[f].stride for f in self.in_features)
        self.densepose_pooler = ROIPooler(
            output_size=head_cfg.POOLER_RESOLUTION,
            scales=pooler_scales,
            sampling_ratio=head_cfg.POOLER_SAMPLING_RATIO,
            pooler_type=head_cfg.POOLER_TYPE,
        )
        in_channels = input_shape[self.in_features[0]].channels
        self.densepose_head = build_densepose_head(cfg, in_channels)
        self.densepose_predictor = build_densepose_predictor(
            cfg, self.densepose_head.n_out_channels
        )
        self._loss_name = head_cfg.LOSS_NAME
        self.densepose_losses = self._build_losses(cfg)
        self.embedder = build_densepose_embedder(cfg)

    @staticmethod
    def _build_losses(cfg):
        """The loss object, or None when LOSS_NAME is not registered (inference still works;
        `train()` refuses, so a training run fails when it starts, not at its first step)."""
        try:
            return build_densepose_losses(cfg)
        except KeyError as e:
            logger.warning(f"DensePose loss unavailable, the model can only run inference: {e}")
            return None

    def train(self, mode: bool = True):
        """As `nn.Module.train`; training mode needs a registered LOSS_NAME (detectron2's
        trainers switch the model to it when they are built)."""
        if mode and getattr(self, "densepose_on", False) and self.densepose_losses is None:
            known = ", ".join(sorted(name for name, _ in DENSEPOSE_LOSS_REGISTRY))
            raise KeyError(
                f"MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME {self._loss_name!r} is not a registered "
                f"DensePose loss (registered: {known}); the model can run inference but not train"
            )
        return super().train(mode)

    def densepose_outputs(
        self, features: List[torch.Tensor], boxes: List[Boxes]
    ) -> PredictorOutput:
        """The DensePose branch on given boxes: decoder (if on) -> pooler -> head -> predictor.

        `features` are the maps of `self.in_features`, in that order; `boxes` one `Boxes` per
        image (absolute input-image coordinates). The output's leading size is sum of N_i. This is
        the one place the branch is run: training, inference, export and faster paths call it.
        """
        if self.use_decoder:
            features = [self.decoder(features)]
        rois = self.densepose_pooler(features, boxes)  # [sum N_i, Cin, R, R]
        return self.densepose_predictor(self.densepose_head(rois))

    def _forward_densepose(self, features: Dict[str, torch.Tensor], instances: List[Instances]):
        """Training: dict of DensePose losses. Inference:
        `instances` with `pred_densepose` added."""
        if not self.densepose_on:
            return {} if self.training else instances
        features_list = [features[f] for f in self.in_features]
        if self.training:
            proposals, _ = select_foreground_proposals(instances, self.num_classes)
            features_list, proposals = self.densepose_data_filter(features_list, proposals)
            if self.densepose_losses is None:
                raise KeyError(f"DensePose loss {self._loss_name!r} is not registered")
            # runs also with zero proposals, so that every parameter takes part in the graph
            outputs = self.densepose_outputs(features_list, [p.proposal_boxes for p in proposals])
            return self.densepose_losses(proposals, outputs, embedder=self.embedder)
        if sum(len(x) for x in instances) == 0:
            return instances
        outputs = self.densepose_outputs(features_list, [x.pred_boxes for x in instances])
        densepose_inference(outputs, instances)
        return instances

    def forward(self, images, features, proposals, targets=None):
        instances, losses = super().forward(images, features, proposals, targets)
        del targets, images
        if self.training:
            losses.update(self._forward_densepose(features, instances))
        return instances, losses

    def forward_with_given_boxes(
        self, features: Dict[str, torch.Tensor], instances: List[Instances]
    ):
        instances = super().forward_with_given_boxes(features, instances)
        return self._forward_densepose(features, instances)
