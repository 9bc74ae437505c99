"""apply_net with a cascade model: `masks` / `keypoints` visualizers, masks and keypoints dumped."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from apply_net_helpers import TINY_CONFIG, draw_test_image, make_tiny_checkpoint
from pycocotools import mask as mask_util

from densepose_ext.apply import main

CASCADE_CONFIG = Path(__file__).resolve().parent / "tiny_densepose_cascade_R_18_FPN.yaml"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    """Random weights; keypoint logits scaled down: with random logits of several hundred,
    detectron2's bicubic heatmap upsampling overshoots and its softmax underflows (NaN)."""
    folder = tmp_path_factory.mktemp("tiny_cascade")
    path = make_tiny_checkpoint(folder / "cascade_random.pth", config=CASCADE_CONFIG)
    data = torch.load(path, weights_only=False)
    for key in data["model"]:
        if key.startswith("roi_heads.keypoint_predictor_stage2."):
            data["model"][key] = data["model"][key] * 0.001
    torch.save(data, path)
    return str(path)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cascade_images") / "a.png"
    cv2.imwrite(str(path), draw_test_image(96, 128, 0))
    return path


def run(command, *args) -> int:
    return main([command, "--no-progress", *(str(a) for a in args)])


def test_show_draws_masks_and_keypoints(checkpoint, image, tmp_path):
    common = (CASCADE_CONFIG, checkpoint, image)
    assert run("show", *common, "bbox", "--output", tmp_path / "b.png", "--min_score", "0") == 0
    args = ("bbox,masks,keypoints", "--output", tmp_path / "m.png", "--min_score", "0")
    assert run("show", *common, *args) == 0
    boxes = cv2.imread(str(tmp_path / "b.0001.png"))
    drawn = cv2.imread(str(tmp_path / "m.0001.png"))
    assert boxes.shape == drawn.shape == (96, 128, 3)
    assert (boxes != drawn).any(axis=2).mean() > 0.05


def test_dump_stores_masks_and_keypoints(checkpoint, image, tmp_path):
    out = tmp_path / "r.pkl"
    args = ("--output", out, "--format", "pkl,npz,json", "--min_score", "0")
    assert run("dump", CASCADE_CONFIG, checkpoint, image, *args) == 0
    (record,) = torch.load(out, weights_only=False)
    n = len(record["scores"])
    assert n > 0 and len(record["pred_densepose"]) == n
    assert record["pred_masks"].shape == (n, 96, 128) and record["pred_masks"].dtype == torch.bool
    assert record["pred_keypoints"].shape == (n, 17, 3)
    masks, keypoints = record["pred_masks"].numpy(), record["pred_keypoints"].numpy()
    assert masks.any(axis=(1, 2)).sum() >= n // 2  # random weights: most masks are not empty
    boxes = record["pred_boxes_XYXY"].numpy()
    for box, mask, points in zip(boxes, masks, keypoints):
        ys, xs = np.nonzero(mask)  # pasted inside its box (detectron2's paste_masks_in_image)
        if xs.size:
            assert xs.min() >= np.floor(box[0]) - 1 and xs.max() <= np.ceil(box[2]) + 1
            assert ys.min() >= np.floor(box[1]) - 1 and ys.max() <= np.ceil(box[3]) + 1
        assert (points[:, 0] >= box[0] - 1).all() and (points[:, 0] <= box[2] + 1).all()
        assert (points[:, 1] >= box[1] - 1).all() and (points[:, 1] <= box[3] + 1).all()
    npz_files = list(tmp_path.rglob("*.npz"))
    assert len(npz_files) == 1
    arrays = np.load(npz_files[0])
    np.testing.assert_array_equal(arrays["masks"], masks)
    np.testing.assert_array_equal(arrays["keypoints"], keypoints.astype(np.float32))
    (json_file,) = [p for p in tmp_path.rglob("*.json")]
    detections = json.loads(json_file.read_text())["detections"]
    assert len(detections) == n
    for det, mask, points in zip(detections, masks, keypoints):
        np.testing.assert_array_equal(mask_util.decode(det["segmentation"]).astype(bool), mask)
        np.testing.assert_allclose(det["keypoints"], points.reshape(-1), rtol=0, atol=0.005)


def test_masks_need_a_mask_head(image, tmp_path, capsys):
    plain = make_tiny_checkpoint(tmp_path / "plain.pth")
    assert run("show", TINY_CONFIG, plain, image, "masks", "--output", tmp_path / "o.png") == 1
    assert "MODEL.MASK_ON" in capsys.readouterr().err
