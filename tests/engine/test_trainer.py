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
