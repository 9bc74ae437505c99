"""Registration of synthetic datasets in detectron2's catalogs (and of the body in the mesh
catalog)."""

import os
from typing import Dict, Optional, Tuple

from ..datasets.coco import register_densepose_coco_dataset
from .body_files import BodyFiles, register_body_mesh
from .generate import SyntheticDataset, generate_synthetic_dataset
from .keypoints import keypoint_metadata

__all__ = [
    "register_builtin_synthetic_datasets",
    "register_synthetic_dataset",
    "register_synthetic_datasets",
    "synthetic_metadata",
]

SYNTH_TRAIN = "densepose_synth_train"
SYNTH_VAL = "densepose_synth_val"


def synthetic_metadata(body: BodyFiles, map_category_ids: bool = False) -> Dict[str, object]:
    """Metadata of a synthetic dataset: the body's flip tables (used by the mapper instead of the
    SMPL ones), its GPS surface data and its mesh name.

    With `map_category_ids` (records carry class index 0) it also sets `thing_classes` and
    `thing_dataset_id_to_contiguous_id` for detectron2's stock loaders; otherwise the DensePose
    train loader derives them from the file's categories (detectron2 rejects raw id 1 when
    `thing_classes` has one entry). The keypoint names, flip map and skeleton are always set.
    """
    meta: Dict[str, object] = {
        "densepose_transform_src": body.flip_tables,
        "densepose_body_surface": body.surface,
        "mesh_name": body.mesh_name,
        "class_to_mesh_name": {0: body.mesh_name},
        **keypoint_metadata(),
    }
    if map_category_ids:
        meta.update(thing_classes=["person"], thing_dataset_id_to_contiguous_id={1: 0})
    return meta


def register_synthetic_dataset(
    name: str,
    json_file: str,
    image_root: str,
    body: Optional[BodyFiles] = None,
    map_category_ids: bool = False,
) -> None:
    """Registers one synthetic DensePose-COCO file under `name`.

    `body` defaults to the files in `<json dir>/../body` (the layout written by the generator);
    the body's mesh is registered in the mesh catalog too.
    """
    if body is None:
        from .body_files import body_file_paths
        from .generate import body_template

        body_dir = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(json_file))), "body"
        )
        body = body_file_paths(body_dir, body_template())
    register_body_mesh(body)
    metadata = synthetic_metadata(body, map_category_ids)
    register_densepose_coco_dataset(
        name, json_file, image_root, metadata, map_category_ids=map_category_ids
    )


def register_synthetic_datasets(
    root: str,
    num_train: int = 1000,
    num_val: int = 100,
    size: int = 256,
    seed: int = 0,
    workers: int = 1,
    train_name: str = SYNTH_TRAIN,
    val_name: str = SYNTH_VAL,
    points_per_person: Tuple[int, int] = (80, 120),
) -> SyntheticDataset:
    """Generates (unless already present with the same parameters) and registers a train/val
    pair."""
    data = generate_synthetic_dataset(
        root,
        num_images=num_train + num_val,
        size=size,
        seed=seed,
        num_val=num_val,
        workers=workers,
        points_per_person=points_per_person,
    )
    register_synthetic_dataset(train_name, data.train_json, data.image_root, data.body)
    if data.val_json is not None:
        register_synthetic_dataset(val_name, data.val_json, data.image_root, data.body)
    return data


def register_builtin_synthetic_datasets(root: Optional[str] = None) -> None:
    """Registers `densepose_synth_train` / `densepose_synth_val` at `<root>/synth` (default
    `$DETECTRON2_DATASETS/synth`) unless they are registered already; nothing is read until used.

    Generate the data there with `python -m densepose_ext.data.synthetic --out <root>/synth ...`.
    """
    from detectron2.data import DatasetCatalog

    from ..datasets.builtin import datasets_root

    base = os.path.join(root if root is not None else datasets_root(), "synth")
    for name, split in ((SYNTH_TRAIN, "train"), (SYNTH_VAL, "val")):
        if name not in DatasetCatalog.list():
            json_file = os.path.join(base, "annotations", f"{split}.json")
            register_synthetic_dataset(name, json_file, os.path.join(base, "images"))
