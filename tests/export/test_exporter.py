"""Exported TorchScript / ONNX artefacts give the eager model's detections and DensePose fields."""

import json

import numpy as np
import pytest
import torch
from export_utils import IMAGE_HW, random_image, save_checkpoint, tiny_config, tiny_model

from densepose_ext.export import METADATA_KEY, VERTEX_EMBEDDINGS_PREFIX, export_model
from densepose_ext.export.preprocess import resize_image
from densepose_ext.export.torchscript_export import load_torchscript

FIELD_ATOL = 1e-4
FIELD_RTOL = 1e-5  # ONNX Runtime vs torch: float rounding of convolutions (TorchScript: exact);
# fields with confidences (logits x softplus) reach values ~10, where 1e-4 is a few float32 ulps
BOX_ATOL = 1e-4


def eager_outputs(model, cfg, image: torch.Tensor) -> dict:
    """The eager detectron2 model on the same resized input:
    numpy outputs named as the artefact's."""
    chw, _ = resize_image(
        image, cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, cfg.INPUT.FORMAT == "RGB"
    )
    with torch.no_grad():
        inst = model.inference([{"image": chw, "height": image.shape[0], "width": image.shape[1]}])[
            0
        ]["instances"]
    out = {"boxes": inst.pred_boxes.tensor, "scores": inst.scores, "classes": inst.pred_classes}
    if len(inst) > 0:
        dp = inst.pred_densepose
        out.update(
            {
                f: getattr(dp, f)
                for f in (
                    "coarse_segm",
                    "fine_segm",
                    "u",
                    "v",
                    "embedding",
                    "sigma_2",
                    "kappa_u",
                    "kappa_v",
                    "fine_segm_confidence",
                    "coarse_segm_confidence",
                )
                if getattr(dp, f, None) is not None
            }
        )
    return {k: v.numpy() for k, v in out.items()}


def run_torchscript(path: str, image: torch.Tensor):
    module, meta = load_torchscript(path)
    with torch.no_grad():
        outputs = module(image)
    meta = json.loads(meta)
    return dict(zip(meta["output_names"], [o.numpy() for o in outputs])), meta


def run_onnx(path: str, image: torch.Tensor):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    meta = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
    outputs = session.run(None, {"image": image.numpy()})
    return dict(zip(meta["output_names"], outputs)), meta


RUNNERS = {"torchscript": run_torchscript, "onnx": run_onnx}
EXTENSIONS = {"torchscript": ".pt", "onnx": ".onnx"}


def assert_matches_eager(artefact: dict, eager: dict, exact: bool) -> None:
    n = len(eager["boxes"])
    assert n > 0, "the test model must produce detections"
    assert artefact["boxes"].shape == (n, 4)
    np.testing.assert_array_equal(artefact["classes"], eager["classes"])
    atol = 0.0 if exact else BOX_ATOL
    np.testing.assert_allclose(artefact["boxes"], eager["boxes"], rtol=0, atol=atol)
    np.testing.assert_allclose(artefact["scores"], eager["scores"], rtol=0, atol=max(atol, 1e-6))
    fields = [k for k in eager if k not in ("boxes", "scores", "classes")]
    assert fields and set(fields) <= set(artefact)
    for name in fields:
        assert artefact[name].shape == eager[name].shape, name
        rtol, atol = (0.0, 0.0) if exact else (FIELD_RTOL, FIELD_ATOL)
        np.testing.assert_allclose(artefact[name], eager[name], rtol=rtol, atol=atol, err_msg=name)


def export_and_compare(tmp_path, config: str, fmt: str, image_hw=IMAGE_HW):
    cfg = tiny_config(config)
    model = tiny_model(cfg)
    weights = save_checkpoint(model, tmp_path / "model.pth")
    path = str(tmp_path / f"model{EXTENSIONS[fmt]}")
    result = export_model(
        cfg, weights, fmt, path, config_name=config, example=random_image((96, 120), seed=5)
    )
    image = random_image(image_hw)
    outputs, meta = RUNNERS[fmt](path, image)
    assert meta == result.metadata
    assert_matches_eager(outputs, eager_outputs(model, cfg, image), exact=(fmt == "torchscript"))
    return model, outputs, meta


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize(
    "config", ["densepose_rcnn_R_50_FPN_s1x.yaml", "densepose_rcnn_R_50_FPN_s1x_legacy.yaml"]
)
def test_chart_export_matches_eager(tmp_path, config, fmt):
    _, outputs, meta = export_and_compare(tmp_path, config, fmt)
    s = meta["heatmap_size"]
    assert outputs["fine_segm"].shape[1:] == (25, s, s)
    assert meta["family"] == "chart" and meta["box_format"] == "XYXY_ABS"
    assert meta["class_names"] == ["person"] and meta["config_name"] == config
    assert meta["input"]["channel_order"] == "BGR" and meta["input"]["dtype"] == "uint8"


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_cse_export_matches_eager_and_stores_vertex_embeddings(tmp_path, fmt):
    model, outputs, meta = export_and_compare(tmp_path, "cse/densepose_rcnn_R_50_FPN_s1x.yaml", fmt)
    assert meta["family"] == "cse"
    assert meta["mesh_names"] == ["smpl_27554"]
    assert meta["class_to_mesh_name"] == {"0": "smpl_27554"}
    stored = outputs[VERTEX_EMBEDDINGS_PREFIX + "smpl_27554"]
    with torch.no_grad():
        expected = model.roi_heads.embedder("smpl_27554").numpy()
    assert stored.shape == (27554, 16)
    np.testing.assert_allclose(stored, expected, rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "config", ["densepose_rcnn_R_50_FPN_WC2M_s1x.yaml", "densepose_rcnn_R_50_FPN_DL_s1x.yaml"]
)
def test_confidence_and_deeplab_torchscript_match_eager(tmp_path, config):
    _, outputs, _ = export_and_compare(tmp_path, config, "torchscript")
    if "WC2M" in config:
        assert {
            "sigma_2",
            "kappa_u",
            "kappa_v",
            "fine_segm_confidence",
            "coarse_segm_confidence",
        } <= set(outputs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        "densepose_rcnn_R_50_FPN_WC2M_s1x.yaml",
        "densepose_rcnn_R_50_FPN_DL_WC1M_s1x.yaml",
        "cse/densepose_rcnn_R_50_FPN_DL_soft_s1x.yaml",
        "cse/densepose_rcnn_R_50_FPN_soft_animals_finetune_4k.yaml",
    ],
)
def test_more_families_onnx_match_eager(tmp_path, config):
    _, _, meta = export_and_compare(tmp_path, config, "onnx")
    if "animals" in config:
        assert len(meta["mesh_names"]) == 9 and meta["class_names"][0] == "bear"


def test_torchscript_follows_input_size_and_threshold(tmp_path):
    """One traced graph serves resized inputs of other sizes and zero detections."""
    cfg = tiny_config("densepose_rcnn_R_50_FPN_s1x.yaml")
    model = tiny_model(cfg)
    path = str(tmp_path / "m.pt")
    export_model(
        cfg,
        save_checkpoint(model, tmp_path / "w.pth"),
        "torchscript",
        path,
        example=random_image((96, 120)),
    )
    module, _ = load_torchscript(path)
    for hw in [(100, 150), (400, 600)]:  # up- and down-scaled by ResizeShortestEdge(192, 320)
        image = random_image(hw, seed=hw[0])
        with torch.no_grad():
            outputs = dict(
                zip(
                    ["boxes", "scores", "classes", "coarse_segm", "fine_segm", "u", "v"],
                    module(image),
                )
            )
        assert_matches_eager(
            {k: v.numpy() for k, v in outputs.items()}, eager_outputs(model, cfg, image), exact=True
        )
        assert outputs["boxes"][:, 2].max() <= hw[1] and outputs["boxes"][:, 3].max() <= hw[0]
    module.score_thresh.fill_(1.0)  # the artefact's adjustable threshold: nothing passes
    with torch.no_grad():
        empty = module(random_image())
    assert empty[0].shape == (0, 4) and empty[4].shape == (0, 25, 112, 112)
