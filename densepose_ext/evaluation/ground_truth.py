"""DensePose ground truth as a pycocotools COCO object with contiguous category ids."""

import contextlib
import copy
import io
import json
from typing import Dict, List, Optional

import numpy as np
from detectron2.structures import BoxMode
from detectron2.utils.file_io import PathManager
from pycocotools.coco import COCO

from ..structures.constants import DENSEPOSE_ANNOTATION_KEYS

__all__ = ["coco_from_dict", "load_contiguous_coco_gt", "coco_gt_from_dataset_dicts"]


def coco_from_dict(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def load_contiguous_coco_gt(
    json_file: str, dataset_to_contiguous: Optional[Dict[int, int]] = None
) -> COCO:
    """Loads a COCO json; categories and annotation `category_id`s mapped to contiguous ids.

    Categories absent from the map (and their annotations) are dropped; no map keeps the ids.
    """
    with PathManager.open(json_file, "r") as f:
        dataset = json.load(f)
    if dataset_to_contiguous:
        id_map = {int(k): int(v) for k, v in dataset_to_contiguous.items()}
        categories = {}
        for cat in dataset.get("categories", []):
            if cat["id"] in id_map:
                categories.setdefault(id_map[cat["id"]], dict(cat, id=id_map[cat["id"]]))
        dataset["categories"] = [categories[k] for k in sorted(categories)]
        anns = [a for a in dataset.get("annotations", []) if a["category_id"] in id_map]
        for ann in anns:
            ann["category_id"] = id_map[ann["category_id"]]
        dataset["annotations"] = anns
    return coco_from_dict(dataset)


def _annotation_from_dict(obj: dict, image_id: int, ann_id: int) -> dict:
    bbox = BoxMode.convert(
        list(obj["bbox"]), obj.get("bbox_mode", BoxMode.XYWH_ABS), BoxMode.XYWH_ABS
    )
    ann = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": int(obj.get("category_id", 0)),
        "bbox": [float(c) for c in bbox],
        "iscrowd": int(obj.get("iscrowd", 0)),
        "area": float(obj.get("area", bbox[2] * bbox[3])),
    }
    if obj.get("segmentation"):
        ann["segmentation"] = copy.deepcopy(obj["segmentation"])
    for key in DENSEPOSE_ANNOTATION_KEYS:
        if key in obj:
            value = obj[key]
            ann[key] = value.tolist() if isinstance(value, np.ndarray) else copy.deepcopy(value)
    return ann


def coco_gt_from_dataset_dicts(
    dataset_dicts: List[dict], class_names: Optional[List[str]] = None
) -> COCO:
    """COCO GT from detectron2 dataset dicts (contiguous `category_id`, DensePose keys kept)."""
    images, anns = [], []
    for record in dataset_dicts:
        image = {k: record[k] for k in ("height", "width") if k in record}
        image.update(id=record["image_id"], file_name=record.get("file_name", ""))
        for key in ("ignore_regions_x", "ignore_regions_y"):
            if key in record:
                image[key] = record[key]
        images.append(image)
        for obj in record.get("annotations", []):
            anns.append(_annotation_from_dict(obj, record["image_id"], len(anns) + 1))
    cat_ids = sorted({a["category_id"] for a in anns} | set(range(len(class_names or []))))
    names = class_names or []
    categories = [{"id": c, "name": names[c] if c < len(names) else str(c)} for c in cat_ids]
    return coco_from_dict({"images": images, "annotations": anns, "categories": categories})
