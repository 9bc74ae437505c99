"""`Predictor(cfg, precision="int8")` (engine/int8): calibration folder errors, the built-in set,
the per-checkpoint cache (a second predictor loads it instead of calibrating again), and the
refusal of int8 without the optimized model."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import get_cfg
from detectron2.modeling import build_model

import densepose_ext.modeling.inference_opt.int8 as int8_module
from densepose_ext import add_densepose_config
from densepose_ext.engine import Predictor, PredictorError
from densepose_ext.engine.int8 import (
    CalibrationError,
    builtin_calibration_images,
    load_calibration_images,
)

TINY_CONFIG = Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


def tiny_cfg(weights: str = ""):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(TINY_CONFIG))
    cfg.MODEL.WEIGHTS = weights
    return cfg


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    torch.manual_seed(0)
    model = build_model(tiny_cfg())
    folder = tmp_path_factory.mktemp("int8_model")
    DetectionCheckpointer(model, save_dir=str(folder)).save("model")
    return str(folder / "model.pth")


def write_images(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        image = rng.integers(0, 256, (96 + 8 * i, 128, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"{i}.png"), image)
    return folder


def test_calibration_folder_errors(tmp_path):
    with pytest.raises(CalibrationError, match="does not exist"):
        load_calibration_images(str(tmp_path / "missing"))
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(CalibrationError, match=r"bad'? has no readable image \(1 image file"):
        load_calibration_images(str(folder))
    write_images(folder, 2)
    images, digest = load_calibration_images(str(folder))
    assert len(images) == 2 and images[0].shape == (96, 128, 3)
    assert load_calibration_images(str(folder))[1] == digest


def test_builtin_calibration_images_are_deterministic():
    (a,), key_a = builtin_calibration_images(1)
    (b,), key_b = builtin_calibration_images(1)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.std() > 10
    assert np.array_equal(a, b) and key_a == key_b


def test_int8_predictor_is_cached_per_checkpoint(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("DENSEPOSE_EXT_CACHE", str(tmp_path / "cache"))
    folder = str(write_images(tmp_path / "calibration", 2))
    image = write_images(tmp_path / "test", 1) / "0.png"
    image = cv2.imread(str(image))
    first = Predictor(tiny_cfg(checkpoint), precision="int8", calibration=folder)
    assert first.precision == "int8"
    cached = list((tmp_path / "cache" / "int8").glob("densepose_int8_*.pt"))
    assert len(cached) == 1

    def no_calibration(*args, **kwargs):
        raise AssertionError("calibrated again instead of loading the cache")

    monkeypatch.setattr(int8_module, "quantize_int8", no_calibration)
    second = Predictor(tiny_cfg(checkpoint), precision="int8", calibration=folder)
    assert second.precision == "int8"
    a, b = first(image)["instances"], second(image)["instances"]
    assert torch.equal(a.pred_boxes.tensor, b.pred_boxes.tensor)
    if len(a):
        assert torch.equal(a.pred_densepose.fine_segm, b.pred_densepose.fine_segm)


def test_int8_needs_the_optimized_model(checkpoint):
    with pytest.raises(PredictorError, match="needs the optimized model"):
        Predictor(tiny_cfg(checkpoint), optimize=False, precision="int8")
    with pytest.raises(PredictorError, match="precision must be"):
        Predictor(tiny_cfg(checkpoint), precision="int4")
