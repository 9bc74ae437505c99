"""Tiny cascade models and synthetic training batches (keypoints, masks, DensePose) for tests."""

import os
from pathlib import Path
from typing import Dict, List

import cv2
from detectron2.data import transforms as T

from densepose_ext.config import get_densepose_cfg
from densepose_ext.data.dataset_mapper import DatasetMapper
from densepose_ext.data.datasets.coco import _annotation_record
from densepose_ext.data.synthetic.generate import render_example

TINY_CONFIG = Path(__file__).resolve().parents[1] / "engine" / "tiny_config.yaml"
SUBSETS = {
    "plain": (False, False),
    "mask": (True, False),
    "kp": (False, True),
    "both": (True, True),
}


def tiny_cascade_cfg(mask_on: bool = True, keypoint_on: bool = True):
    """The tiny test model (R-18, 32-channel FPN) with small cascade, mask and keypoint heads."""
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(TINY_CONFIG))
    cfg.MODEL.ROI_HEADS.NAME = "DensePoseCascadeROIHeads"
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
    cfg.MODEL.MASK_ON = mask_on
    cfg.MODEL.KEYPOINT_ON = keypoint_on
    cfg.MODEL.ROI_MASK_HEAD.CONV_DIM = 16
    cfg.MODEL.ROI_MASK_HEAD.NUM_CONV = 2
    cfg.MODEL.ROI_MASK_HEAD.POOLER_RESOLUTION = 7
    cfg.MODEL.ROI_KEYPOINT_HEAD.CONV_DIMS = (16, 16)
    cfg.MODEL.ROI_KEYPOINT_HEAD.POOLER_RESOLUTION = 7
    c = cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE
    c.RESOLUTION = 7
    c.CONV_DIM = 16
    c.REFINE_NUM_CONVS = 1
    c.REFINE_CONV_DIM = 16
    return cfg


def synthetic_batch(
    directory: str, num_images: int = 2, size: int = 96, seed: int = 0
) -> List[Dict]:
    """Mapped training inputs from synthetic renders (chart GT only: no mesh registration)."""
    mapper = DatasetMapper(
        True,
        augmentations=[T.ResizeShortestEdge(size, 4 * size)],
        mask_on=True,
        keypoint_on=True,
        densepose_on=True,
    )
    batch = []
    for index in range(num_images):
        rendered, annotations = render_example(index, seed=seed, size=size)
        file_name = os.path.join(directory, f"{seed}_{index}.jpg")
        cv2.imwrite(file_name, rendered.image[:, :, ::-1])
        records = []
        for ann in annotations:
            record = _annotation_record(ann, {1: 0})
            record.pop("dp_vertex", None)
            record.pop("ref_model", None)
            records.append(record)
        dataset_dict = {
            "file_name": file_name,
            "height": size,
            "width": size,
            "image_id": index,
            "annotations": records,
        }
        batch.append(mapper(dataset_dict))
    return batch
