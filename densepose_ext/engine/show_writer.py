"""`apply_net show` outputs: one image per input image, one video per input video.

The k-th input (1-based, in input order) is written to `<base>.<kkkk><ext>` of the `--output`
template (e.g. outputres.0001.png). A video input gives a video with the input's frame rate,
`<base>.<kkkk>.mp4` (or the template's extension when it is a video extension).
"""

import logging
import os
from typing import Callable, List, Optional

import cv2
import numpy as np

from .inputs import VIDEO_EXTENSIONS, InputItem
from .output_files import atomic_write_image, numbered_path, temporary_path

__all__ = ["ShowWriter"]

logger = logging.getLogger(__name__)

FOURCC = {".avi": "MJPG", ".webm": "VP80"}  # others: mp4v (mp4, mov, mkv, m4v)


class _VideoOutput:
    """A cv2.VideoWriter on a temporary name, renamed to `path` when closed."""

    def __init__(self, path: str, fps: float, size_wh):
        self.path = path
        self.size_wh = tuple(size_wh)
        self.tmp = temporary_path(path)
        fourcc = cv2.VideoWriter_fourcc(*FOURCC.get(os.path.splitext(path)[1].lower(), "mp4v"))
        self.writer = cv2.VideoWriter(self.tmp, fourcc, float(fps), self.size_wh)
        if not self.writer.isOpened():
            os.remove(self.tmp)
            raise OSError(f"cannot open a video writer for {path!r}")
        self.frames = 0
        self.last_frame: Optional[np.ndarray] = None

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size_wh:  # containers need one frame size
            frame = cv2.resize(frame, self.size_wh)
        self.writer.write(frame)
        self.last_frame = frame
        self.frames += 1

    def close(self) -> None:
        self.writer.release()
        os.replace(self.tmp, self.path)


class ShowWriter:
    """Renders each item with `render(image_bgr, prediction)` and writes it (see module doc)."""

    def __init__(self, output_template: str, render: Callable):
        self.template = output_template
        self.render = render
        self.video: Optional[_VideoOutput] = None
        self._video_index: Optional[int] = None
        self.written: List[str] = []
        self._missing_before_first = (None, 0)  # (video index, frames passed through before)

    def _video_path(self, item: InputItem) -> str:
        ext = os.path.splitext(self.template)[1].lower()
        return numbered_path(self.template, item.index, ext if ext in VIDEO_EXTENSIONS else ".mp4")

    def write(self, item: InputItem, prediction) -> None:
        frame = self.render(item.image, prediction)
        if not item.is_video_frame:
            self._close_video()
            path = numbered_path(self.template, item.index)
            atomic_write_image(path, frame)
            self.written.append(path)
            return
        if self._video_index != item.index:
            self._close_video()
            self.video = _VideoOutput(
                self._video_path(item), item.fps, (frame.shape[1], frame.shape[0])
            )
            self._video_index = item.index
            index, missing = self._missing_before_first
            for _ in range(missing if index == item.index else 0):
                self.video.write(frame)
            self._missing_before_first = (None, 0)
        self.video.write(frame)

    def write_passthrough(self, item: InputItem) -> None:
        """A video frame without a prediction (unreadable, or the model failed on it): the
        previous output frame is repeated, so that the video keeps its frame count and timing."""
        if not item.is_video_frame:
            return
        if self._video_index == item.index and self.video.last_frame is not None:
            self.video.write(self.video.last_frame)
        else:  # no frame of this video yet: repeat its first one when it comes
            self._close_video()
            index, missing = self._missing_before_first
            self._missing_before_first = (item.index, missing + 1 if index == item.index else 1)

    def _close_video(self) -> None:
        if self.video is not None:
            self.video.close()
            self.written.append(self.video.path)
            logger.info(f"wrote {self.video.frames} frames to {self.video.path}")
        self.video, self._video_index = None, None

    def close(self) -> List[str]:
        self._close_video()
        return self.written
