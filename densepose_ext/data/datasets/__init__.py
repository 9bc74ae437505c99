"""Dataset loaders and registrations; importing registers the original's dataset names."""

from .builtin import (
    COCO_FORMAT_DATASETS,
    LVIS_FORMAT_DATASETS,
    datasets_root,
    register_builtin_datasets,
)
from .coco import (
    DENSEPOSE_ANNOTATION_KEYS,
    densepose_default_metadata,
    load_densepose_coco_json,
    register_densepose_coco_dataset,
)
from .dataset_type import DatasetType
from .lvis import load_densepose_lvis_json, register_densepose_lvis_dataset

register_builtin_datasets()

__all__ = [
    "COCO_FORMAT_DATASETS",
    "DENSEPOSE_ANNOTATION_KEYS",
    "LVIS_FORMAT_DATASETS",
    "DatasetType",
    "datasets_root",
    "densepose_default_metadata",
    "load_densepose_coco_json",
    "load_densepose_lvis_json",
    "register_builtin_datasets",
    "register_densepose_coco_dataset",
    "register_densepose_lvis_dataset",
]
