"""The demo recipe (demo/configs/synthetic_R_18_chart.yaml) learns on synthetic people."""

from pathlib import Path

import numpy as np
import pytest
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from training_hooks import LossRecorder

from densepose_ext import add_densepose_config
from densepose_ext.data.synthetic import register_synthetic_datasets
from densepose_ext.engine import Trainer

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "demo" / "configs" / "synthetic_R_18_chart.yaml"
FALLING = (
    "loss_densepose_S",
    "loss_densepose_I",
    "loss_densepose_U",
    "loss_densepose_V",
    "loss_rpn_cls",
)


def _demo_cfg(*opts):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(DEMO_CONFIG))
    cfg.merge_from_list(list(opts))
    return cfg


def test_demo_recipe_trains_every_parameter():
    """Without pretrained weights nothing may stay frozen (detectron2's FREEZE_AT 2 would keep the
    random stem and res2 fixed)."""
    model = build_model(_demo_cfg())
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    assert frozen == []


@pytest.mark.slow
def test_demo_recipe_losses_fall_on_synthetic_people(tmp_path):
    register_synthetic_datasets(
        str(tmp_path / "synth"),
        num_train=60,
        num_val=0,
        seed=3,
        workers=2,
        train_name="synth_learning_test_train",
    )
    iters = 90
    cfg = _demo_cfg(
        "DATASETS.TRAIN",
        ("synth_learning_test_train",),
        "DATASETS.TEST",
        (),
        "SOLVER.MAX_ITER",
        iters,
        "SOLVER.STEPS",
        (),
        "SOLVER.CHECKPOINT_PERIOD",
        10 * iters,
        "OUTPUT_DIR",
        str(tmp_path / "out"),
        "DATALOADER.NUM_WORKERS",
        0,
    )
    trainer = Trainer(cfg)
    recorder = LossRecorder()
    trainer.register_hooks([recorder])
    trainer.resume_or_load(resume=False)
    trainer.train()
    assert len(recorder.losses) == iters
    for name in FALLING:
        values = np.array([step[name] for step in recorder.losses])
        first, last = values[:20].mean(), values[-20:].mean()
        assert last < 0.9 * first, (name, first, last)
