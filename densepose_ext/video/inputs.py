"""Video view of `apply_net` inputs: a folder of frames as one video, `--square-crop`, and the
frame count of every video (for the stage to pass missing frames through).

With `frames_as_video`, each run of two or more consecutive image files among the inputs (a
folder of frames, sorted by name) becomes one video: items keep their own file as `path`, take
the run's first input index, frame indices 0, 1, ... and `DEFAULT_FPS`. A frame that cannot be
read, or whose size differs from the video's first frame, is reported (file and frame named) and
skipped; the frame still counts, so outputs keep the video's length. Video files are read as before.
"""

from typing import Dict, Iterable, Iterator, List, Optional

import cv2
import numpy as np

from ..engine.inputs import DEFAULT_FPS, InputItem, is_video, read_inputs

__all__ = ["VideoInputs", "square_crop"]


def square_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The centred square of side min(H, W), resized to `size` x `size` (area filter when
    shrinking, bilinear when enlarging)."""
    height, width = image.shape[:2]
    side = min(height, width)
    y0, x0 = (height - side) // 2, (width - side) // 2
    crop = image[y0 : y0 + side, x0 : x0 + side]
    if side == size:
        return np.ascontiguousarray(crop)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


class VideoInputs:
    """Iterable of `InputItem`s (see module doc); `frame_counts[index]` is set once a video's
    last frame has been read (index -> number of frames, unreadable ones included)."""

    def __init__(
        self, paths: List[str], frames_as_video: bool = True, crop_size: Optional[int] = None
    ):
        if crop_size is not None and crop_size < 1:
            raise ValueError(f"--square-crop must be a positive size in pixels, got {crop_size}")
        self.paths = paths
        self.frames_as_video = frames_as_video
        self.crop_size = crop_size
        self.frame_counts: Dict[int, int] = {}

    def __iter__(self) -> Iterator[InputItem]:
        items: Iterable[InputItem] = read_inputs(self.paths)
        if self.frames_as_video:
            items = self._frames_as_videos(items)
        for item in self._counted(items):
            if self.crop_size is not None and item.image is not None:
                item.image = square_crop(item.image, self.crop_size)
            yield item

    def _counted(self, items: Iterable[InputItem]) -> Iterator[InputItem]:
        current, count = None, 0
        for item in items:
            if item.index != current:
                if current is not None:
                    self.frame_counts[current] = count
                current, count = item.index, 0
            if item.frame_index is not None:
                count = max(count, item.frame_index + 1)
            yield item
        if current is not None:
            self.frame_counts[current] = count

    def _run_starts(self) -> Dict[int, int]:
        """Input index (1-based) -> first index of its run of >= 2 consecutive images."""
        starts: Dict[int, int] = {}
        run: List[int] = []
        for index, path in enumerate(self.paths + [".video.mp4"], start=1):  # sentinel ends a run
            if not is_video(path):
                run.append(index)
                continue
            if len(run) >= 2:
                starts.update({i: run[0] for i in run})
            run = []
        return starts

    def _frames_as_videos(self, items: Iterable[InputItem]) -> Iterator[InputItem]:
        starts = self._run_starts()
        first_index, size = None, None
        for item in items:
            if item.index not in starts:
                yield item
                continue
            if starts[item.index] != first_index:
                first_index, size = starts[item.index], None
            frame = item.index - first_index
            as_frame = InputItem(
                first_index, item.path, frame, item.image, item.error, fps=DEFAULT_FPS
            )
            where = f"frame {frame} of the frame sequence"
            if item.error is not None:
                as_frame.error = f"{item.error} ({where}): skipped"
            elif size is None:
                size = item.image.shape[:2]
            elif item.image.shape[:2] != size and self.crop_size is None:
                (h, w), (h0, w0) = item.image.shape[:2], size
                as_frame.image = None
                as_frame.error = (
                    f"frame {item.path!r} ({where}) is {w}x{h} pixels, the video's frames are "
                    f"{w0}x{h0}: skipped (use --square-crop SIZE to bring all frames to one size)"
                )
            yield as_frame
