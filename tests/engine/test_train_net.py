"""Training end to end on a tiny hand-made DensePose-COCO dataset (CPU, a few iterations)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from detectron2.config import get_cfg
from detectron2.engine import HookBase

from densepose_ext import add_densepose_config
from densepose_ext.engine import Trainer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tiny_densepose_dataset import register_tiny_dataset, write_tiny_dataset  # noqa: E402
from training_hooks import LossRecorder  # noqa: E402

DP_LOSSES = {"loss_densepose_U", "loss_densepose_V", "loss_densepose_I", "loss_densepose_S"}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    files = write_tiny_dataset(str(tmp_path_factory.mktemp("tiny_dp")))
    register_tiny_dataset("tiny_densepose_train", files)
    return files


def _cfg(output_dir, **overrides):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(HERE / "tiny_config.yaml"))
    cfg.OUTPUT_DIR = str(output_dir)
    for key, value in overrides.items():
        cfg.merge_from_list([key, value])
    return cfg


class _Interrupt(HookBase):
    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_step(self):
        if self.trainer.iter == self.at_iter:
            raise KeyboardInterrupt("simulated interruption")


def test_training_runs_and_reports_densepose_losses(tiny_data, tmp_path):
    trainer = Trainer(_cfg(tmp_path))
    recorder = LossRecorder()
    trainer.register_hooks([recorder])
    trainer.resume_or_load(resume=False)
    trainer.train()
    assert len(recorder.losses) == 4
    for step in recorder.losses:
        assert DP_LOSSES <= set(step)
        assert all(torch.isfinite(torch.tensor(v)) for v in step.values())
    assert any(step["loss_densepose_I"] > 0 for step in recorder.losses)
    assert (tmp_path / "model_final.pth").is_file()


def test_resume_continues_from_saved_iteration(tiny_data, tmp_path):
    trainer = Trainer(_cfg(tmp_path))
    trainer.register_hooks([_Interrupt(at_iter=2)])
    trainer.resume_or_load(resume=False)
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    # CHECKPOINT_PERIOD 2 saved model_0000001.pth (after iteration 1); iteration 2 is lost
    assert (tmp_path / "last_checkpoint").read_text().strip() == "model_0000001.pth"
    saved = torch.load(tmp_path / "model_0000001.pth", weights_only=False)
    resumed = Trainer(_cfg(tmp_path))
    resumed.resume_or_load(resume=True)
    assert resumed.start_iter == 2
    assert saved["iteration"] == 1
    assert resumed.scheduler.last_epoch == saved["trainer"]["hooks"]["LRScheduler"]["last_epoch"]
    assert (
        resumed.optimizer.state_dict()["state"].keys()
        == saved["trainer"]["_trainer"]["optimizer"]["state"].keys()
    )
    state = resumed.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in saved["model"].items())
    recorder = LossRecorder()
    resumed.register_hooks([recorder])
    resumed.train()
    assert len(recorder.losses) == 2  # iterations 2 and 3
    assert resumed.iter == resumed.max_iter == 4  # the loop ends one past the last iteration
    assert (tmp_path / "last_checkpoint").read_text().strip() == "model_final.pth"


def test_two_process_gloo_training_with_train_net(tiny_data, tmp_path):
    """`train_net.py --num-gpus 2` with MODEL.DEVICE cpu: 2 processes, DDP over gloo."""
    env = dict(os.environ, TINY_DENSEPOSE_DATA=json.dumps(tiny_data), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        str(HERE / "run_tiny_train.py"),
        "--config-file",
        str(HERE / "tiny_config.yaml"),
        "--num-gpus",
        "2",
        "--dist-url",
        "auto",
        "OUTPUT_DIR",
        str(tmp_path),
        "SOLVER.MAX_ITER",
        "3",
        "SOLVER.STEPS",
        "(2,)",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "[rank1]" in log or "rank1" in log or "Rank of current process: 1" in log
    metrics = [json.loads(line) for line in (tmp_path / "metrics.json").read_text().splitlines()]
    assert metrics[-1]["iteration"] == 2 and DP_LOSSES <= set(metrics[-1])
    assert (tmp_path / "model_final.pth").is_file()
    # world size 2: each process got IMS_PER_BATCH / 2 = 1 image
    assert "batch_size=1" in log
