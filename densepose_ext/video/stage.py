"""`TemporalStage`: the stream stage of `apply_net --temporal` (tracking + smoothing per video).

It sits between the model and the writers (`apply.runner.StreamStage`): each (item, prediction)
of a video is tracked, remembered, and released smoothed once the frames its window needs have
arrived (at once in causal mode; `window // 2` frames later in offline mode). Frames that never
reached it (unreadable, or the model failed on them: a gap in frame numbers, or missing at the
end according to `frame_counts`) are released in order as (item, None), so that video outputs
keep the frame count; tracks simply continue across them. Memory is bounded: the release buffer
holds at most `lag + 1` frames and each track at most one window of observations.
"""

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Deque, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..converters.prediction import ImagePrediction
from ..engine.inputs import InputItem
from .appearance import colour_bands
from .smoothing import TrackSmoother
from .tracking import BoxTracker

__all__ = ["TemporalOptions", "TemporalStage", "temporal_seconds_per_frame"]

Pair = Tuple[InputItem, Optional[ImagePrediction]]


@dataclass
class TemporalOptions:
    """Knobs of `--temporal`: window (frames), strength in [0, 1], mode causal | offline, frames
    a track survives unseen, and whether the appearance cue is used."""

    window: int = 5
    strength: float = 0.7
    mode: str = "causal"
    max_missed: int = 8
    appearance: bool = True


@dataclass
class _Pending:
    item: InputItem
    prediction: Optional[ImagePrediction]
    track_ids: Optional[np.ndarray] = None

    @property
    def frame(self) -> int:
        return self.item.frame_index or 0


@dataclass
class _Video:
    index: int
    tracker: BoxTracker
    smoother: TrackSmoother
    pending: Deque[_Pending] = field(default_factory=deque)
    next_frame: int = 0
    last_item: Optional[InputItem] = None


class TemporalStage:
    """Tracks and smooths each video of the stream (see module doc); `push` / `flush` as
    `apply.runner.StreamStage`. Images (no frame index) are one-frame videos.

    `frame_counts` (optional, read when a video ends): input index -> frames the video had,
    counting unreadable ones, to pass through missing frames at its end.
    """

    def __init__(
        self,
        options: Optional[TemporalOptions] = None,
        frame_counts: Optional[Mapping[int, int]] = None,
    ):
        self.options = options or TemporalOptions()
        self.frame_counts = frame_counts if frame_counts is not None else {}
        self._video: Optional[_Video] = None
        TrackSmoother(self.options.window, self.options.strength, self.options.mode)  # validates
        self.max_pending = 0  # largest release buffer seen (tests, benchmarks)

    @property
    def lag(self) -> int:
        """Frames between a frame's arrival and its release."""
        return 0 if self.options.mode == "causal" else self.options.window // 2

    def _start(self, item: InputItem) -> _Video:
        o = self.options
        return _Video(
            item.index,
            BoxTracker(max_missed=o.max_missed, appearance_weight=1.0 if o.appearance else 0.0),
            TrackSmoother(o.window, o.strength, o.mode),
        )

    def push(self, item: InputItem, prediction: ImagePrediction) -> List[Pair]:
        out: List[Pair] = []
        if self._video is None or self._video.index != item.index or not item.is_video_frame:
            out += self._finish()
            self._video = self._start(item)
        video = self._video
        frame = item.frame_index or 0
        self._pass_through_until(video, frame, item)
        track_ids = video.tracker.update(
            frame, prediction.boxes_xyxy.numpy(), self._appearance(item, prediction)
        )
        video.smoother.observe(frame, track_ids, prediction)
        video.pending.append(_Pending(item, prediction, track_ids))
        video.next_frame, video.last_item = frame + 1, item
        self.max_pending = max(self.max_pending, len(video.pending))
        out += self._release(video, frame - self.lag)
        return out

    def flush(self) -> List[Pair]:
        out = self._finish()
        self._video = None
        return out

    def _appearance(self, item: InputItem, prediction: ImagePrediction) -> Optional[np.ndarray]:
        if not self.options.appearance or item.image is None or len(prediction) == 0:
            return None
        coarse = prediction.densepose.coarse_segm if prediction.densepose is not None else None
        return colour_bands(item.image, prediction.boxes_xyxy.numpy(), coarse)

    @staticmethod
    def _pass_through_until(video: _Video, frame: int, like: InputItem) -> None:
        """Queues the missing frames video.next_frame .. frame - 1 as predictions-less items."""
        for missing in range(video.next_frame, frame):
            stub = replace(like, frame_index=missing, image=None, error=None)
            video.pending.append(_Pending(stub, None))

    def _release(self, video: _Video, up_to: float) -> List[Pair]:
        out: List[Pair] = []
        while video.pending and video.pending[0].frame <= up_to:
            entry = video.pending.popleft()
            if entry.prediction is None:
                out.append((entry.item, None))
            else:
                smoothed = video.smoother.smooth(entry.frame, entry.track_ids, entry.prediction)
                out.append((entry.item, smoothed))
        return out

    def _finish(self) -> List[Pair]:
        video = self._video
        if video is None:
            return []
        total = self.frame_counts.get(video.index)
        if total is not None and video.last_item is not None and video.last_item.is_video_frame:
            self._pass_through_until(video, total, video.last_item)
        return self._release(video, float("inf"))


def temporal_seconds_per_frame(
    stream: Sequence[Tuple[InputItem, ImagePrediction]],
    options: Optional[TemporalOptions] = None,
    with_conversion: bool = False,
) -> float:
    """Wall seconds per frame that tracking + smoothing add to `stream` (one video's frames in
    order, predictions as `ImagePrediction.from_instances` gives them): the benchmark hook.

    With `with_conversion`, the chart / CSE results of the smoothed outputs are computed too
    (the per-frame path computes those of the raw outputs, so they are not an added cost)."""
    stage = TemporalStage(options)
    start = time.perf_counter()
    for pair in _drain(stage, stream):
        if with_conversion and pair[1] is not None and pair[1].is_chart:
            pair[1].chart_results()
    return (time.perf_counter() - start) / max(len(stream), 1)


def _drain(stage: TemporalStage, stream: Iterable[Tuple[InputItem, ImagePrediction]]):
    for item, prediction in stream:
        yield from stage.push(item, prediction)
    yield from stage.flush()
