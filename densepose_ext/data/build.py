"""Train / test data loaders for DensePose: category whitelists and merges,
DensePose-aware filtering.

Category handling (per dataset, DATASETS.WHITELISTED_CATEGORIES / CATEGORY_MAPS): the kept category
ids (whitelist or all) are mapped through the category map;
the merged ids of all datasets are sorted
and enumerated into contiguous class indices. Annotations of other categories are dropped, the kept
ones get the contiguous index as `category_id`, and the metadata gets `thing_classes`,
`thing_dataset_id_to_contiguous_id` and `thing_dataset_id_to_merged_id`.
"""

import itertools
import logging
from typing import Any, Dict, List, Optional

import torch.utils.data as torchdata
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data import build_detection_test_loader as d2_build_test_loader
from detectron2.data import build_detection_train_loader as d2_build_train_loader
from detectron2.data.samplers import InferenceSampler, TrainingSampler

from ..structures.data_relative import DensePoseDataRelative
from .dataset_mapper import DatasetMapper
from .metadata import set_dataset_metadata

__all__ = [
    "build_detection_train_loader",
    "build_detection_test_loader",
    "combine_dataset_dicts",
    "has_densepose_training_data",
    "register_category_options",
]

logger = logging.getLogger(__name__)


def register_category_options(cfg, dataset_names: List[str]) -> None:
    """Copies DATASETS.WHITELISTED_CATEGORIES / CATEGORY_MAPS / CLASS_TO_MESH_NAME_MAPPING to
    metadata."""
    for name in dataset_names:
        meta = MetadataCatalog.get(name)
        if name in cfg.DATASETS.WHITELISTED_CATEGORIES:
            whitelist = [int(c) for c in cfg.DATASETS.WHITELISTED_CATEGORIES[name]]
            set_dataset_metadata(name, {"whitelisted_categories": whitelist})
        if name in cfg.DATASETS.CATEGORY_MAPS:
            mapping = {int(k): int(v) for k, v in cfg.DATASETS.CATEGORY_MAPS[name].items()}
            set_dataset_metadata(name, {"category_map": mapping})
        if not hasattr(meta, "class_to_mesh_name") and cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING:
            meta.class_to_mesh_name = {
                int(k): v for k, v in cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.items()
            }


def _dataset_categories(name: str, dicts: List[Dict[str, Any]]) -> Dict[int, str]:
    """{dataset category id: name}: metadata `categories`,
    else derived from thing_classes / annotations."""
    meta = MetadataCatalog.get(name)
    if meta.get("categories", None):
        return {int(k): v for k, v in meta.categories.items()}
    if meta.get("thing_dataset_id_to_contiguous_id", None) and meta.get("thing_classes", None):
        return {
            int(k): meta.thing_classes[v] for k, v in meta.thing_dataset_id_to_contiguous_id.items()
        }
    ids = sorted({int(a["category_id"]) for d in dicts for a in d.get("annotations", [])})
    return {i: str(i) for i in ids}


def _merge_categories(names: List[str], all_dicts: List[List[dict]]) -> Dict[str, Dict[int, int]]:
    """Per dataset {original id: merged id}; sets the class metadata of every dataset."""
    merged_ids_per_dataset, merged_names = {}, {}
    for name, dicts in zip(names, all_dicts):
        meta = MetadataCatalog.get(name)
        categories = _dataset_categories(name, dicts)
        kept = meta.get("whitelisted_categories", None) or list(categories)
        category_map = meta.get("category_map", {}) or {}
        to_merged = {int(c): int(category_map.get(int(c), int(c))) for c in kept}
        merged_ids_per_dataset[name] = to_merged
        for src, dst in to_merged.items():
            merged_names.setdefault(dst, categories.get(dst, categories.get(src, str(dst))))
    contiguous = {merged: index for index, merged in enumerate(sorted(merged_names))}
    thing_classes = [merged_names[m] for m in sorted(merged_names)]
    for name, to_merged in merged_ids_per_dataset.items():
        set_dataset_metadata(
            name,
            {
                "thing_classes": thing_classes,
                "thing_dataset_id_to_merged_id": dict(to_merged),
                "thing_dataset_id_to_contiguous_id": {
                    s: contiguous[m] for s, m in to_merged.items()
                },
            },
        )
    return merged_ids_per_dataset


def _remap_annotations(name: str, dicts: List[dict]) -> None:
    """Drops annotations of unmapped categories and sets `category_id` to the contiguous index."""
    to_contiguous = MetadataCatalog.get(name).thing_dataset_id_to_contiguous_id
    for record in dicts:
        record.setdefault("dataset", name)
        if "annotations" not in record:
            continue
        kept = []
        for ann in record["annotations"]:
            category = int(ann["category_id"])
            if category in to_contiguous:
                ann["category_id"] = to_contiguous[category]
                kept.append(ann)
        record["annotations"] = kept


def has_densepose_training_data(ann: Dict[str, Any], masks_count: bool = False) -> bool:
    """Chart or CSE point GT (or, if `masks_count`, an instance mask)."""
    return DensePoseDataRelative.has_annotation(ann) or (masks_count and "segmentation" in ann)


def _keep_for_training(record: Dict[str, Any], cfg) -> bool:
    """Has non-crowd annotations and some GT usable by an enabled head."""
    anns = [a for a in record.get("annotations", []) if a.get("iscrowd", 0) == 0]
    if not anns:
        return False
    checks = []
    if cfg.MODEL.KEYPOINT_ON:
        min_kp = cfg.MODEL.ROI_KEYPOINT_HEAD.MIN_KEYPOINTS_PER_IMAGE
        visible = sum(sum(1 for v in a.get("keypoints", [])[2::3] if v > 0) for a in anns)
        checks.append(visible >= min_kp)
    if cfg.MODEL.MASK_ON:
        checks.append(any("segmentation" in a for a in anns))
    if cfg.MODEL.DENSEPOSE_ON:
        by_masks = cfg.MODEL.ROI_DENSEPOSE_HEAD.COARSE_SEGM_TRAINED_BY_MASKS
        checks.append(any(has_densepose_training_data(a, by_masks) for a in anns))
    return any(checks) if checks else True


def combine_dataset_dicts(
    names: List[str], cfg=None, filter_for_training: bool = False
) -> List[dict]:
    """Loads, category-merges and (optionally) filters the dataset dicts of `names`."""
    all_dicts = [DatasetCatalog.get(name) for name in names]
    for name, dicts in zip(names, all_dicts):
        if not len(dicts):
            raise ValueError(f"Dataset {name!r} is empty")
    _merge_categories(names, all_dicts)
    for name, dicts in zip(names, all_dicts):
        _remap_annotations(name, dicts)
    combined = list(itertools.chain.from_iterable(all_dicts))
    if filter_for_training and cfg is not None and cfg.DATALOADER.FILTER_EMPTY_ANNOTATIONS:
        before = len(combined)
        combined = [d for d in combined if _keep_for_training(d, cfg)]
        logger.info(
            f"Removed {before - len(combined)} images without usable annotations; "
            f"{len(combined)} left"
        )
    if not combined:
        raise ValueError(f"No usable images in {names}")
    return combined


def build_detection_train_loader(cfg, mapper: Optional[Any] = None):
    """Infinite training loader over DATASETS.TRAIN with the DensePose mapper (batch
    IMS_PER_BATCH)."""
    names = list(cfg.DATASETS.TRAIN)
    register_category_options(cfg, names)
    dataset = combine_dataset_dicts(names, cfg, filter_for_training=True)
    if mapper is None:
        mapper = DatasetMapper(cfg, True)
    return d2_build_train_loader(
        dataset=dataset,
        mapper=mapper,
        sampler=TrainingSampler(len(dataset), seed=cfg.SEED if cfg.SEED >= 0 else None),
        total_batch_size=cfg.SOLVER.IMS_PER_BATCH,
        aspect_ratio_grouping=cfg.DATALOADER.ASPECT_RATIO_GROUPING,
        num_workers=cfg.DATALOADER.NUM_WORKERS,
    )


def build_detection_test_loader(cfg, dataset_name: str, mapper: Optional[Any] = None):
    """Test loader (batch 1); sequential on the main process if DISTRIBUTED_INFERENCE is False."""
    register_category_options(cfg, [dataset_name])
    dataset = combine_dataset_dicts([dataset_name], cfg, filter_for_training=False)
    if mapper is None:
        mapper = DatasetMapper(cfg, False)
    if cfg.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE:
        sampler = InferenceSampler(len(dataset))
    else:
        sampler = torchdata.SequentialSampler(dataset)
    return d2_build_test_loader(
        dataset=dataset, mapper=mapper, sampler=sampler, num_workers=cfg.DATALOADER.NUM_WORKERS
    )
