"""Coarse segmentation loss: from the DensePose part masks (`dp_masks`) or from instance masks."""

from typing import List, Optional

import torch
import torch.nn.functional as F
from detectron2.structures import Instances

from .utils import PackedDensePoseGT, zero_loss

__all__ = ["SegmentationLoss", "MaskLoss", "MaskOrSegmentationLoss", "resample_segm_to_proposals"]


def resample_segm_to_proposals(
    segm: torch.Tensor, bbox_xywh_gt: torch.Tensor, bbox_xywh_est: torch.Tensor, side: int
) -> torch.Tensor:
    """GT-box-frame masks [M, 256, 256] -> proposal frame [M, side, side] (nearest, 0 outside).

    Output pixel j samples x = x0' + (j / side) * (x1' - x0'), where x0', x1' are the proposal
    edges in the GT box's [-1, 1] coordinates (grid_sample, align_corners=True).
    """
    x0_gt, y0_gt, w_gt, h_gt = bbox_xywh_gt.unbind(dim=1)
    x0_est, y0_est, w_est, h_est = bbox_xywh_est.unbind(dim=1)
    x0 = (x0_est - x0_gt) / w_gt * 2 - 1  # [M]
    x1 = (x0_est + w_est - x0_gt) / w_gt * 2 - 1
    y0 = (y0_est - y0_gt) / h_gt * 2 - 1
    y1 = (y0_est + h_est - y0_gt) / h_gt * 2 - 1
    steps = torch.arange(side, device=segm.device, dtype=segm.dtype) / side  # [S]
    grid_x = x0[:, None] + steps[None, :] * (x1 - x0)[:, None]  # [M, S]
    grid_y = y0[:, None] + steps[None, :] * (y1 - y0)[:, None]
    grid = torch.stack(
        [
            grid_x[:, None, :].expand(-1, side, -1),
            grid_y[:, :, None].expand(-1, -1, side),
        ],
        dim=3,
    )  # [M, S, S, 2] as (x, y)
    resampled = F.grid_sample(
        segm[:, None].to(grid.dtype), grid, mode="nearest", padding_mode="zeros", align_corners=True
    )
    return resampled[:, 0]


class SegmentationLoss:
    """Cross-entropy of `coarse_segm` of the used proposals vs their resampled `dp_masks`.

    With 2 channels the target is foreground (mask > 0), otherwise the coarse part label.
    """

    def __init__(self, heatmap_size: int, n_segm_channels: int):
        self.heatmap_size = heatmap_size
        self.n_segm_channels = n_segm_channels

    def __call__(
        self,
        proposals_with_gt: List[Instances],
        coarse_segm: torch.Tensor,
        packed: Optional[PackedDensePoseGT],
    ) -> torch.Tensor:
        if packed is None or packed.coarse_segm_gt is None:
            return zero_loss(coarse_segm)
        estimated = coarse_segm[packed.bbox_indices]  # [M, K, S, S]
        with torch.no_grad():
            target = resample_segm_to_proposals(
                packed.coarse_segm_gt,
                packed.bbox_xywh_gt,
                packed.bbox_xywh_est,
                estimated.shape[-1],
            )
            target = (target > 0) if self.n_segm_channels == 2 else target
        return F.cross_entropy(estimated, target.long())


class MaskLoss:
    """Cross-entropy of `coarse_segm` of every filtered proposal vs its GT instance mask cropped
    to the proposal (binary)."""

    def __call__(
        self,
        proposals_with_gt: List[Instances],
        coarse_segm: torch.Tensor,
        packed: Optional[PackedDensePoseGT] = None,
    ) -> torch.Tensor:
        side = coarse_segm.shape[-1]
        targets = []
        for instances in proposals_with_gt:
            if len(instances) == 0:
                continue
            if not instances.has("gt_masks"):
                raise ValueError(
                    "COARSE_SEGM_TRAINED_BY_MASKS needs instance masks (gt_masks) on every proposal"
                )
            cropped = instances.gt_masks.crop_and_resize(instances.proposal_boxes.tensor, side)
            targets.append(cropped.to(coarse_segm.device))
        if not targets:
            return zero_loss(coarse_segm)
        target = torch.cat(targets).long()  # [N, S, S]
        return F.cross_entropy(coarse_segm, target)


class MaskOrSegmentationLoss:
    """`MaskLoss` if COARSE_SEGM_TRAINED_BY_MASKS else `SegmentationLoss`."""

    def __init__(self, cfg):
        head = cfg.MODEL.ROI_DENSEPOSE_HEAD
        self.segm_trained_by_masks = head.COARSE_SEGM_TRAINED_BY_MASKS
        if self.segm_trained_by_masks:
            self.loss = MaskLoss()
        else:
            self.loss = SegmentationLoss(head.HEATMAP_SIZE, head.NUM_COARSE_SEGM_CHANNELS)

    def __call__(
        self,
        proposals_with_gt: List[Instances],
        coarse_segm: torch.Tensor,
        packed: Optional[PackedDensePoseGT],
    ) -> torch.Tensor:
        return self.loss(proposals_with_gt, coarse_segm, packed)
