"""DensePose LVIS-format annotation files -> detectron2 dataset dicts (minimal loader).

Image paths: `<root>/coco_<split>/<file>` with the split folder taken from the image's `coco_url`
(e.g. `.../train2017/000000155379.jpg` -> `<root>/coco_train2017/000000155379.jpg`). Categories are
detectron2's LVIS v1 categories (ids 1..1203).
"""

import json
import os
from typing import Any, Dict, List, Optional

from detectron2.data import DatasetCatalog

from ...utils.files import resolve_file
from ..metadata import set_dataset_metadata
from .coco import _annotation_record, densepose_default_metadata

__all__ = ["load_densepose_lvis_json", "register_densepose_lvis_dataset"]


def _lvis_categories() -> Dict[int, str]:
    from detectron2.data.datasets.lvis_v1_categories import LVIS_CATEGORIES

    return {c["id"]: c["name"] for c in LVIS_CATEGORIES}


def _image_path(image: Dict[str, Any], images_root: str) -> str:
    if "coco_url" in image:
        split_folder, file_name = image["coco_url"].split("/")[-2:]
        return os.path.join(images_root, "coco_" + split_folder, file_name)
    return os.path.join(images_root, image["file_name"])


def load_densepose_lvis_json(
    json_file: str, images_root: str, dataset_name: Optional[str] = None
) -> List[Dict]:
    """Loads an LVIS-format DensePose file; records get `not_exhaustive_category_ids`,
    `neg_category_ids`."""
    local = resolve_file(
        json_file,
        what=f"LVIS annotation file of dataset {dataset_name!r}",
        hint="Place the DensePose LVIS JSON there (paths are relative to $DETECTRON2_DATASETS, "
        "default ./datasets).",
    )
    with open(local) as f:
        data = json.load(f)
    if dataset_name is not None:
        set_dataset_metadata(dataset_name, {"categories": _lvis_categories()})
    anns_per_image: Dict[int, List[Dict]] = {}
    for ann in data.get("annotations", []):
        anns_per_image.setdefault(ann["image_id"], []).append(ann)
    records = []
    for image in sorted(data["images"], key=lambda im: im["id"]):
        records.append(
            {
                "file_name": _image_path(image, images_root),
                "height": image["height"],
                "width": image["width"],
                "image_id": image["id"],
                "dataset": dataset_name,
                "not_exhaustive_category_ids": image.get("not_exhaustive_category_ids", []),
                "neg_category_ids": image.get("neg_category_ids", []),
                "annotations": [
                    _annotation_record(a, None) for a in anns_per_image.get(image["id"], [])
                ],
            }
        )
    return records


def register_densepose_lvis_dataset(name: str, json_file: str, images_root: str) -> None:
    """Registers an LVIS-format dataset (metadata `evaluator_type="lvis"` and the DensePose
    URLs)."""
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
    DatasetCatalog.register(name, lambda: load_densepose_lvis_json(json_file, images_root, name))
    set_dataset_metadata(
        name,
        dict(
            json_file=json_file,
            image_root=images_root,
            evaluator_type="lvis",
            **densepose_default_metadata(),
        ),
    )
