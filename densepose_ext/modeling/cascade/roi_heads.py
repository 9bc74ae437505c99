"""`DensePoseCascadeROIHeads`: DensePose with mask / keypoint branches, cross-cascaded.

Stage 1: the configured DensePose branch (decoder, pooler, head, predictor: the modules and
checkpoint keys of `DensePoseROIHeads`) and detectron2's mask and keypoint heads on their usual
poolers (MODEL.MASK_ON / MODEL.KEYPOINT_ON; any subset). The cross-cascade block combines every
branch's stage-1 features and predictions; each branch's refinement unit and second predictor
give the final outputs. Training: all branches run on the same foreground proposals; DensePose
losses use the proposals the DensePose data filter keeps; every loss is computed for both
stages, stage-1 ones named `<name>_stage1` and scaled by CASCADE.STAGE1_LOSS_WEIGHT.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling import ROI_HEADS_REGISTRY
from detectron2.modeling.roi_heads import select_foreground_proposals
from detectron2.modeling.roi_heads.keypoint_head import keypoint_rcnn_inference, keypoint_rcnn_loss
from detectron2.modeling.roi_heads.mask_head import mask_rcnn_inference, mask_rcnn_loss
from detectron2.structures import Boxes, Instances
from torch.nn import functional as F

from ...structures.predictor_outputs import PredictorOutput
from ..registry import build_densepose_predictor
from ..roi_heads import DensePoseROIHeads, densepose_inference
from .block import CrossCascadeBlock
from .refine import KeypointStage2Predictor, MaskStage2Predictor, RefinementUnit

__all__ = ["CascadeOutputs", "DensePoseCascadeROIHeads"]

STAGE1_SUFFIX = "_stage1"


def _require_head(head, kind: str, attributes: Tuple[str, ...], expected: str) -> None:
    """ValueError unless the `kind` head has the layers the cascade reads its sizes from."""
    if not all(hasattr(head, a) for a in attributes):
        needed = " and ".join(f"`{a}`" for a in attributes)
        raise ValueError(
            f"DensePoseCascadeROIHeads needs a {kind} head with {needed} ({expected}), "
            f"got {type(head).__name__}"
        )


@dataclass
class CascadeOutputs:
    """Per-ROI outputs of both stages (leading size sum N_i); mask / keypoint None when off."""

    densepose: PredictorOutput
    densepose_stage1: PredictorOutput
    mask: Optional[torch.Tensor] = None  # logits [N, classes, M, M]
    mask_stage1: Optional[torch.Tensor] = None
    keypoint: Optional[torch.Tensor] = None  # heatmap logits [N, K, H, H]
    keypoint_stage1: Optional[torch.Tensor] = None


def _spatial_channels(output: PredictorOutput) -> int:
    """Total channels of a predictor output's map fields ([N, C, S, S] tensors)."""
    return sum(t.shape[1] for t in output.fields().values() if t.dim() == 4)


def _spatial_maps(output: PredictorOutput) -> List[torch.Tensor]:
    return [t for t in output.fields().values() if t.dim() == 4]


def _run_until(head: torch.nn.Module, x: torch.Tensor, stop: str) -> torch.Tensor:
    """Runs a sequential detectron2 head's children in order up to (without) child `stop`."""
    for name, layer in head.named_children():
        if name == stop:
            return x
        x = layer(x)
    raise ValueError(f"{type(head).__name__} has no submodule {stop!r}")


@ROI_HEADS_REGISTRY.register()
class DensePoseCascadeROIHeads(DensePoseROIHeads):
    """Multi-task cross-cascading DensePose R-CNN (see the module docstring and docs/cascade.md).

    New submodules (after those of `DensePoseROIHeads` and detectron2's `mask_head` /
    `keypoint_head`): `cascade`, `densepose_refine`, `densepose_predictor_stage2`, and per
    auxiliary task `mask_refine` + `mask_predictor_stage2`, `keypoint_refine` +
    `keypoint_predictor_stage2`.
    """

    def __init__(self, cfg, input_shape: Dict[str, ShapeSpec]):
        super().__init__(cfg, input_shape)
        if not self.densepose_on:
            raise ValueError("DensePoseCascadeROIHeads needs MODEL.DENSEPOSE_ON = True")
        self._init_cascade(cfg)

    def _init_cascade(self, cfg) -> None:
        c = cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE
        self.stage1_loss_weight = float(c.STAGE1_LOSS_WEIGHT)
        self.use_predictions = bool(c.USE_PREDICTIONS)
        dp_features = self.densepose_head.n_out_channels
        resolution = cfg.MODEL.ROI_DENSEPOSE_HEAD.POOLER_RESOLUTION
        with torch.no_grad():
            probe = self.densepose_predictor(torch.zeros(1, dp_features, resolution, resolution))
        in_channels = {"densepose": dp_features + self._pred(_spatial_channels(probe))}
        if self.mask_on:
            _require_head(
                self.mask_head, "mask", ("deconv", "predictor"), "MaskRCNNConvUpsampleHead"
            )
            mask_features = self.mask_head.deconv.out_channels
            mask_classes = self.mask_head.predictor.out_channels
            in_channels["mask"] = mask_features + self._pred(mask_classes)
        if self.keypoint_on:
            _require_head(
                self.keypoint_head, "keypoint", ("score_lowres",), "KRCNNConvDeconvUpsampleHead"
            )
            kp_features = self.keypoint_head.score_lowres.in_channels
            num_keypoints = self.keypoint_head.score_lowres.out_channels
            in_channels["keypoint"] = kp_features + self._pred(num_keypoints)
        self.cascade = CrossCascadeBlock(in_channels, c.RESOLUTION, c.CONV_DIM)
        depth, width = c.REFINE_NUM_CONVS, c.REFINE_CONV_DIM
        self.densepose_refine = RefinementUnit(dp_features + c.CONV_DIM, depth, width)
        self.densepose_predictor_stage2 = build_densepose_predictor(
            cfg, self.densepose_refine.out_channels
        )
        if self.mask_on:
            self.mask_refine = RefinementUnit(mask_features + c.CONV_DIM, depth, width)
            self.mask_predictor_stage2 = MaskStage2Predictor(
                self.mask_refine.out_channels, mask_classes
            )
        if self.keypoint_on:
            self.keypoint_refine = RefinementUnit(kp_features + c.CONV_DIM, depth, width)
            self.keypoint_predictor_stage2 = KeypointStage2Predictor(
                self.keypoint_refine.out_channels, num_keypoints, self.keypoint_head.up_scale
            )

    def _pred(self, channels: int) -> int:
        return channels if self.use_predictions else 0

    # ------------------------------------------------------------------ stage 1
    def _densepose_stage1(
        self, features: List[torch.Tensor], boxes: List[Boxes]
    ) -> Tuple[torch.Tensor, PredictorOutput]:
        if self.use_decoder:
            features = [self.decoder(features)]
        head_features = self.densepose_head(self.densepose_pooler(features, boxes))
        return head_features, self.densepose_predictor(head_features)

    def _mask_stage1(self, by_name: Dict[str, torch.Tensor], boxes: List[Boxes]):
        x = self.mask_pooler([by_name[f] for f in self.mask_in_features], boxes)
        x = _run_until(self.mask_head, x, "predictor")
        return x, self.mask_head.predictor(x)

    def _keypoint_stage1(self, by_name: Dict[str, torch.Tensor], boxes: List[Boxes]):
        x = self.keypoint_pooler([by_name[f] for f in self.keypoint_in_features], boxes)
        x = _run_until(self.keypoint_head, x, "score_lowres")
        heatmaps = F.interpolate(
            self.keypoint_head.score_lowres(x),
            scale_factor=self.keypoint_head.up_scale,
            mode="bilinear",
            align_corners=False,
        )
        return x, heatmaps

    # ------------------------------------------------------------------ both stages
    def cascade_outputs(self, features: List[torch.Tensor], boxes: List[Boxes]) -> CascadeOutputs:
        """Both stages of every branch on given boxes; `features` are the maps of
        `self.in_features` in that order, `boxes` one `Boxes` per image."""
        by_name = dict(zip(self.in_features, features))
        dp_features, dp_stage1 = self._densepose_stage1(features, boxes)
        maps = {"densepose": [dp_features] + self._maybe(_spatial_maps(dp_stage1))}
        mask_features = mask_stage1 = kp_features = kp_stage1 = None
        if self.mask_on:
            mask_features, mask_stage1 = self._mask_stage1(by_name, boxes)
            maps["mask"] = [mask_features] + self._maybe([mask_stage1])
        if self.keypoint_on:
            kp_features, kp_stage1 = self._keypoint_stage1(by_name, boxes)
            maps["keypoint"] = [kp_features] + self._maybe([kp_stage1])
        combined = self.cascade(maps)
        out = CascadeOutputs(
            densepose=self.densepose_predictor_stage2(self.densepose_refine(dp_features, combined)),
            densepose_stage1=dp_stage1,
            mask_stage1=mask_stage1,
            keypoint_stage1=kp_stage1,
        )
        if self.mask_on:
            out.mask = self.mask_predictor_stage2(self.mask_refine(mask_features, combined))
        if self.keypoint_on:
            out.keypoint = self.keypoint_predictor_stage2(
                self.keypoint_refine(kp_features, combined)
            )
        return out

    def _maybe(self, predictions: List[torch.Tensor]) -> List[torch.Tensor]:
        return predictions if self.use_predictions else []

    def densepose_outputs(
        self, features: List[torch.Tensor], boxes: List[Boxes]
    ) -> PredictorOutput:
        """The final (stage-2) DensePose outputs, so export and other callers get the cascade."""
        return self.cascade_outputs(features, boxes).densepose

    # ------------------------------------------------------------------ losses / inference
    def cascade_losses(
        self, proposals: List[Instances], outputs: CascadeOutputs
    ) -> Dict[str, torch.Tensor]:
        """Both stages' losses; `proposals` are the foreground proposals the outputs are for."""
        if self.densepose_losses is None:
            raise KeyError(f"DensePose loss {self._loss_name!r} is not registered")
        keeps = [
            self.densepose_data_filter.keep_mask(p).to(p.proposal_boxes.device) for p in proposals
        ]
        dp_proposals = [p[k] for p, k in zip(proposals, keeps)]
        keep = torch.cat(keeps) if keeps else torch.zeros(0, dtype=torch.bool)
        w1 = self.stage1_loss_weight
        losses: Dict[str, torch.Tensor] = {}
        stages = ((outputs.densepose, "", 1.0), (outputs.densepose_stage1, STAGE1_SUFFIX, w1))
        for dp_outputs, suffix, weight in stages:
            dp_losses = self.densepose_losses(
                dp_proposals, dp_outputs[keep], embedder=self.embedder
            )
            losses.update({name + suffix: value * weight for name, value in dp_losses.items()})
        if self.mask_on:
            w = self.mask_head.loss_weight
            losses["loss_mask"] = mask_rcnn_loss(outputs.mask, proposals) * w
            losses["loss_mask" + STAGE1_SUFFIX] = mask_rcnn_loss(outputs.mask_stage1, proposals) * (
                w * w1
            )
        if self.keypoint_on:
            head = self.keypoint_head
            normalizer = (
                None if head.loss_normalizer == "visible" else len(proposals) * head.loss_normalizer
            )
            losses["loss_keypoint"] = (
                keypoint_rcnn_loss(outputs.keypoint, proposals, normalizer) * head.loss_weight
            )
            losses["loss_keypoint" + STAGE1_SUFFIX] = keypoint_rcnn_loss(
                outputs.keypoint_stage1, proposals, normalizer
            ) * (head.loss_weight * w1)
        return losses

    def _forward_densepose(self, features: Dict[str, torch.Tensor], instances: List[Instances]):
        """Training: both stages' losses. Inference: `pred_densepose`, `pred_masks`,
        `pred_keypoints` (+ `pred_keypoint_heatmaps`) from the final stage."""
        features_list = [features[f] for f in self.in_features]
        if self.training:
            proposals, _ = select_foreground_proposals(instances, self.num_classes)
            outputs = self.cascade_outputs(features_list, [p.proposal_boxes for p in proposals])
            return self.cascade_losses(proposals, outputs)
        if sum(len(x) for x in instances) == 0:
            return instances
        outputs = self.cascade_outputs(features_list, [x.pred_boxes for x in instances])
        densepose_inference(outputs.densepose, instances)
        if self.mask_on:
            mask_rcnn_inference(outputs.mask, instances)
        if self.keypoint_on:
            keypoint_rcnn_inference(outputs.keypoint, instances)
        return instances

    # the mask and keypoint branches run inside the cascade, not in StandardROIHeads' own paths
    def _forward_mask(self, features: Dict[str, torch.Tensor], instances: List[Instances]):
        return {} if self.training else instances

    def _forward_keypoint(self, features: Dict[str, torch.Tensor], instances: List[Instances]):
        return {} if self.training else instances
