"""Helpers for building DensePose configs and ROI heads in tests."""

from pathlib import Path
from typing import Dict, List

import torch
from detectron2.layers import ShapeSpec
from detectron2.structures import Boxes, Instances

from densepose_ext.config import get_densepose_cfg

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS_DIR = REPO_ROOT / "configs"


def load_config(relative_path: str):
    """Config of `configs/<relative_path>` with offline settings (CPU, no weights)."""
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(CONFIGS_DIR / relative_path))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = ""
    return cfg


def chart_config_paths() -> List[str]:
    """Every YAML under configs/ that builds a chart-based `DensePoseROIHeads`."""
    paths = []
    for path in sorted(CONFIGS_DIR.rglob("*.yaml")):
        rel = path.relative_to(CONFIGS_DIR).as_posix()
        cfg = load_config(rel)
        if cfg.MODEL.ROI_HEADS.NAME != "DensePoseROIHeads" or not cfg.MODEL.DENSEPOSE_ON:
            continue
        if "Embedding" in cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME:
            continue
        paths.append(rel)
    return paths


def roi_input_shape(cfg, channels: int = 256) -> Dict[str, ShapeSpec]:
    """Shapes of the ROI in-features: FPN p2..p5 (strides 4..32) or HRFPN p1..p5 (4..64)."""
    names = list(cfg.MODEL.ROI_HEADS.IN_FEATURES)
    offset = 2 if "p1" in names else 1
    return {n: ShapeSpec(channels=channels, stride=2 ** (int(n[1:]) + offset - 1)) for n in names}


def small_chart_config(**head_overrides):
    """s1x-like chart config with a tiny head (fast on CPU), FPN 32 channels."""
    cfg = load_config("densepose_rcnn_R_50_FPN_s1x.yaml")
    cfg.MODEL.FPN.OUT_CHANNELS = 32
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    head.NUM_STACKED_CONVS = 2
    head.CONV_HEAD_DIM = 32
    head.DECODER_CONV_DIMS = 32
    head.DECODER_NUM_CLASSES = 32
    for key, value in head_overrides.items():
        node = head
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return cfg


def random_features(input_shape: Dict[str, ShapeSpec], image_hw, seed: int = 0, batch: int = 1):
    g = torch.Generator().manual_seed(seed)
    h, w = image_hw
    return {
        k: torch.randn(batch, s.channels, h // s.stride, w // s.stride, generator=g)
        for k, s in input_shape.items()
    }


def given_boxes(image_hw, boxes_xyxy) -> Instances:
    inst = Instances(tuple(image_hw))
    inst.pred_boxes = Boxes(torch.tensor(boxes_xyxy, dtype=torch.float32).reshape(-1, 4))
    inst.pred_classes = torch.zeros(len(inst.pred_boxes), dtype=torch.int64)
    inst.scores = torch.linspace(0.9, 0.5, len(inst.pred_boxes))
    return inst
