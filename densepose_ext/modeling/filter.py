"""Training-time selection of the proposals that feed the DensePose losses."""

from typing import List, Tuple

import torch
from detectron2.structures import Instances
from detectron2.structures.boxes import matched_pairwise_iou

__all__ = ["DensePoseDataFilter", "build_densepose_data_filter"]


class DensePoseDataFilter:
    """Keeps proposals with IoU(proposal, matched GT box) > FG_IOU_THRESHOLD whose GT has DensePose
    data (or a mask when COARSE_SEGM_TRAINED_BY_MASKS).

    Unlike the original, an image without usable GT stays in the list as an empty `Instances`, so
    the list stays aligned with the batch dimension of the features.
    """

    def __init__(self, iou_threshold: float, keep_masks: bool):
        self.iou_threshold = iou_threshold
        self.keep_masks = keep_masks

    @torch.no_grad()
    def __call__(
        self, features: List[torch.Tensor], proposals: List[Instances]
    ) -> Tuple[List[torch.Tensor], List[Instances]]:
        return features, [self._filter_image(p) for p in proposals]

    def _filter_image(self, proposals: Instances) -> Instances:
        return proposals[self.keep_mask(proposals)]

    @torch.no_grad()
    def keep_mask(self, proposals: Instances) -> torch.Tensor:
        """Bool [N]: which of one image's proposals feed the DensePose losses."""
        has_dp = proposals.has("gt_densepose")
        has_masks = self.keep_masks and proposals.has("gt_masks")
        if not (has_dp or has_masks) or len(proposals) == 0:
            return torch.zeros(len(proposals), dtype=torch.bool)
        iou = matched_pairwise_iou(proposals.gt_boxes, proposals.proposal_boxes)
        keep = iou > self.iou_threshold
        if not has_masks:  # masks, when used, exist for every instance
            dp_present = [d is not None for d in proposals.gt_densepose]
            keep &= torch.tensor(dp_present, dtype=torch.bool, device=keep.device)
        return keep


def build_densepose_data_filter(cfg) -> DensePoseDataFilter:
    head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
    return DensePoseDataFilter(head_cfg.FG_IOU_THRESHOLD, head_cfg.COARSE_SEGM_TRAINED_BY_MASKS)
