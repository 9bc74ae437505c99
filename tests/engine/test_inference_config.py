"""The config set-up every model-running tool shares (apply_net, the texture tools)."""

from pathlib import Path

import pytest
import torch

from densepose_ext.engine.inference_config import inference_config
from densepose_ext.utils.cli import UsageError
from densepose_ext.utils.files import ExternalFileError

TINY_CONFIG = str(
    Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"
)


def test_thresholds_weights_and_device(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    cfg = inference_config(TINY_CONFIG, str(weights), min_score=0.3, nms_thresh=0.4, device="cpu")
    assert (
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST == 0.3 and cfg.MODEL.ROI_HEADS.NMS_THRESH_TEST == 0.4
    )
    assert cfg.MODEL.WEIGHTS == str(weights) and cfg.MODEL.DEVICE == "cpu" and cfg.is_frozen()
    by_opts = inference_config(TINY_CONFIG, str(weights), opts=["MODEL.DEVICE", "cpu"])
    assert by_opts.MODEL.DEVICE == "cpu"


def test_bad_inputs_are_usage_or_file_errors(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    with pytest.raises(ExternalFileError, match="missing.pth"):
        inference_config(TINY_CONFIG, str(tmp_path / "missing.pth"))
    with pytest.raises(UsageError, match="NO.SUCH_KEY"):
        inference_config(TINY_CONFIG, str(weights), opts=["NO.SUCH_KEY", "1"])
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="CUDA is not available"):
            inference_config(TINY_CONFIG, str(weights), device="cuda")
