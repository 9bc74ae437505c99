"""`apply_net.py show --preset magicanimate | civitai` with a tiny random-weight chart model."""

import cv2
import numpy as np
import pytest
import torch
from apply_net_helpers import (
    TINY_CONFIG,
    TINY_CSE_CONFIG,
    draw_test_image,
    make_tiny_checkpoint,
    read_video,
    write_test_video,
)

from densepose_ext.apply import main
from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences
from densepose_ext.vis.hint_image import HintImageRenderer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "model_random.pth"))


def run(command, *args) -> int:
    return main([command, "--no-progress", "--device", "cpu", *(str(a) for a in args)])


def test_preset_picture_equals_dump_labels_drawn(checkpoint, tmp_path):
    """The written picture is the preset drawn from the labels `dump` writes for the input."""
    image_path = tmp_path / "person.png"
    cv2.imwrite(str(image_path), draw_test_image(100, 140, seed=3))
    out = tmp_path / "hint.png"
    assert (
        run(
            "show",
            TINY_CONFIG,
            checkpoint,
            image_path,
            "--preset",
            "magicanimate",
            "--min_score",
            "0.5",
            "--output",
            out,
        )
        == 0
    )
    hint = cv2.imread(str(tmp_path / "hint.0001.png"))
    assert hint.shape == (100, 140, 3)

    dump_args = ["--format", "npz", "--output", tmp_path / "d.pkl", "--min_score", "0.5"]
    assert run("dump", TINY_CONFIG, checkpoint, image_path, *dump_args) == 0
    dump = np.load(tmp_path / "d" / "person.npz")
    n = len(dump["boxes_xyxy"])
    assert n > 0
    results = [
        DensePoseChartResultWithConfidences(
            labels=torch.from_numpy(dump[f"labels_{k}"].astype(np.int64)),
            uv=torch.zeros(2, *dump[f"labels_{k}"].shape),
        )
        for k in range(n)
    ]
    prediction = ImagePrediction.from_results((100, 140), dump["boxes_xyxy"], results)
    expected = HintImageRenderer("magicanimate")(np.zeros((100, 140, 3), np.uint8), prediction)
    np.testing.assert_array_equal(hint, expected)
    assert (hint != np.array([84, 1, 68], np.uint8)).any(axis=2).sum() > 100  # parts drawn


def test_preset_video_in_video_out(checkpoint, tmp_path):
    video = write_test_video(tmp_path / "clip.avi", num_frames=3, fps=5.0)
    assert (
        run(
            "show",
            TINY_CONFIG,
            checkpoint,
            video,
            "--preset",
            "civitai",
            "--output",
            tmp_path / "hint.png",
        )
        == 0
    )
    frames, _ = read_video(tmp_path / "hint.0001.mp4")
    assert len(frames) == 3 and frames[0].shape == (96, 128, 3)


def test_preset_argument_errors(checkpoint, tmp_path, capsys):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), draw_test_image(64, 64, seed=0))
    assert run("show", TINY_CONFIG, checkpoint, image, "dp_segm", "--preset", "civitai") == 1
    assert "drop <visualizations>" in capsys.readouterr().err
    assert run("show", TINY_CONFIG, checkpoint, image) == 1
    assert "or --preset" in capsys.readouterr().err
    assert run("show", TINY_CSE_CONFIG, checkpoint, image, "--preset", "civitai") == 1
    assert "need a chart model" in capsys.readouterr().err
