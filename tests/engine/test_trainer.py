import os
import sys

import pytest
import torch
from detectron2.config import get_cfg
from torch import nn

from densepose_ext import add_densepose_config
from densepose_ext.engine import Trainer, create_ddp_model, extract_embedder


class _VertexEmbedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Parameter(torch.zeros(5, 4))
        self.embeddings = nn.Parameter(torch.zeros(4, 2))


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.GroupNorm(2, 4)
        self.roi_heads = nn.Module()
        self.roi_heads.embedder = _VertexEmbedder()


def _lr_of(optimizer, param):
    return [
        round(g["lr"], 9) for g in optimizer.param_groups if any(p is param for p in g["params"])
    ]


def _cfg_with_cse_lr_factors():
    """Default config, BASE_LR 0.1, CSE features x0.5 and embeddings x3."""
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.SOLVER.BASE_LR = 0.1
    cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.FEATURES_LR_FACTOR = 0.5
    cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDING_LR_FACTOR = 3.0
    return cfg


def test_optimizer_applies_cse_lr_factors_and_sgd_settings():
    cfg = _cfg_with_cse_lr_factors()
    cfg.SOLVER.MOMENTUM = 0.8
    cfg.SOLVER.BIAS_LR_FACTOR = 2.0
    model = _Model()
    optimizer = Trainer.build_optimizer(cfg, model)
    assert isinstance(optimizer, torch.optim.SGD)
    assert _lr_of(optimizer, model.roi_heads.embedder.features) == [0.05]
    assert _lr_of(optimizer, model.roi_heads.embedder.embeddings) == [0.3]
    assert _lr_of(optimizer, model.conv.weight) == [0.1]
    assert _lr_of(optimizer, model.conv.bias) == [0.2]
    assert all(g["momentum"] == 0.8 for g in optimizer.param_groups)
    norm_groups = [
        g for g in optimizer.param_groups if any(p is model.norm.weight for p in g["params"])
    ]
    assert norm_groups[0]["weight_decay"] == cfg.SOLVER.WEIGHT_DECAY_NORM


def test_single_process_helpers():
    model = _Model()
    assert create_ddp_model(model, broadcast_buffers=False) is model  # world size 1: unwrapped
    assert extract_embedder(model) is model.roi_heads.embedder
    assert extract_embedder(nn.Linear(2, 2)) is None


def test_adamw_option_keeps_lr_factors_and_gradient_clipping():
    cfg = _cfg_with_cse_lr_factors()
    assert cfg.SOLVER.OPTIMIZER == "SGD"
    cfg.SOLVER.OPTIMIZER = "ADAMW"
    cfg.SOLVER.WEIGHT_DECAY = 0.05
    cfg.SOLVER.CLIP_GRADIENTS.ENABLED = True
    cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
    cfg.SOLVER.CLIP_GRADIENTS.CLIP_VALUE = 1.0
    model = _Model()
    optimizer = Trainer.build_optimizer(cfg, model)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert _lr_of(optimizer, model.roi_heads.embedder.features) == [0.05]
    assert _lr_of(optimizer, model.roi_heads.embedder.embeddings) == [0.3]
    assert _lr_of(optimizer, model.conv.weight) == [0.1]
    assert [
        g["weight_decay"]
        for g in optimizer.param_groups
        if any(p is model.conv.weight for p in g["params"])
    ] == [0.05]
    # clipping: a huge gradient is rescaled to norm 1 before the step
    for p in model.parameters():
        p.grad = None
    model.conv.weight.grad = torch.full_like(model.conv.weight, 1e6)
    before = model.conv.weight.detach().clone()
    optimizer.step()
    assert torch.linalg.vector_norm(model.conv.weight.grad) <= 1.0 + 1e-4
    assert not torch.equal(before, model.conv.weight)


def test_unknown_optimizer_is_rejected():
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.SOLVER.OPTIMIZER = "LAMB"
    with pytest.raises(ValueError, match="LAMB"):
        Trainer.build_optimizer(cfg, _Model())


class _GroundTruthBoxModel(nn.Module):
    """Predicts every GT box of an image (score 0.9) with the chart of the tiny dataset: part 2
    in the upper half of the box, part 7 in the lower half, U = x / w and V = y / h in the box."""

    def __init__(self, boxes_by_image):
        super().__init__()
        self.boxes_by_image = boxes_by_image

    def forward(self, inputs):
        from detectron2.structures import Boxes, Instances

        from densepose_ext.structures.predictor_outputs import DensePoseChartPredictorOutput

        outputs = []
        for inp in inputs:
            boxes = torch.tensor(self.boxes_by_image[inp["image_id"]], dtype=torch.float32)
            n, s = len(boxes), 16
            fine = torch.zeros(n, 25, s, s)
            fine[:, 2, : s // 2] = 10.0
            fine[:, 7, s // 2 :] = 10.0
            coarse = torch.zeros(n, 2, s, s)
            coarse[:, 1] = 10.0
            centres = (torch.arange(s, dtype=torch.float32) + 0.5) / s
            instances = Instances((inp["height"], inp["width"]))
            instances.pred_boxes = Boxes(boxes)
            instances.scores = torch.full((n,), 0.9)
            instances.pred_classes = torch.zeros(n, dtype=torch.int64)
            instances.pred_densepose = DensePoseChartPredictorOutput(
                coarse_segm=coarse,
                fine_segm=fine,
                u=centres.expand(n, 25, s, s).clone(),
                v=centres[:, None].expand(n, 25, s, s).clone(),
            )
            outputs.append({"instances": instances})
        return outputs


def test_evaluation_uses_the_configured_surface_without_downloading(tmp_path, monkeypatch):
    """DENSEPOSE_EVALUATION.SURFACE reaches the DensePose evaluator that `Trainer.test` (hence
    `train_net.py --eval-only`) builds; no remote file is fetched."""
    import json

    from detectron2.utils.file_io import PathManager

    from densepose_ext.evaluation import evaluator as evaluator_module

    sys.path.insert(0, os.path.dirname(__file__))
    from tiny_densepose_dataset import register_tiny_dataset, write_grid_surface, write_tiny_dataset

    files = write_tiny_dataset(str(tmp_path / "data"), num_images=2)
    register_tiny_dataset("densepose_ext_test_trainer_surface", files)
    surface = write_grid_surface(tmp_path / "surface.npz")

    local_path = PathManager.get_local_path

    def no_download(path, **kwargs):
        if "://" in str(path):
            raise OSError(f"download attempted: {path}")
        return local_path(path, **kwargs)

    monkeypatch.setattr(PathManager, "get_local_path", no_download)
    loaded = []

    def recording_loader(source):
        loaded.append(source)
        return load_chart_surface(source)

    load_chart_surface = evaluator_module.load_chart_surface
    monkeypatch.setattr(evaluator_module, "load_chart_surface", recording_loader)

    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.DATASETS.TEST = ("densepose_ext_test_trainer_surface",)
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST = 96, 160
    cfg.OUTPUT_DIR = str(tmp_path / "output")
    cfg.merge_from_list(["DENSEPOSE_EVALUATION.SURFACE", surface])

    with open(files["json_file"]) as f:
        annotations = json.load(f)["annotations"]
    boxes = {}
    for ann in annotations:
        x, y, w, h = ann["bbox"]
        boxes.setdefault(ann["image_id"], []).append([x, y, x + w, y + h])
    results = Trainer.test(cfg, _GroundTruthBoxModel(boxes))

    assert loaded == [surface]
    assert results["bbox"]["AP"] > 99.0  # the COCO evaluator ran on the same data
    assert results["densepose_gps"]["AP"] > 99.0  # the prediction is the GT chart
