"""`TemporalStage`: release order and lag, missing frames passed through, bounded memory."""

import numpy as np
import pytest
import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.engine.inputs import InputItem
from densepose_ext.structures.predictor_outputs import DensePoseChartPredictorOutput
from densepose_ext.video.stage import TemporalOptions, TemporalStage, temporal_seconds_per_frame


def frame_prediction(t: int, with_densepose: bool = True, s: int = 4) -> ImagePrediction:
    """Two people walking towards each other on a 640-px-wide frame, wrapping around."""
    xa, xb = (5 * t) % 600, 600 - (5 * t) % 600
    boxes = torch.tensor([[xa, 100, xa + 40, 200], [xb, 300, xb + 40, 400]], dtype=torch.float32)
    densepose = None
    if with_densepose:
        g = torch.Generator().manual_seed(t)
        densepose = DensePoseChartPredictorOutput(
            *(torch.randn(2, c, s, s, generator=g) for c in (2, 25, 25, 25))
        )
    return ImagePrediction(
        (480, 640), boxes, torch.full((2,), 0.9), torch.zeros(2, dtype=torch.int64), densepose
    )


def video_item(t: int, index: int = 1) -> InputItem:
    return InputItem(index, "clip.mp4", frame_index=t, fps=25.0)


@pytest.mark.parametrize("mode, window, lag", [("causal", 5, 0), ("offline", 5, 2)])
def test_each_frame_is_released_after_the_lag(mode, window, lag):
    stage = TemporalStage(TemporalOptions(window=window, mode=mode))
    assert stage.lag == lag
    released = []
    for t in range(8):
        out = stage.push(video_item(t), frame_prediction(t))
        assert [item.frame_index for item, _ in out] == ([t - lag] if t >= lag else [])
        released += out
    tail = stage.flush()
    assert [item.frame_index for item, _ in tail] == list(range(8 - lag, 8))
    released += tail
    assert all(p.track_ids.tolist() == [1, 2] for _, p in released)


def test_missing_frames_are_passed_through_in_order():
    """Frames 2 (model failure / unreadable) and 5-6 (unreadable at the end) never arrive."""
    counts = {}
    stage = TemporalStage(TemporalOptions(mode="offline", window=3), frame_counts=counts)
    out = []
    for t in (0, 1, 3, 4):
        out += stage.push(video_item(t), frame_prediction(t))
    counts[1] = 7  # known once the reader has passed the video's end
    out += stage.push(InputItem(2, "next.png"), frame_prediction(0))  # next input: an image
    out += stage.flush()
    frames = [(item.index, item.frame_index, p is None) for item, p in out]
    assert frames == [
        (1, 0, False),
        (1, 1, False),
        (1, 2, True),
        (1, 3, False),
        (1, 4, False),
        (1, 5, True),
        (1, 6, True),
        (2, None, False),
    ]
    ids = [p.track_ids.tolist() for _, p in out if p is not None]
    assert ids[:4] == [[1, 2]] * 4  # tracks continue across the missing frame
    assert ids[4] == [1, 2]  # a new video starts its own ids


@pytest.mark.parametrize(
    "mode, frames",
    [
        ("causal", 2_000),
        ("offline", 2_000),
        pytest.param("causal", 10_000, marks=pytest.mark.slow),
        pytest.param("offline", 10_000, marks=pytest.mark.slow),
    ],
)
def test_memory_stays_flat_over_a_long_video(mode, frames):
    """Thousands of frames, people entering and leaving all the time: the release buffer never
    holds more than lag + 1 frames, each track at most one window of observations, and only the
    tracks that can still matter are kept."""
    options = TemporalOptions(window=5, mode=mode, max_missed=8)
    stage = TemporalStage(options)
    released = 0
    for t in range(frames):
        released += len(stage.push(video_item(t), frame_prediction(t, with_densepose=t % 50 == 0)))
        video = stage._video
        assert len(video.pending) <= stage.lag + 1
        assert max(len(h) for h in video.smoother.history.values()) <= options.window
        assert len(video.smoother.history) <= 8 and len(video.tracker.tracks) <= 8
    released += len(stage.flush())
    assert released == frames and stage.max_pending == stage.lag + 1


def test_timing_hook_returns_seconds_per_frame():
    stream = [(video_item(t), frame_prediction(t)) for t in range(6)]
    seconds = temporal_seconds_per_frame(stream, TemporalOptions(window=3), with_conversion=True)
    assert 0 < seconds < 5


def test_appearance_uses_the_image():
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :320] = (0, 0, 255)
    item = InputItem(1, "clip.mp4", frame_index=0, image=image, fps=25.0)
    stage = TemporalStage(TemporalOptions())
    ((_, out),) = stage.push(item, frame_prediction(0))
    tracks = stage._video.tracker.tracks
    assert out.track_ids.tolist() == [1, 2] and all(t.appearance is not None for t in tracks)


def test_colour_bands_of_the_foreground():
    from densepose_ext.video.appearance import colour_bands

    image = np.zeros((300, 200, 3), np.uint8)
    image[:100] = (255, 0, 0)  # top third blue, the rest red
    image[100:] = (0, 0, 255)
    coarse = torch.zeros(1, 2, 8, 8)
    coarse[0, 1, :, :4] = 1.0  # foreground: the left half of the box
    image[:, 100:] = (0, 255, 0)  # background right half green: must not count
    bands = colour_bands(image, np.array([[0.0, 0.0, 200.0, 300.0]]), coarse, max_samples=50)
    np.testing.assert_allclose(bands[0], [1, 0, 0, 0, 0, 1, 0, 0, 1])
    outside = colour_bands(image, np.array([[500.0, 500.0, 600.0, 600.0]]), None)
    assert np.isnan(outside).all()
