"""Test-time augmentation for DensePose: resize / horizontal flip (and optional rotations).

Boxes come from all non-rotated views (detectron2's merge); DensePose is then predicted on the
merged boxes in every view, mapped back to the original view, and the chart fields `coarse_segm`,
`fine_segm`, `u`, `v` are averaged. Other fields keep the first view's values. Chart outputs only.
"""

import copy
from typing import List

import numpy as np
import torch
from detectron2.data.transforms import RotationTransform
from detectron2.modeling import DatasetMapperTTA, GeneralizedRCNNWithTTA
from detectron2.modeling.postprocessing import detector_postprocess
from fvcore.transforms import HFlipTransform, NoOpTransform, TransformList
from torch.nn import functional as F

from ..converters.hflip import HFlipConverter
from ..structures.transform_data import DensePoseTransformData

__all__ = ["DensePoseDatasetMapperTTA", "DensePoseGeneralizedRCNNWithTTA"]

AVERAGED_FIELDS = ("coarse_segm", "fine_segm", "u", "v")


class DensePoseDatasetMapperTTA(DatasetMapperTTA):
    """detectron2's resize (+flip) views, plus the input image rotated by each
    `TEST.AUG.ROTATION_ANGLES` angle (expand=True)."""

    def __init__(self, cfg):
        super().__init__(cfg=cfg)
        self.angles = list(cfg.TEST.AUG.ROTATION_ANGLES)

    def __call__(self, dataset_dict: dict) -> List[dict]:
        views = super().__call__(dataset_dict)
        if not self.angles:
            return views
        image = dataset_dict["image"].permute(1, 2, 0).numpy()  # HWC, input resolution
        h, w = image.shape[:2]
        orig_hw = (dataset_dict["height"], dataset_dict["width"])
        pre = views[-1]["transforms"].transforms[0] if (h, w) != orig_hw else NoOpTransform()
        for angle in self.angles:
            rotation = RotationTransform(h, w, angle, expand=True)
            rotated = rotation.apply_image(np.copy(image))
            view = copy.deepcopy(dataset_dict)
            view["image"] = torch.from_numpy(np.ascontiguousarray(rotated.transpose(2, 0, 1)))
            view["transforms"] = TransformList([pre, rotation])
            views.append(view)
        return views


def _has(tfm: TransformList, kind: type) -> bool:
    return any(isinstance(t, kind) for t in tfm.transforms)


def _pull_back_rotated(
    maps: torch.Tensor, boxes_orig: np.ndarray, boxes_aug: np.ndarray, tfm
) -> torch.Tensor:
    """Re-samples box maps predicted in a rotated view onto the original, unrotated boxes.

    maps [N, C, S, S] cover `boxes_aug` (XYXY in the view); the result [N, C, S, S] covers
    `boxes_orig` (XYXY, original image): every output pixel centre is mapped through `tfm` into
    the view and read bilinearly from the view's map.
    """
    n, _, s, _ = maps.shape
    t = (np.arange(s, dtype=np.float64) + 0.5) / s
    x0, y0, x1, y1 = (boxes_orig[:, k, None, None] for k in range(4))
    px = np.broadcast_to(x0 + t[None, None, :] * (x1 - x0), (n, s, s))
    py = np.broadcast_to(y0 + t[None, :, None] * (y1 - y0), (n, s, s))
    coords = tfm.apply_coords(np.stack([px, py], axis=-1).reshape(-1, 2).astype(np.float32))
    coords = coords.reshape(n, s, s, 2)
    ax0, ay0, ax1, ay1 = (boxes_aug[:, k, None, None] for k in range(4))
    gx = 2 * (coords[..., 0] - ax0) / np.maximum(ax1 - ax0, 1e-6) - 1
    gy = 2 * (coords[..., 1] - ay0) / np.maximum(ay1 - ay0, 1e-6) - 1
    grid = torch.from_numpy(np.stack([gx, gy], axis=-1).astype(np.float32)).to(maps.device)
    return F.grid_sample(
        maps, grid.to(maps.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )


class DensePoseGeneralizedRCNNWithTTA(GeneralizedRCNNWithTTA):
    """`GeneralizedRCNNWithTTA` that also reduces `pred_densepose` over the augmented views."""

    def __init__(
        self, cfg, model, transform_data: DensePoseTransformData, tta_mapper=None, batch_size=1
    ):
        if tta_mapper is None:
            tta_mapper = DensePoseDatasetMapperTTA(cfg)
        super().__init__(cfg=cfg, model=model, tta_mapper=tta_mapper, batch_size=batch_size)
        self._transform_data = transform_data.to(self.model.device)

    def _inference_one_image(self, input: dict) -> dict:
        orig_shape = (input["height"], input["width"])
        input["image"] = input["image"].to(torch.uint8)
        augmented_inputs, tfms = self._get_augmented_inputs(input)
        with self._turn_off_roi_heads(["mask_on", "keypoint_on", "densepose_on"]):
            all_boxes, all_scores, all_classes = self._get_augmented_boxes(augmented_inputs, tfms)
        merged = self._merge_detections(all_boxes, all_scores, all_classes, orig_shape)
        if not (self.cfg.MODEL.MASK_ON or self.cfg.MODEL.DENSEPOSE_ON):
            return {"instances": merged}
        augmented_instances = self._rescale_detected_boxes(augmented_inputs, merged, tfms)
        outputs = self._batch_inference(augmented_inputs, augmented_instances)
        del augmented_inputs, augmented_instances
        if self.cfg.MODEL.MASK_ON:
            merged.pred_masks = self._reduce_pred_masks(outputs, tfms)
        if self.cfg.MODEL.DENSEPOSE_ON and len(merged) > 0:
            merged.pred_densepose = self._reduce_pred_densepose(outputs, tfms, merged)
        return {"instances": detector_postprocess(merged, *orig_shape)}

    def _get_augmented_boxes(self, augmented_inputs, tfms):
        """Boxes of the non-rotated views, mapped back to the original image."""
        outputs = self._batch_inference(augmented_inputs)
        all_boxes, all_scores, all_classes = [], [], []
        for output, tfm in zip(outputs, tfms):
            if _has(tfm, RotationTransform):
                continue
            pred_boxes = output.pred_boxes.tensor
            original = tfm.inverse().apply_box(pred_boxes.cpu().numpy())
            all_boxes.append(torch.from_numpy(original).to(pred_boxes.device))
            all_scores.extend(output.scores)
            all_classes.extend(output.pred_classes)
        return torch.cat(all_boxes, dim=0), all_scores, all_classes

    def _to_original_view(self, output, tfm, merged):
        """`pred_densepose` of one view expressed in the original image's boxes."""
        densepose = output.pred_densepose
        if _has(tfm, RotationTransform):
            boxes_orig = merged.pred_boxes.tensor.cpu().numpy().astype(np.float64)
            boxes_aug = output.pred_boxes.tensor.cpu().numpy().astype(np.float64)
            densepose = copy.copy(densepose)
            for name in AVERAGED_FIELDS:
                value = getattr(densepose, name)
                setattr(densepose, name, _pull_back_rotated(value, boxes_orig, boxes_aug, tfm))
        if _has(tfm, HFlipTransform):
            densepose = HFlipConverter.convert(densepose, self._transform_data)
        return densepose

    def _reduce_pred_densepose(self, outputs, tfms, merged):
        """Running mean of the chart fields over views; other fields from the first view."""
        average = None
        for idx, (output, tfm) in enumerate(zip(outputs, tfms)):
            densepose = self._to_original_view(output, tfm, merged)
            if average is None:
                average = copy.copy(densepose)
                continue
            for name in AVERAGED_FIELDS:
                mean = (getattr(average, name) * idx + getattr(densepose, name)) / (idx + 1)
                setattr(average, name, mean)
        return average
