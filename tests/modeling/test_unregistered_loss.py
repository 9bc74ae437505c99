"""An unregistered LOSS_NAME: the model builds and runs inference, but refuses training mode, so
that a training run fails when its trainer is built, not at the first step."""

from pathlib import Path

import pytest
from detectron2.engine import SimpleTrainer
from detectron2.modeling import build_model

from densepose_ext.config import load_densepose_config

TINY_CONFIG = Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


def test_unregistered_loss_fails_when_training_starts():
    cfg = load_densepose_config(
        str(TINY_CONFIG),
        ["MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME", "NoSuchLoss", "MODEL.DEVICE", "cpu"],
    )
    model = build_model(cfg)
    model.eval()  # inference is fine
    with pytest.raises(KeyError, match="LOSS_NAME 'NoSuchLoss' is not a registered DensePose loss"):
        model.train()
    with pytest.raises(KeyError, match="DensePoseChartLoss"):  # the message lists the known ones
        SimpleTrainer(model, data_loader=[], optimizer=None)
