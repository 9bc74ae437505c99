"""A cascade model exports its final (stage-2) DensePose output; TorchScript matches eager."""

import pytest
from export_utils import random_image, save_checkpoint, tiny_config, tiny_model
from test_exporter import assert_matches_eager, eager_outputs, run_torchscript

from densepose_ext.export import export_model

CONFIG = "cascade/densepose_rcnn_R_50_FPN_cascade_mask_kp_s1x.yaml"


@pytest.mark.slow  # tracing: ~1-2 min on the shared 2-core machine
def test_cascade_torchscript_export_matches_eager(tmp_path):
    cfg = tiny_config(CONFIG)
    cfg.MODEL.ROI_MASK_HEAD.CONV_DIM = 16
    cfg.MODEL.ROI_MASK_HEAD.NUM_CONV = 1
    cfg.MODEL.ROI_KEYPOINT_HEAD.CONV_DIMS = (16,)
    cascade = cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE
    cascade.CONV_DIM, cascade.REFINE_NUM_CONVS, cascade.REFINE_CONV_DIM = 16, 1, 16
    model = tiny_model(cfg)
    weights = save_checkpoint(model, tmp_path / "model.pth")
    path = str(tmp_path / "model.pt")
    export_model(
        cfg,
        weights,
        "torchscript",
        path,
        config_name=CONFIG,
        example=random_image((96, 120), seed=5),
    )
    image = random_image()
    outputs, meta = run_torchscript(path, image)
    eager = eager_outputs(model, cfg, image)
    assert_matches_eager(outputs, eager, exact=True)
    assert meta["family"] == "chart" and outputs["u"].shape[1:] == (25, 112, 112)
