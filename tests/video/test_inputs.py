"""`VideoInputs`: a folder of frames as one video, bad frames named, `--square-crop`."""

import cv2
import numpy as np

from densepose_ext.engine.inputs import DEFAULT_FPS, list_inputs
from densepose_ext.video.inputs import VideoInputs, square_crop


def write_frames(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    for k, (h, w) in enumerate(sizes):
        cv2.imwrite(str(folder / f"f{k:03d}.png"), np.full((h, w, 3), 10 * k, np.uint8))
    return folder


def test_folder_of_frames_is_one_video_with_bad_frames_named(tmp_path):
    folder = write_frames(tmp_path / "frames", [(40, 60)] * 6)
    (folder / "f002.png").write_bytes(b"not a png")  # corrupt frame in the middle
    cv2.imwrite(str(folder / "f004.png"), np.zeros((50, 60, 3), np.uint8))  # other size
    inputs = VideoInputs(list_inputs(str(folder)), frames_as_video=True)
    items = list(inputs)
    expected = [(1, k, DEFAULT_FPS) for k in range(6)]
    assert [(i.index, i.frame_index, i.fps) for i in items] == expected
    assert [i.error is None for i in items] == [True, True, False, True, False, True]
    assert "f002.png" in items[2].error and "frame 2" in items[2].error
    assert "f004.png" in items[4].error and "frame 4" in items[4].error
    assert "60x50" in items[4].error and "60x40" in items[4].error
    assert items[3].path.endswith("f003.png") and items[3].image.shape == (40, 60, 3)
    assert inputs.frame_counts == {1: 6}


def test_square_crop_makes_frames_of_different_sizes_one_video(tmp_path):
    folder = write_frames(tmp_path / "frames", [(40, 60), (50, 60), (60, 40)])
    items = list(VideoInputs(list_inputs(str(folder)), frames_as_video=True, crop_size=32))
    assert all(i.error is None and i.image.shape == (32, 32, 3) for i in items)


def test_single_images_and_videos_stay_what_they_are(tmp_path):
    write_frames(tmp_path, [(20, 30)])
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for k in range(3):
        writer.write(np.full((24, 32, 3), 40 * k, np.uint8))
    writer.release()
    inputs = VideoInputs(list_inputs(str(tmp_path)), frames_as_video=True)
    items = list(inputs)
    assert [(i.path.endswith("clip.avi"), i.frame_index) for i in items] == [
        (True, 0),
        (True, 1),
        (True, 2),
        (False, None),
    ]
    assert inputs.frame_counts == {1: 3, 2: 0}


def test_square_crop_is_centred():
    image = np.zeros((40, 100, 3), np.uint8)
    image[:, 30:70] = 255  # the centred 40 x 40 square
    out = square_crop(image, 20)
    assert out.shape == (20, 20, 3) and out.min() == 255
    assert square_crop(image, 40).shape == (40, 40, 3)
