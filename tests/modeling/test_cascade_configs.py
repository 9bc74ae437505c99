"""configs/cascade/ and the synthetic cascade demo configs: tasks, cascade keys, model build."""

from pathlib import Path

import pytest
from detectron2.modeling import build_model

from densepose_ext.config import get_densepose_cfg

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS = {"mask": (True, False), "kp": (False, True), "mask_kp": (True, True)}


def _cfg(path: Path):
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(path))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = ""
    return cfg


@pytest.mark.parametrize("tasks", list(TASKS))
def test_r50_cascade_configs(tasks):
    cfg = _cfg(
        REPO_ROOT / "configs" / "cascade" / f"densepose_rcnn_R_50_FPN_cascade_{tasks}_s1x.yaml"
    )
    assert cfg.MODEL.ROI_HEADS.NAME == "DensePoseCascadeROIHeads"
    assert (cfg.MODEL.MASK_ON, cfg.MODEL.KEYPOINT_ON) == TASKS[tasks]
    assert cfg.MODEL.RESNETS.DEPTH == 50 and cfg.SOLVER.MAX_ITER == 130000
    assert cfg.DATASETS.TRAIN[0].startswith("densepose_coco_2014")
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    assert head.POOLER_RESOLUTION * 2 * head.UP_SCALE == head.HEATMAP_SIZE


@pytest.mark.parametrize("tasks", list(TASKS))
def test_synthetic_demo_cascade_configs_build(tasks):
    cfg = _cfg(REPO_ROOT / "demo" / "configs" / f"synthetic_R_18_cascade_{tasks}.yaml")
    assert (cfg.MODEL.MASK_ON, cfg.MODEL.KEYPOINT_ON) == TASKS[tasks]
    heads = build_model(cfg).roi_heads
    assert type(heads).__name__ == "DensePoseCascadeROIHeads"
    assert hasattr(heads, "mask_refine") == TASKS[tasks][0]
    assert hasattr(heads, "keypoint_refine") == TASKS[tasks][1]
