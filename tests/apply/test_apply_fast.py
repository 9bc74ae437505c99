"""apply_net's fast path: optimized + overlapped by default, agreeing with `--no-optimize
--no-overlap`; bad items skipped in order; --fp16 refused without CUDA; exported backends."""

import importlib.util
from pathlib import Path

import cv2
import pytest
import torch
from apply_net_helpers import TINY_CONFIG, draw_test_image, make_tiny_checkpoint, write_test_images

from densepose_ext.apply import main
from densepose_ext.modeling.inference_opt import chart_agreement, max_box_difference

IMAGES = {"a.png": (120, 160), "b.jpg": (96, 128), "c.png": (140, 100), "d.png": (100, 120)}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "model_random.pth"))


@pytest.fixture
def image_dir(tmp_path) -> Path:
    return write_test_images(tmp_path / "images", IMAGES)


def dump(checkpoint, inputs, output, *extra) -> list:
    args = ["dump", "--no-progress", str(TINY_CONFIG), checkpoint, str(inputs)]
    assert main(args + ["--output", str(output), *extra]) == 0
    return torch.load(output, weights_only=False)


def assert_records_agree(fast: list, plain: list) -> None:
    assert [r["file_name"] for r in fast] == [r["file_name"] for r in plain]
    for a, b in zip(fast, plain):
        assert len(a["pred_boxes_XYXY"]) == len(b["pred_boxes_XYXY"]) > 0
        assert max_box_difference(a["pred_boxes_XYXY"], b["pred_boxes_XYXY"]) <= 0.5
        agreement = chart_agreement(a["pred_densepose"], b["pred_densepose"])
        assert agreement.ok(), agreement


def test_default_fast_path_agrees_with_plain_path(image_dir, checkpoint, tmp_path):
    fast = dump(checkpoint, image_dir, tmp_path / "fast.pkl")
    plain = dump(checkpoint, image_dir, tmp_path / "plain.pkl", "--no-optimize", "--no-overlap")
    assert_records_agree(fast, plain)


def test_overlap_keeps_order_and_skips_bad_items(image_dir, checkpoint, tmp_path, capsys):
    (image_dir / "b.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    for extra in ([], ["--batch-size", "2"]):
        records = dump(checkpoint, image_dir, tmp_path / "r.pkl", *extra)
        assert [Path(r["file_name"]).name for r in records] == ["a.png", "c.png", "d.png"]
        err = capsys.readouterr().err
        assert "b.jpg" in err and "skipped 1" in err


def test_fp16_needs_cuda(image_dir, checkpoint, tmp_path, capsys):
    args = ["dump", str(TINY_CONFIG), checkpoint, str(image_dir), "--fp16", "--device", "cpu"]
    assert main(args) == 1
    assert "--fp16 needs a CUDA device" in capsys.readouterr().err


def test_exported_model_needs_an_export_backend(image_dir, checkpoint, capsys):
    args = ["dump", str(TINY_CONFIG), checkpoint, str(image_dir), "--exported-model", "x.pt"]
    assert main(args) == 1
    assert "--exported-model needs --backend" in capsys.readouterr().err


@pytest.mark.parametrize(
    "backend", ["torchscript", pytest.param("onnxruntime", marks=pytest.mark.slow)]
)
def test_exported_backend_agrees_and_is_cached(backend, checkpoint, tmp_path, monkeypatch):
    if backend == "onnxruntime" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed")
    monkeypatch.setenv("DENSEPOSE_EXT_CACHE", str(tmp_path / "cache"))
    image_dir = tmp_path / "unresized"  # short side = MIN_SIZE_TEST: the exported file's in-graph
    image_dir.mkdir()  # resize and apply_net's (PIL) would differ by one intensity level
    for seed, (h, w) in enumerate([(128, 160), (200, 128)]):
        cv2.imwrite(str(image_dir / f"{seed}.png"), draw_test_image(h, w, seed))
    exported = dump(checkpoint, image_dir, tmp_path / "e.pkl", "--backend", backend)
    cached = list((tmp_path / "cache" / "exported").iterdir())
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    again = dump(checkpoint, image_dir, tmp_path / "e2.pkl", "--backend", backend)
    assert cached[0].stat().st_mtime_ns == mtime  # loaded from the cache, not exported again
    plain = dump(checkpoint, image_dir, tmp_path / "plain.pkl", "--no-optimize")
    assert_records_agree(exported, plain)
    assert_records_agree(again, exported)
    given = dump(
        checkpoint,
        image_dir,
        tmp_path / "e3.pkl",
        "--backend",
        backend,
        "--exported-model",
        str(cached[0]),
    )
    assert_records_agree(given, exported)
