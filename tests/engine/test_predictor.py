"""The predictor interface: typed errors, and the same interface for the model and for files."""

from pathlib import Path

import numpy as np
import pytest

from densepose_ext.config import load_densepose_config
from densepose_ext.engine.predictor import (
    BackendError,
    BatchPredictor,
    CheckpointError,
    InstancesPredictor,
    PredictorError,
)
from densepose_ext.utils.files import ExternalFileError

TINY_CONFIG = Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


def _cfg(weights: str = ""):
    cfg = load_densepose_config(str(TINY_CONFIG))
    cfg.MODEL.WEIGHTS, cfg.MODEL.DEVICE = weights, "cpu"
    return cfg


def test_a_text_file_as_checkpoint_is_a_checkpoint_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match="notes.txt") as error:
        BatchPredictor(_cfg(str(text)))
    # callers that catch a bad option or a bad file both see it, without reading the message
    assert isinstance(error.value, PredictorError) and isinstance(error.value, ExternalFileError)


def test_model_predictor_gives_cpu_instances_per_image():
    predictor = BatchPredictor(_cfg(), optimize=False)
    assert isinstance(predictor, InstancesPredictor) and predictor.embedder is None
    images = [np.zeros((40, 30, 3), np.uint8), np.zeros((20, 50, 3), np.uint8)]
    outputs = predictor(images)
    assert [tuple(o.image_size) for o in outputs] == [(40, 30), (20, 50)]
    assert all(o.scores.device.type == "cpu" for o in outputs) and predictor.model_seconds > 0
    with pytest.raises(PredictorError, match="fp16 needs a CUDA device"):
        BatchPredictor(_cfg(), fp16=True)


def test_exported_predictor_errors_are_backend_errors():
    from densepose_ext.apply.backend import ExportedPredictor

    assert issubclass(ExportedPredictor, InstancesPredictor)
    with pytest.raises(BackendError, match="unknown backend 'tensorrt'"):
        ExportedPredictor(_cfg(), "tensorrt")
    assert issubclass(BackendError, PredictorError)
