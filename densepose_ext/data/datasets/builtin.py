"""The original project's dataset names, registered on import.

Paths are relative to `$DETECTRON2_DATASETS` (default `datasets`),
read when `register_builtin_datasets`
runs (on import). Loading a dataset whose file is missing raises `ExternalFileError` naming it.
"""

import os
from typing import Optional

from .coco import register_densepose_coco_dataset
from .dataset_type import DatasetType, register_unlabelled_dataset
from .lvis import register_densepose_lvis_dataset

__all__ = [
    "COCO_FORMAT_DATASETS",
    "LVIS_FORMAT_DATASETS",
    "datasets_root",
    "register_builtin_datasets",
]

# name -> (image_root, json_file), relative to the datasets root
COCO_FORMAT_DATASETS = {
    "densepose_coco_2014_train": ("coco/train2014", "coco/annotations/densepose_train2014.json"),
    "densepose_coco_2014_minival": ("coco/val2014", "coco/annotations/densepose_minival2014.json"),
    "densepose_coco_2014_minival_100": (
        "coco/val2014",
        "coco/annotations/densepose_minival2014_100.json",
    ),
    "densepose_coco_2014_valminusminival": (
        "coco/val2014",
        "coco/annotations/densepose_valminusminival2014.json",
    ),
    "densepose_coco_2014_train_cse": ("coco/train2014", "coco_cse/densepose_train2014_cse.json"),
    "densepose_coco_2014_minival_cse": ("coco/val2014", "coco_cse/densepose_minival2014_cse.json"),
    "densepose_coco_2014_minival_100_cse": (
        "coco/val2014",
        "coco_cse/densepose_minival2014_100_cse.json",
    ),
    "densepose_coco_2014_valminusminival_cse": (
        "coco/val2014",
        "coco_cse/densepose_valminusminival2014_cse.json",
    ),
    "densepose_chimps": (
        "densepose_chimps/images",
        "densepose_chimps/densepose_chimps_densepose.json",
    ),
    "densepose_chimps_cse_train": (
        "densepose_chimps/images",
        "densepose_chimps/densepose_chimps_cse_train.json",
    ),
    "densepose_chimps_cse_val": (
        "densepose_chimps/images",
        "densepose_chimps/densepose_chimps_cse_val.json",
    ),
    "posetrack2017_train": (
        "posetrack2017/posetrack_data_2017",
        "posetrack2017/densepose_posetrack_train2017.json",
    ),
    "posetrack2017_val": (
        "posetrack2017/posetrack_data_2017",
        "posetrack2017/densepose_posetrack_val2017.json",
    ),
    "lvis_v05_train": ("coco/train2017", "lvis/lvis_v0.5_plus_dp_train.json"),
    "lvis_v05_val": ("coco/val2017", "lvis/lvis_v0.5_plus_dp_val.json"),
    "base_coco_2017_train": ("coco/train2017", "coco/annotations/instances_train2017.json"),
    "base_coco_2017_val": ("coco/val2017", "coco/annotations/instances_val2017.json"),
    "base_coco_2017_val_100": ("coco/val2017", "coco/annotations/instances_val2017_100.json"),
}

# name -> json_file (images are looked up under <root>/coco_<split>/)
LVIS_FORMAT_DATASETS = {
    "densepose_lvis_v1_ds1_train_v1": "lvis/densepose_lvis_v1_ds1_train_v1.json",
    "densepose_lvis_v1_ds1_val_v1": "lvis/densepose_lvis_v1_ds1_val_v1.json",
    "densepose_lvis_v1_ds2_train_v1": "lvis/densepose_lvis_v1_ds2_train_v1.json",
    "densepose_lvis_v1_ds2_val_v1": "lvis/densepose_lvis_v1_ds2_val_v1.json",
    "densepose_lvis_v1_ds1_val_animals_100": "lvis/densepose_lvis_v1_val_animals_100_v2.json",
}

CHIMPNSEE = "chimpnsee"


def coco_person_keypoint_metadata() -> dict:
    """COCO's person keypoint names, flip map and skeleton: DensePose-COCO annotations carry
    COCO's keypoints, which the cascade models (docs/cascade.md) train on."""
    from detectron2.data.datasets.builtin_meta import (
        COCO_PERSON_KEYPOINT_FLIP_MAP,
        COCO_PERSON_KEYPOINT_NAMES,
        KEYPOINT_CONNECTION_RULES,
    )

    return {
        "keypoint_names": COCO_PERSON_KEYPOINT_NAMES,
        "keypoint_flip_map": COCO_PERSON_KEYPOINT_FLIP_MAP,
        "keypoint_connection_rules": KEYPOINT_CONNECTION_RULES,
    }


def datasets_root() -> str:
    return os.environ.get("DETECTRON2_DATASETS", "datasets")


def _register_video_list(name: str, root: str) -> None:
    register_unlabelled_dataset(
        name,
        dict(
            dataset_type=DatasetType.VIDEO_LIST,
            video_list_fpath=os.path.join(root, "chimpnsee/cdna.eva.mpg.de/video_list.txt"),
            video_base_path=os.path.join(root, "chimpnsee/cdna.eva.mpg.de"),
            category="chimpanzee",
        ),
    )


def register_builtin_datasets(root: Optional[str] = None) -> None:
    """Registers every built-in name with files under `root` (default: `datasets_root()`)."""
    root = datasets_root() if root is None else root
    for name, (image_root, json_file) in COCO_FORMAT_DATASETS.items():
        register_densepose_coco_dataset(
            name,
            os.path.join(root, json_file),
            os.path.join(root, image_root),
            metadata=coco_person_keypoint_metadata() if name.startswith("densepose_coco") else None,
        )
    for name, json_file in LVIS_FORMAT_DATASETS.items():
        register_densepose_lvis_dataset(name, os.path.join(root, json_file), root)
    _register_video_list(CHIMPNSEE, root)
