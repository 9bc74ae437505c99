"""Images that degenerate when resized (1x1, 3000x2, 2x3000) do not stop an `apply_net` batch."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from apply_net_helpers import TINY_CONFIG, draw_test_image, make_tiny_checkpoint
from detectron2.data import transforms as T
from detectron2.structures import Boxes, Instances

from densepose_ext.apply import main
from densepose_ext.apply.runner import run_apply
from densepose_ext.engine.inputs import InputItem
from densepose_ext.engine.predictor import BatchPredictor

# extreme aspect ratios in the middle of the batch
SIZES = {
    "a.png": (60, 80),
    "b_1x1.png": (1, 1),
    "c_3000x2.png": (3000, 2),
    "d_2x3000.png": (2, 3000),
    "e.png": (64, 48),
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "model_random.pth"))


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("degenerate")
    for seed, (name, (h, w)) in enumerate(SIZES.items()):
        image = (
            draw_test_image(h, w, seed)
            if min(h, w) > 40
            else np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
        )
        cv2.imwrite(str(folder / name), image)
    return folder


def test_resize_keeps_at_least_one_pixel():
    predictor = BatchPredictor.__new__(BatchPredictor)  # no model needed for the resize
    predictor.resize = T.ResizeShortestEdge([128, 128], 256)
    for h, w in [(3000, 2), (2, 3000), (1, 1), (120, 160)]:
        transform = predictor.resize_transform(np.zeros((h, w, 3), np.uint8))
        out = transform.apply_image(np.zeros((h, w, 3), np.uint8))
        assert min(out.shape[:2]) >= 1 and max(out.shape[:2]) <= 256, (h, w, out.shape)
    # an ordinary image gets exactly the plain ResizeShortestEdge transform
    plain = predictor.resize.get_transform(np.zeros((120, 160, 3), np.uint8))
    ours = predictor.resize_transform(np.zeros((120, 160, 3), np.uint8))
    assert (ours.new_h, ours.new_w) == (plain.new_h, plain.new_w) == (128, 171)


@pytest.mark.parametrize("batch_size", ["1", "3"])
def test_dump_processes_every_image(image_dir, checkpoint, tmp_path, batch_size):
    out = tmp_path / "d" / "r.pkl"
    args = [str(TINY_CONFIG), checkpoint, str(image_dir), "--output", str(out)]
    rc = main(
        ["dump", "--no-progress", *args, "--format", "pkl,iuv_png", "--batch-size", batch_size]
    )
    assert rc == 0
    records = torch.load(out, weights_only=False)
    assert [Path(r["file_name"]).name for r in records] == list(SIZES)
    for name, (h, w) in SIZES.items():
        iuv = cv2.imread(str(tmp_path / "d" / "r" / name.replace(".png", "_IUV.png")))
        assert iuv is not None and iuv.shape == (h, w, 3), name


def test_show_processes_every_image(image_dir, checkpoint, tmp_path):
    out = tmp_path / "s" / "v.png"
    args = [str(TINY_CONFIG), checkpoint, str(image_dir), "bbox,dp_segm,dp_contour"]
    assert main(["show", "--no-progress", *args, "--output", str(out), "--batch-size", "3"]) == 0
    for k, (h, w) in enumerate(SIZES.values(), start=1):
        assert cv2.imread(str(tmp_path / "s" / f"v.{k:04d}.png")).shape == (h, w, 3)


class _Writer:
    def __init__(self):
        self.names = []

    def write(self, item, prediction):
        self.names.append(Path(item.path).name)

    def close(self):
        return []


def _no_detections(image_size) -> Instances:
    return Instances(
        image_size,
        pred_boxes=Boxes(torch.zeros(0, 4)),
        scores=torch.zeros(0),
        pred_classes=torch.zeros(0, dtype=torch.int64),
    )


def test_a_failing_item_is_reported_and_its_batch_mates_go_on():
    def predictor(images):
        if any(image.shape[1] == 2 for image in images):
            raise ValueError("height and width must be > 0")
        return [_no_detections(image.shape[:2]) for image in images]

    items = [
        InputItem(i + 1, name, image=np.zeros((h, w, 3), np.uint8))
        for i, (name, (h, w)) in enumerate(SIZES.items())
    ]
    writer = _Writer()
    stats = run_apply(items, predictor, [writer], batch_size=3, progress=False)
    assert writer.names == ["a.png", "b_1x1.png", "d_2x3000.png", "e.png"]
    assert stats.processed == 4 and stats.failed == 1
    assert stats.errors == ["inference failed on c_3000x2.png: height and width must be > 0"]
