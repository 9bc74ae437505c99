"""DensePose-COCO-format annotation files -> detectron2 dataset dicts, and their registration.

Records: `file_name`, `height`, `width`, `image_id`, `dataset` (+ `frame_id`, `video_id` for
video frames) and `annotations` with `bbox` (XYWH_ABS), `category_id` (the file's ids unless
mapped to contiguous ids), `iscrowd`, valid `segmentation`, `keypoints` (+0.5 on x/y) and the
DensePose fields `dp_x`, `dp_y`, `dp_I`, `dp_U`, `dp_V`, `dp_masks`, `dp_vertex`, `ref_model`
copied verbatim.
"""

import contextlib
import io
import logging
import os
from typing import Any, Dict, List, Optional

from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import BoxMode

from ...structures.constants import DENSEPOSE_ANNOTATION_KEYS, DENSEPOSE_DATA_URL_PREFIX
from ...utils.files import resolve_file
from ..annotation_validation import validate_densepose_dataset
from ..metadata import set_dataset_metadata

__all__ = [
    "DENSEPOSE_ANNOTATION_KEYS",
    "DENSEPOSE_METADATA_URL_PREFIX",
    "densepose_default_metadata",
    "load_densepose_coco_json",
    "register_densepose_coco_dataset",
    "set_dataset_metadata",
]

logger = logging.getLogger(__name__)

DENSEPOSE_METADATA_URL_PREFIX = DENSEPOSE_DATA_URL_PREFIX


def densepose_default_metadata() -> Dict[str, str]:
    """The three data-file URLs every COCO/LVIS-format DensePose dataset carries."""
    return {
        "densepose_transform_src": DENSEPOSE_METADATA_URL_PREFIX + "UV_symmetry_transforms.mat",
        "densepose_smpl_subdiv": DENSEPOSE_METADATA_URL_PREFIX + "SMPL_subdiv.mat",
        "densepose_smpl_subdiv_transform": DENSEPOSE_METADATA_URL_PREFIX
        + "SMPL_SUBDIV_TRANSFORM.mat",
    }


def _valid_segmentation(segm: Any) -> Optional[Any]:
    """Drops polygons with an odd number of coordinates or fewer than 3 points;
    None if none left."""
    if isinstance(segm, dict):  # RLE
        return segm
    polygons = [p for p in segm if len(p) % 2 == 0 and len(p) >= 6]
    return polygons or None


def _annotation_record(ann: Dict[str, Any], id_map: Optional[Dict[int, int]]) -> Dict[str, Any]:
    if ann.get("ignore", 0) != 0:
        raise ValueError(f"annotation {ann.get('id')} has ignore != 0, which is not supported")
    category = ann["category_id"]
    record = {
        "bbox": ann["bbox"],
        "bbox_mode": BoxMode.XYWH_ABS,
        "category_id": id_map[category] if id_map is not None else category,
        "iscrowd": ann.get("iscrowd", 0),
    }
    if "id" in ann:
        record["id"] = ann["id"]  # named in validation messages
    if "segmentation" in ann:
        segm = _valid_segmentation(ann["segmentation"])
        if segm is not None:
            record["segmentation"] = segm
    if "keypoints" in ann:
        record["keypoints"] = [v + 0.5 if i % 3 != 2 else v for i, v in enumerate(ann["keypoints"])]
    for key in DENSEPOSE_ANNOTATION_KEYS:
        if key in ann:
            record[key] = ann[key]
    return record


def _contiguous_id_map(categories: List[Dict[str, Any]]) -> Dict[int, int]:
    return {c["id"]: i for i, c in enumerate(sorted(categories, key=lambda c: c["id"]))}


def load_densepose_coco_json(
    json_file: str,
    image_root: str,
    dataset_name: Optional[str] = None,
    map_category_ids: bool = False,
    on_invalid: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """Loads a DensePose-COCO-format file into detectron2 dataset dicts.

    Malformed DensePose annotations are handled by `validate_densepose_dataset` with policy
    `on_invalid` ("skip" / "reject" / "off"; default: metadata `densepose_invalid_annotations`,
    then $DENSEPOSE_INVALID_ANNOTATIONS, then "skip").

    Sets `categories` ({id: name}) on the dataset's metadata. With `map_category_ids` the records
    carry contiguous class indices (sorted file ids -> 0..C-1), as detectron2's stock loaders
    expect; otherwise the file's ids are kept (the DensePose train loader maps them).
    """
    from pycocotools.coco import COCO

    local = resolve_file(
        json_file,
        what=f"annotation file of dataset {dataset_name!r}" if dataset_name else "annotation file",
        hint="Place the DensePose-COCO-format JSON there (paths are relative to "
        "$DETECTRON2_DATASETS, "
        "default ./datasets; see docs/synthetic.md to generate a synthetic one).",
    )
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(local)
    categories = coco.loadCats(sorted(coco.getCatIds()))
    if dataset_name is not None:
        set_dataset_metadata(dataset_name, {"categories": {c["id"]: c["name"] for c in categories}})
    id_map = _contiguous_id_map(categories) if map_category_ids else None
    image_ids = sorted(coco.imgs.keys())
    if "minival" not in os.path.basename(json_file):
        ann_ids = [a["id"] for img_id in image_ids for a in coco.imgToAnns.get(img_id, [])]
        if len(set(ann_ids)) != len(ann_ids):
            raise ValueError(f"annotation ids in {json_file} are not unique")
    records = []
    for img_id in image_ids:
        image = coco.imgs[img_id]
        record = {
            "file_name": os.path.join(image_root, image["file_name"]),
            "height": image["height"],
            "width": image["width"],
            "image_id": image["id"],
            "dataset": dataset_name,
        }
        if "frame_id" in image:
            record["frame_id"] = image["frame_id"]
            record["video_id"] = image.get("vid_id", image.get("video_id"))
        record["annotations"] = [
            _annotation_record(a, id_map) for a in coco.imgToAnns.get(img_id, [])
        ]
        records.append(record)
    logger.info(f"Loaded {len(records)} images from {json_file}")
    metadata = MetadataCatalog.get(dataset_name) if dataset_name is not None else None
    return validate_densepose_dataset(records, dataset_name or json_file, on_invalid, metadata)


def register_densepose_coco_dataset(
    name: str,
    json_file: str,
    image_root: str,
    metadata: Optional[Dict[str, Any]] = None,
    map_category_ids: bool = False,
) -> None:
    """Registers a DensePose-COCO-format dataset in `DatasetCatalog` / `MetadataCatalog`.

    Metadata: `json_file`, `image_root`, `evaluator_type="coco"`, the three DensePose data URLs,
    then `metadata` (overrides).
    """
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
    DatasetCatalog.register(
        name, lambda: load_densepose_coco_json(json_file, image_root, name, map_category_ids)
    )
    values = dict(json_file=json_file, image_root=image_root, evaluator_type="coco")
    values.update(densepose_default_metadata())
    values.update(metadata or {})
    set_dataset_metadata(name, values)
