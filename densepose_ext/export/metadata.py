"""Metadata stored inside exported artefacts (TorchScript `_extra_files`, ONNX `metadata_props`)."""

import json
import re
from typing import Dict, List, Optional

from detectron2.data import MetadataCatalog

from ..config import is_cse

__all__ = [
    "METADATA_KEY",
    "FORMAT_VERSION",
    "build_metadata",
    "class_names_for",
    "class_to_mesh_for",
    "dumps",
]

METADATA_KEY = "densepose_metadata.json"  # TorchScript extra file name and ONNX metadata key
FORMAT_VERSION = 1


def class_to_mesh_for(cfg) -> Dict[int, str]:
    """Contiguous class index -> mesh name (CSE), from DATASETS.CLASS_TO_MESH_NAME_MAPPING.

    A CSE model with a single embedder and no mapping uses that mesh for every class.
    """
    mapping = {int(k): str(v) for k, v in cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.items()}
    meshes = list(cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.keys())
    if not mapping and len(meshes) == 1:
        mapping = {i: meshes[0] for i in range(cfg.MODEL.ROI_HEADS.NUM_CLASSES)}
    return mapping


def _class_name_from_mesh(mesh_name: str) -> str:
    base = re.sub(r"_\d+$", "", mesh_name)
    return "person" if base == "smpl" else base


def class_names_for(cfg) -> List[str]:
    """Class names: the test dataset's `thing_classes` if known, else derived from meshes.

    Falls back to "person" for one-class models and "class_<i>" otherwise.
    """
    num_classes = cfg.MODEL.ROI_HEADS.NUM_CLASSES
    for dataset in cfg.DATASETS.TEST:
        names = MetadataCatalog.get(dataset).get("thing_classes", None)
        if names is not None and len(names) == num_classes:
            return list(names)
    mapping = class_to_mesh_for(cfg)
    if len(mapping) == num_classes and num_classes > 1:
        return [_class_name_from_mesh(mapping[i]) for i in range(num_classes)]
    if num_classes == 1:
        return ["person"]
    return [f"class_{i}" for i in range(num_classes)]


def build_metadata(
    cfg,
    output_names: List[str],
    mesh_names: List[str],
    config_name: str,
    dtype_name: str,
    class_names: Optional[List[str]] = None,
) -> dict:
    """The JSON-serialisable description of an exported model (inputs, outputs, classes, meshes)."""
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    return {
        "format_version": FORMAT_VERSION,
        "config_name": config_name,
        "family": "cse" if is_cse(cfg) else "chart",
        "dtype": dtype_name,
        "input": {
            "layout": "HWC",
            "dtype": "uint8",
            "channel_order": "BGR",
            "model_input_format": cfg.INPUT.FORMAT,
            "min_size_test": cfg.INPUT.MIN_SIZE_TEST,
            "max_size_test": cfg.INPUT.MAX_SIZE_TEST,
        },
        "output_names": list(output_names),
        "box_format": "XYXY_ABS",
        "class_names": list(class_names) if class_names else class_names_for(cfg),
        "score_thresh_test": float(cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST),
        "heatmap_size": head.HEATMAP_SIZE,
        "num_coarse_segm_channels": head.NUM_COARSE_SEGM_CHANNELS,
        "num_patches": head.NUM_PATCHES,
        "embed_size": head.CSE.EMBED_SIZE if is_cse(cfg) else None,
        "mesh_names": list(mesh_names),
        "class_to_mesh_name": {str(k): v for k, v in class_to_mesh_for(cfg).items()}
        if is_cse(cfg)
        else {},
    }


def dumps(metadata: dict) -> str:
    return json.dumps(metadata, indent=1, sort_keys=True)
