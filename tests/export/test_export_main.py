"""`python -m densepose_ext.export`: formats, precisions, metadata, errors."""

import json
import os

import pytest
import torch
from export_utils import random_image, save_checkpoint, tiny_config, tiny_model

from densepose_ext.export.__main__ import main
from densepose_ext.export.torchscript_export import load_torchscript


@pytest.fixture(scope="module")
def config_and_weights(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    cfg = tiny_config("densepose_rcnn_R_50_FPN_s1x.yaml")
    config = tmp / "tiny_chart.yaml"
    config.write_text(cfg.dump())
    weights = save_checkpoint(tiny_model(cfg), tmp / "weights.pth")
    return str(config), weights


def _run(module, image):
    with torch.no_grad():
        return module(image)


def test_cli_torchscript_fp32_and_bf16(tmp_path, config_and_weights):
    config, weights = config_and_weights
    fp32 = str(tmp_path / "m.pt")
    assert main([config, weights, "--format", "torchscript", "--output", fp32]) == 0
    module, meta = load_torchscript(fp32)
    meta = json.loads(meta)
    assert meta["config_name"] == "tiny_chart" and meta["dtype"] == "fp32"
    boxes32 = _run(module, random_image())[0]
    assert len(boxes32) > 0

    bf16 = str(tmp_path / "m_bf16.pt")
    assert (
        main(
            [
                config,
                weights,
                "--bf16",
                "--output",
                bf16,
                "--opts",
                "MODEL.ROI_HEADS.SCORE_THRESH_TEST",
                "0.0",
            ]
        )
        == 0
    )
    module16, meta16 = load_torchscript(bf16)
    assert json.loads(meta16)["dtype"] == "bf16" and json.loads(meta16)["score_thresh_test"] == 0.0
    outputs = _run(module16, random_image())
    assert len(outputs[0]) > 0 and all(o.dtype in (torch.float32, torch.int64) for o in outputs)
    # box branch stays fp32; the low-precision bodies shrink the file
    assert os.path.getsize(bf16) < 0.75 * os.path.getsize(fp32)


def test_cli_onnx_fp16_on_cpu(tmp_path, config_and_weights):
    """fp16 ONNX can be exported without CUDA (for a CUDA / TensorRT runtime);
    it runs in ORT CPU too."""
    import onnxruntime as ort

    config, weights = config_and_weights
    path = str(tmp_path / "m16.onnx")
    assert main([config, weights, "--format", "onnx", "--fp16", "--output", path]) == 0
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    meta = json.loads(session.get_modelmeta().custom_metadata_map["densepose_metadata.json"])
    assert meta["dtype"] == "fp16"
    outputs = dict(zip(meta["output_names"], session.run(None, {"image": random_image().numpy()})))
    assert len(outputs["boxes"]) > 0 and outputs["fine_segm"].dtype.name == "float32"


def test_cli_rejects_unsupported_precisions(tmp_path, config_and_weights, capsys):
    config, weights = config_and_weights
    assert (
        main([config, weights, "--format", "onnx", "--bf16", "--output", str(tmp_path / "x.onnx")])
        == 2
    )
    assert "bf16" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main([config, weights, "--fp16", "--output", str(tmp_path / "x.pt")]) == 2
        assert "CUDA" in capsys.readouterr().err
    assert main([config, str(tmp_path / "missing.pth"), "--output", str(tmp_path / "y.pt")]) == 2
    assert "missing.pth" in capsys.readouterr().err
