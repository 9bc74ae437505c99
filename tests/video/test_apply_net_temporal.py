"""`apply_net.py show|dump --temporal` end to end with the tiny random-weight test models."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from fixture_paths import load_module_file

from densepose_ext.apply import main

helpers = load_module_file("tests/apply/apply_net_helpers.py")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(helpers.make_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "model.pth"))


@pytest.fixture(scope="module")
def cse_checkpoint(tmp_path_factory) -> str:
    helpers.register_quad_mesh(tmp_path_factory.mktemp("quad_mesh"))
    path = tmp_path_factory.mktemp("tiny_cse") / "model.pth"
    return str(helpers.make_tiny_checkpoint(path, helpers.TINY_CSE_CONFIG))


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """5 frames of one still picture: tracks must persist, smoothing must change nothing."""
    path = tmp_path_factory.mktemp("video") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (128, 96))
    frame = helpers.draw_test_image(96, 128, seed=1)
    for _ in range(5):
        writer.write(frame)
    writer.release()
    return path


def run(command, *args) -> int:
    return main([command, "--no-progress", "--device", "cpu", *(str(a) for a in args)])


def video_info(path: Path):
    return helpers.read_video(path)


@pytest.fixture(scope="module")
def chart_dumps(checkpoint, video, tmp_path_factory) -> Path:
    """The video dumped per frame (a.pkl) and with --temporal offline at full strength (b.*)."""
    out = tmp_path_factory.mktemp("dumps")
    base = ["--min_score", "0.5"]
    plain = ["--format", "pkl", "--output", out / "a.pkl", *base]
    assert run("dump", helpers.TINY_CONFIG, checkpoint, video, *plain) == 0
    temporal = ["--format", "pkl,json,npz", "--output", out / "b.pkl", *base, "--temporal"]
    temporal += ["--temporal-mode", "offline", "--temporal-strength", "1"]
    assert run("dump", helpers.TINY_CONFIG, checkpoint, video, *temporal) == 0
    return out


def test_dump_chart_track_ids_in_every_format(chart_dumps):
    records = torch.load(chart_dumps / "b.pkl", weights_only=False)
    assert [r["frame_index"] for r in records] == list(range(5))
    for record in records:
        ids = record["track_ids"]
        assert ids.dtype == torch.int64 and len(ids) == len(record["pred_boxes_XYXY"]) > 0
        assert ids.tolist() == records[0]["track_ids"].tolist()  # a still video: same people
        assert len(set(ids.tolist())) == len(ids)
    document = json.loads((chart_dumps / "b.json").read_text())
    by_image = {}
    for det in document["detections"]:
        by_image.setdefault(det["image_id"], []).append(det["track_id"])
    for image in document["images"]:
        assert image["track_ids"] == by_image[image["id"]]
        assert image["track_ids"] == records[image["frame_index"]]["track_ids"].tolist()
    npz = np.load(chart_dumps / "b" / "clip_000003.npz")
    assert npz["track_ids"].tolist() == records[3]["track_ids"].tolist()


def test_still_video_outputs_equal_per_frame_outputs(chart_dumps):
    """Smoothing is the identity on a still video, end to end (an MJPG decode of one picture
    gives the same pixels each frame); and without --temporal there is no `track_ids`."""
    plain = torch.load(chart_dumps / "a.pkl", weights_only=False)
    smoothed = torch.load(chart_dumps / "b.pkl", weights_only=False)
    assert len(plain) == len(smoothed) == 5
    for p, s in zip(plain, smoothed):
        assert "track_ids" not in p
        assert torch.equal(p["pred_boxes_XYXY"], s["pred_boxes_XYXY"])
        for a, b in zip(p["pred_densepose"], s["pred_densepose"]):
            assert torch.equal(a.labels, b.labels) and torch.equal(a.uv, b.uv)


def test_dump_cse_track_ids(cse_checkpoint, video, tmp_path):
    out = tmp_path / "c.pkl"
    args = ["--output", out, "--format", "pkl,npz", "--temporal", "--min_score", "0.5"]
    assert run("dump", helpers.TINY_CSE_CONFIG, cse_checkpoint, video, *args) == 0
    records = torch.load(out, weights_only=False)
    assert len(records) == 5
    for record in records:
        assert len(record["track_ids"]) == len(record["pred_densepose"]) > 0
    npz = np.load(tmp_path / "c" / "clip_000004.npz")
    assert npz["track_ids"].tolist() == records[4]["track_ids"].tolist()
    assert npz["vertices_0"].max() <= 3


def test_preset_hint_video_keeps_frame_count_and_rate(checkpoint, video, tmp_path):
    args = ["--preset", "magicanimate", "--temporal", "--square-crop", "64", "--min_score", "0.5"]
    assert (
        run("show", helpers.TINY_CONFIG, checkpoint, video, *args, "--output", tmp_path / "h.mp4")
        == 0
    )
    frames, fps = video_info(tmp_path / "h.0001.mp4")
    assert len(frames) == 5 and fps == pytest.approx(12.0)
    assert frames[0].shape == (64, 64, 3)


def test_frame_folder_with_bad_frames(checkpoint, tmp_path, capsys):
    """A corrupt frame and a frame of another size in the middle: both reported by name and
    frame, skipped, and the output video still has one frame per file; tracks continue."""
    folder = tmp_path / "frames"
    folder.mkdir()
    picture = helpers.draw_test_image(96, 128, seed=2)
    for k in range(6):
        cv2.imwrite(str(folder / f"frame_{k:02d}.png"), picture)
    (folder / "frame_02.png").write_bytes(b"\x89PNG broken")
    cv2.imwrite(str(folder / "frame_04.png"), helpers.draw_test_image(80, 128, seed=2))
    show = ["dp_segm", "--temporal", "--draw-track-ids", "--min_score", "0.5"]
    assert (
        run("show", helpers.TINY_CONFIG, checkpoint, folder, *show, "--output", tmp_path / "s.mp4")
        == 0
    )
    err = capsys.readouterr().err
    assert "frame_02.png" in err and "frame 2" in err
    assert "frame_04.png" in err and "frame 4" in err and "128x80" in err
    frames, fps = video_info(tmp_path / "s.0001.mp4")
    assert len(frames) == 6 and fps == pytest.approx(25.0)
    dump = ["--temporal", "--min_score", "0.5", "--output", tmp_path / "d.pkl"]
    assert run("dump", helpers.TINY_CONFIG, checkpoint, folder, *dump) == 0
    records = torch.load(tmp_path / "d.pkl", weights_only=False)
    assert [r["frame_index"] for r in records] == [0, 1, 3, 5]
    assert records[3]["file_name"].endswith("frame_05.png")
    assert records[3]["track_ids"].tolist() == records[0]["track_ids"].tolist()


def test_nobody_and_empty_video(checkpoint, video, tmp_path, capsys):
    """A clip where nobody is detected gives a background-only hint video and empty track ids;
    a video without frames is reported and the run goes on."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_empty.mp4").write_bytes(b"")
    (folder / "b_clip.avi").write_bytes(video.read_bytes())
    args = ["--preset", "magicanimate", "--temporal", "--min_score", "1.0"]
    assert (
        run("show", helpers.TINY_CONFIG, checkpoint, folder, *args, "--output", tmp_path / "n.mp4")
        == 0
    )
    assert "a_empty.mp4" in capsys.readouterr().err
    frames, _ = video_info(tmp_path / "n.0002.mp4")
    assert len(frames) == 5
    background = np.array([84, 1, 68])
    assert np.abs(frames[2].astype(int) - background).max() <= 8  # codec noise only
    dump = ["--temporal", "--min_score", "1.0", "--output", tmp_path / "n.pkl"]
    assert run("dump", helpers.TINY_CONFIG, checkpoint, folder, *dump) == 0
    records = torch.load(tmp_path / "n.pkl", weights_only=False)
    assert len(records) == 5 and all(len(r["track_ids"]) == 0 for r in records)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--draw-track-ids"], "--draw-track-ids needs --temporal"),
        (["--temporal", "--temporal-window", "0"], "--temporal-window must be >= 1"),
        (["--temporal", "--temporal-strength", "2"], "--temporal-strength must be in [0, 1]"),
        (["--square-crop", "0"], "--square-crop must be a positive size"),
    ],
)
def test_bad_video_options_give_one_line_errors(
    checkpoint, video, tmp_path, capsys, extra, message
):
    args = ["bbox", *extra, "--output", tmp_path / "x.png"]
    assert run("show", helpers.TINY_CONFIG, checkpoint, video, *args) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]
    assert not list(tmp_path.glob("x*"))
