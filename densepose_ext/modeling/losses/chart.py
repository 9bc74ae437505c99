"""`DensePoseChartLoss`: fine segmentation (I), U / V regression and coarse segmentation (S).

Points: `valid` = inside the proposal box, `fg` = valid with part label > 0.
  loss_densepose_I = mean CE of the 25 sampled fine logits over valid points   x PART_WEIGHTS
  loss_densepose_U/V = sum of smooth-L1 (beta 1) over fg points               x POINT_REGRESSION_WEIGHTS
  loss_densepose_S = coarse segm loss (`MaskOrSegmentationLoss`)              x INDEX_WEIGHTS
"""

from typing import Any, Dict, List

import torch
import torch.nn.functional as F
from detectron2.structures import Instances

from ..registry import DENSEPOSE_LOSS_REGISTRY
from .segm import MaskOrSegmentationLoss
from .utils import (
    PackedDensePoseGT,
    PointSamples,
    extract_at_points,
    pack_densepose_gt,
    sample_point_locations,
    zero_loss,
)

__all__ = ["DensePoseChartLoss"]


@DENSEPOSE_LOSS_REGISTRY.register()
class DensePoseChartLoss:
    """Chart losses; called as `loss(proposals_with_gt, predictor_outputs, embedder=None)`."""

    def __init__(self, cfg):
        head = cfg.MODEL.ROI_DENSEPOSE_HEAD
        self.heatmap_size = head.HEATMAP_SIZE
        self.w_points = head.POINT_REGRESSION_WEIGHTS
        self.w_part = head.PART_WEIGHTS
        self.w_segm = head.INDEX_WEIGHTS
        self.n_segm_chan = head.NUM_COARSE_SEGM_CHANNELS
        self.segm_loss = MaskOrSegmentationLoss(cfg)

    def __call__(
        self, proposals_with_gt: List[Instances], predictor_outputs: Any, **kwargs
    ) -> Dict[str, torch.Tensor]:
        packed = pack_densepose_gt(proposals_with_gt, "chart") if proposals_with_gt else None
        losses = {}
        if packed is None:
            losses.update(self.produce_fake_uv_losses(predictor_outputs))
            losses["loss_densepose_I"] = zero_loss(predictor_outputs.fine_segm)
        else:
            samples = sample_point_locations(packed, predictor_outputs.u.shape[-1])
            losses.update(self.produce_uv_losses(predictor_outputs, packed, samples))
            losses["loss_densepose_I"] = self.produce_fine_segm_loss(
                predictor_outputs, packed, samples
            )
        losses["loss_densepose_S"] = (
            self.segm_loss(proposals_with_gt, predictor_outputs.coarse_segm, packed) * self.w_segm
        )
        return losses

    # ------------------------------------------------------------------ fine segmentation
    def produce_fine_segm_loss(
        self, outputs: Any, packed: PackedDensePoseGT, samples: PointSamples
    ) -> torch.Tensor:
        if not bool(samples.valid.any()):
            return zero_loss(outputs.fine_segm)
        logits = extract_at_points(
            outputs.fine_segm, packed.point_bbox_indices, samples, mask=samples.valid
        )  # [P', C]
        labels = packed.fine_segm_labels_gt[samples.valid]
        return F.cross_entropy(logits, labels) * self.w_part

    # ------------------------------------------------------------------ U / V
    def _fg_points(self, packed: PackedDensePoseGT, samples: PointSamples) -> torch.Tensor:
        return samples.valid & (packed.fine_segm_labels_gt > 0)

    def _sample_uv_channels(self, outputs: Any, names, packed, samples, fg) -> List[torch.Tensor]:
        """Values of the named per-part outputs at the fg points, channel = GT part label."""
        return [
            extract_at_points(
                getattr(outputs, name),
                packed.point_bbox_indices,
                samples,
                channels=packed.fine_segm_labels_gt,
                mask=fg,
            )
            for name in names
        ]

    def produce_uv_losses(
        self, outputs: Any, packed: PackedDensePoseGT, samples: PointSamples
    ) -> Dict[str, torch.Tensor]:
        fg = self._fg_points(packed, samples)
        if not bool(fg.any()):
            return self.produce_fake_uv_losses(outputs)
        u_est, v_est = self._sample_uv_channels(outputs, ("u", "v"), packed, samples, fg)
        return {
            "loss_densepose_U": F.smooth_l1_loss(u_est, packed.u_gt[fg], reduction="sum", beta=1.0)
            * self.w_points,
            "loss_densepose_V": F.smooth_l1_loss(v_est, packed.v_gt[fg], reduction="sum", beta=1.0)
            * self.w_points,
        }

    def produce_fake_uv_losses(self, outputs: Any) -> Dict[str, torch.Tensor]:
        return {
            "loss_densepose_U": zero_loss(outputs.u),
            "loss_densepose_V": zero_loss(outputs.v),
        }
