"""Video key frames (OpenCV backend, and PyAV when installed), frame selectors,
video/image datasets."""

import os
import random

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import CfgNode
from detectron2.data import MetadataCatalog

from densepose_ext.data.bootstrap import (
    FirstKFramesSelector,
    ImageListDataset,
    ImageResizeTransform,
    LastKFramesSelector,
    RandomKFramesSelector,
    VideoKeyframeDataset,
    build_bootstrap_dataset,
    build_frame_selector,
    list_keyframes,
    read_keyframe_helper_data,
    read_keyframes,
    register_image_list_dataset,
    register_video_list_dataset,
)

NUM_FRAMES, H, W = 40, 48, 64
BGR = (200, 90, 40)  # blue-dominant frames; a 16 x 16 grey patch encodes the frame index


def _write_video(path):
    """mp4v video of a nearly static scene:
    OpenCV's FFmpeg writer puts a key frame every 12 frames."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (W, H))
    assert writer.isOpened()
    for i in range(NUM_FRAMES):
        frame = np.empty((H, W, 3), np.uint8)
        frame[:] = BGR
        frame[:16, :16] = 5 * i
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return _write_video(str(tmp_path_factory.mktemp("video") / "clip.mp4"))


def _frame_index(rgb_frame):
    """Index encoded by the patch (lossy coding darkens it by about 2.5 grey levels)."""
    return int(round((float(rgb_frame[4:12, 4:12].mean()) + 2.5) / 5))


def _all_frames_rgb(path):
    capture, frames = cv2.VideoCapture(path), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))


def test_opencv_lists_true_key_frames(video):
    keyframes = list_keyframes(video, backend="opencv")
    assert keyframes[:4] == [0, 12, 24, 36]  # the writer's GOP of 12
    frames = read_keyframes(video, keyframes[:4], backend="opencv")
    assert [_frame_index(f) for f in frames] == [0, 12, 24, 36]
    sequential = _all_frames_rgb(video)
    assert len(sequential) == NUM_FRAMES
    assert all(
        np.array_equal(f, sequential[k]) for f, k in zip(frames, [0, 12, 24, 36])
    )  # seek is exact
    assert (
        frames[0].shape == (H, W, 3) and abs(float(frames[0][..., 0].mean()) - BGR[2]) < 6
    )  # RGB order


def test_pyav_backend_agrees_with_frame_content(video):
    pytest.importorskip("av")
    keyframes = list_keyframes(video, backend="pyav")  # PTS values
    frames = read_keyframes(video, keyframes, backend="pyav")
    assert [_frame_index(f) for f in frames][:4] == [0, 12, 24, 36]


def test_frame_selectors():
    frames = list(range(10))
    assert FirstKFramesSelector(3)(frames) == [0, 1, 2]
    assert LastKFramesSelector(3)(frames) == [7, 8, 9]
    picked = RandomKFramesSelector(4, rng=random.Random(0))(frames)
    assert len(set(picked)) == 4 and picked == sorted(picked)
    assert RandomKFramesSelector(20)(frames) == frames
    assert build_frame_selector(CfgNode({"STRATEGY": "all"})) is None
    assert isinstance(
        build_frame_selector(CfgNode({"STRATEGY": "last_k", "NUM_IMAGES": 2})), LastKFramesSelector
    )
    with pytest.raises(KeyError):
        build_frame_selector(CfgNode({"STRATEGY": "middle_k", "NUM_IMAGES": 2}))


def test_video_dataset_gives_bgr_float_frames_and_resizes(video, tmp_path):
    dataset = VideoKeyframeDataset(
        [video, str(tmp_path / "missing.mp4")],
        ["chimp", "chimp"],
        frame_selector=LastKFramesSelector(2),
        transform=ImageResizeTransform(min_size=24, max_size=100),
        backend="opencv",
    )
    item = dataset[0]
    images = item["images"]
    assert images.dtype == torch.float32 and images.shape == (2, 3, 24, 32)  # scale = 24 / 48
    assert images[:, 0].mean() > 150 and images[:, 2].mean() < 80  # channel 0 = blue (BGR)
    assert item["categories"] == ["chimp"]
    broken = dataset[1]  # unreadable: empty item, no exception
    assert broken["images"].shape == (0, 3, 1, 1) and broken["categories"] == []


def test_keyframe_helper_csv_overrides_listing(video, tmp_path):
    helper = tmp_path / "keyframes.csv"
    helper.write_text('video_id,keyframes\n0,"[12, 24]"\n')
    data = read_keyframe_helper_data(str(helper))
    assert data == {0: [12, 24]}
    item = VideoKeyframeDataset([video], ["c"], keyframe_helper_data=data, backend="opencv")[0]
    assert item["images"].shape[0] == 2
    assert read_keyframe_helper_data(str(tmp_path / "nope.csv")) == {}


def test_video_list_and_image_list_datasets_from_metadata(video, tmp_path):
    list_file = tmp_path / "videos.txt"
    list_file.write_text(os.path.basename(video) + "\n\n")
    register_video_list_dataset(
        "test_bootstrap_videos", str(list_file), os.path.dirname(video), "chimp"
    )
    loader_cfg = CfgNode(
        {
            "TYPE": "video_keyframe",
            "SELECT": {"STRATEGY": "first_k", "NUM_IMAGES": 3},
            "TRANSFORM": {"TYPE": "resize", "MIN_SIZE": 96, "MAX_SIZE": 1000},
        }
    )
    dataset = build_bootstrap_dataset("test_bootstrap_videos", loader_cfg)
    assert len(dataset) == 1 and dataset[0]["images"].shape == (3, 3, 96, 128)
    assert MetadataCatalog.get("test_bootstrap_videos").dataset_type.value == "video_list"
    with pytest.raises(ValueError, match="video_keyframe"):
        build_bootstrap_dataset("test_bootstrap_videos", CfgNode({"TYPE": ""}))

    image = np.zeros((20, 30, 3), np.uint8)
    image[..., 0] = 255  # blue in OpenCV's BGR
    cv2.imwrite(str(tmp_path / "a.png"), image)
    register_image_list_dataset("test_bootstrap_images", ["a.png"], str(tmp_path), "person")
    images = build_bootstrap_dataset("test_bootstrap_images", CfgNode({"TYPE": ""}))
    assert isinstance(images, ImageListDataset)
    item = images[0]
    assert item["images"].shape == (1, 3, 20, 30) and item["images"][0, 0].min() == 255
    assert item["categories"] == ["person"]
