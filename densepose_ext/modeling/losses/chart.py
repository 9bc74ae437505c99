"""`DensePoseChartLoss`: fine segmentation (I), U / V regression and coarse segmentation (S).

Points: `valid` = inside the proposal box, `fg` = valid with part label > 0.
  loss_densepose_I = mean CE of the 25 sampled fine logits over valid points   x PART_WEIGHTS
  loss_densepose_U/V = sum of smooth-L1 (beta 1) over fg points               x
  POINT_REGRESSION_WEIGHTS
  loss_densepose_S = coarse segm loss (`MaskOrSegmentationLoss`)              x INDEX_WEIGHTS

Teacher-inpainted points (docs/teacher.md) count INPAINTED_POINT_WEIGHT times an annotated point:
I becomes the weighted mean CE, U / V the weighted sum. MAX_POINTS_PER_ROI > 0 keeps a random subset
of that many points per ROI. With the defaults (1.0, 0) the losses are computed as without them.
"""

from typing import Any, Dict, List, Optional

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
        self.w_inpainted = float(head.get("INPAINTED_POINT_WEIGHT", 1.0))
        self.max_points_per_roi = int(head.get("MAX_POINTS_PER_ROI", 0))

    def __call__(
        self, proposals_with_gt: List[Instances], predictor_outputs: Any, **kwargs
    ) -> Dict[str, torch.Tensor]:
        packed = (
            pack_densepose_gt(proposals_with_gt, "chart", self.max_points_per_roi)
            if proposals_with_gt
            else None
        )
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

    # ------------------------------------------------------------------ point weights
    def point_weights(self, packed: PackedDensePoseGT) -> Optional[torch.Tensor]:
        """Per-point weights [P] (INPAINTED_POINT_WEIGHT on inpainted points), None = all 1."""
        if packed.point_inpainted is None or self.w_inpainted == 1.0:
            return None
        ones = torch.ones_like(packed.x_gt)
        return torch.where(packed.point_inpainted, ones * self.w_inpainted, ones)

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
        weights = self.point_weights(packed)
        if weights is None:
            return F.cross_entropy(logits, labels) * self.w_part
        weights = weights[samples.valid]
        per_point = F.cross_entropy(logits, labels, reduction="none")
        return (per_point * weights).sum() / weights.sum().clamp(min=1e-12) * self.w_part

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
        weights = self.point_weights(packed)
        if weights is None:
            return {
                "loss_densepose_U": F.smooth_l1_loss(
                    u_est, packed.u_gt[fg], reduction="sum", beta=1.0
                )
                * self.w_points,
                "loss_densepose_V": F.smooth_l1_loss(
                    v_est, packed.v_gt[fg], reduction="sum", beta=1.0
                )
                * self.w_points,
            }
        weights = weights[fg]
        return {
            f"loss_densepose_{name}": (
                F.smooth_l1_loss(est, gt[fg], reduction="none", beta=1.0) * weights
            ).sum()
            * self.w_points
            for name, est, gt in (("U", u_est, packed.u_gt), ("V", v_est, packed.v_gt))
        }

    def produce_fake_uv_losses(self, outputs: Any) -> Dict[str, torch.Tensor]:
        return {
            "loss_densepose_U": zero_loss(outputs.u),
            "loss_densepose_V": zero_loss(outputs.v),
        }
