"""Keypoint AP and mask AP are evaluated beside box AP when the model has those heads."""

import json

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import Boxes, BoxMode, Instances
from pycocotools import mask as mask_util

from densepose_ext.config import get_densepose_cfg
from densepose_ext.data.synthetic.export import PERSON_CATEGORY
from densepose_ext.data.synthetic.generate import render_example
from densepose_ext.evaluation import build_coco_evaluator, coco_evaluation_tasks

SIZE = 96
NAME = "densepose_ext_test_coco_tasks"


@pytest.fixture(scope="module")
def gt_file(tmp_path_factory):
    images, annotations = [], []
    for index in range(3):
        _, anns = render_example(index, seed=4, size=SIZE)
        images.append({"id": index + 1, "file_name": f"{index}.jpg", "height": SIZE, "width": SIZE})
        for ann in anns:
            ann = {k: v for k, v in ann.items() if not k.startswith("dp_") and k != "ref_model"}
            annotations.append(dict(ann, id=len(annotations) + 1, image_id=index + 1))
    path = tmp_path_factory.mktemp("coco_tasks") / "gt.json"
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": [PERSON_CATEGORY]})
    )
    return path, annotations


def _predictions(annotations, image_id: int) -> Instances:
    anns = [a for a in annotations if a["image_id"] == image_id]
    inst = Instances((SIZE, SIZE))
    boxes = [BoxMode.convert(a["bbox"], BoxMode.XYWH_ABS, BoxMode.XYXY_ABS) for a in anns]
    inst.pred_boxes = Boxes(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
    inst.scores = torch.linspace(0.9, 0.8, len(anns))
    inst.pred_classes = torch.zeros(len(anns), dtype=torch.int64)
    masks = [
        mask_util.decode(dict(a["segmentation"], counts=a["segmentation"]["counts"])) for a in anns
    ]
    inst.pred_masks = torch.as_tensor(np.stack(masks).astype(bool)).reshape(-1, SIZE, SIZE)
    kps = torch.tensor([a["keypoints"] for a in anns], dtype=torch.float32).reshape(-1, 17, 3)
    kps[:, :, :2] += 0.5  # detectron2 predicts continuous coordinates (it subtracts 0.5 again)
    kps[:, :, 2] = 1.0
    inst.pred_keypoints = kps
    return inst


def test_tasks_follow_the_heads():
    cfg = get_densepose_cfg()
    assert coco_evaluation_tasks(cfg) == ("bbox",)
    cfg.MODEL.MASK_ON = True
    cfg.MODEL.KEYPOINT_ON = True
    assert coco_evaluation_tasks(cfg) == ("bbox", "segm", "keypoints")


def test_perfect_masks_and_keypoints_give_full_ap(gt_file, tmp_path):
    path, annotations = gt_file
    if NAME not in DatasetCatalog.list():
        DatasetCatalog.register(NAME, lambda: [])
        MetadataCatalog.get(NAME).set(
            json_file=str(path), thing_classes=["person"], thing_dataset_id_to_contiguous_id={1: 0}
        )
    cfg = get_densepose_cfg()
    cfg.MODEL.MASK_ON = True
    cfg.MODEL.KEYPOINT_ON = True
    cfg.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE = False
    evaluator = build_coco_evaluator(cfg, NAME, str(tmp_path))
    evaluator.reset()
    for image_id in (1, 2, 3):
        evaluator.process(
            [{"image_id": image_id}], [{"instances": _predictions(annotations, image_id)}]
        )
    results = evaluator.evaluate()
    assert set(results) == {"bbox", "segm", "keypoints"}
    assert results["segm"]["AP"] > 99 and results["keypoints"]["AP"] > 99
