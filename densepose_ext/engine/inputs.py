"""Inputs of `apply_net`: an image file, a directory, a glob or a video, read as BGR frames.

Bad items do not stop a run: each becomes an `InputItem` with `error` set, reported and skipped.
"""

import glob
import logging
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional

import cv2
import numpy as np
from detectron2.data.detection_utils import read_image

__all__ = [
    "VIDEO_EXTENSIONS",
    "InputError",
    "InputItem",
    "is_video",
    "list_inputs",
    "read_image_item",
    "read_video_frames",
    "read_inputs",
]

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")
DEFAULT_FPS = 25.0


class InputError(ValueError):
    """The input argument names nothing processable (missing path, empty directory, no glob
    match)."""


@dataclass
class InputItem:
    """One image or video frame.

    index: 1-based position of the source file among the inputs (output numbering); path: the
    source file; frame_index: 0-based frame of a video (None for images); image: BGR uint8
    [H, W, 3] or None when `error` says why it could not be read; fps: video frame rate.
    """

    index: int
    path: str
    frame_index: Optional[int] = None
    image: Optional[np.ndarray] = None
    error: Optional[str] = None
    fps: Optional[float] = None

    @property
    def is_video_frame(self) -> bool:
        return self.frame_index is not None

    @property
    def name(self) -> str:
        """How messages name the item: its path, with "(frame k)" for a video frame."""
        return self.path if self.frame_index is None else f"{self.path} (frame {self.frame_index})"


def is_video(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def list_inputs(spec: str) -> List[str]:
    """Files named by `spec`, in sorted order.

    An existing directory: its regular, non-hidden files (not recursive); an existing file: itself;
    anything else: a glob pattern (regular files among the matches). Raises `InputError`.
    """
    if os.path.isdir(spec):
        names = sorted(n for n in os.listdir(spec) if not n.startswith("."))
        files = [os.path.join(spec, n) for n in names if os.path.isfile(os.path.join(spec, n))]
        if not files:
            raise InputError(f"input directory {spec!r} contains no files")
        return files
    if os.path.isfile(spec):
        return [spec]
    if not glob.has_magic(spec):
        raise InputError(f"input not found: {spec!r} (not a file, directory or glob pattern)")
    files = sorted(p for p in glob.glob(spec) if os.path.isfile(p))
    if not files:
        raise InputError(f"input glob {spec!r} matches no files")
    return files


def read_image_item(index: int, path: str) -> InputItem:
    try:
        image = read_image(path, format="BGR")  # EXIF orientation applied, as detectron2 does
    except Exception as e:  # unreadable, truncated or not an image
        first_line = (str(e).splitlines() or [type(e).__name__])[0]
        return InputItem(index, path, error=f"cannot read image {path!r}: {first_line}")
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        return InputItem(index, path, error=f"cannot read image {path!r}: shape {image.shape}")
    return InputItem(index, path, image=np.ascontiguousarray(image))


def read_video_frames(
    index: int, path: str, start: int = 0, stop: Optional[int] = None
) -> Iterator[InputItem]:
    """Frames [start, stop) of the video `path` (all by default), as items of input `index`; an
    unopenable video, or one with no readable frame, is one item with `error` (in the range that
    starts at 0 only, so a video split into ranges reports it once). Frames before `start` are
    skipped with `grab` (no decoding)."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        if start == 0:
            yield InputItem(index, path, error=f"cannot open video {path!r}")
        return
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and fps > 0 and np.isfinite(fps) else DEFAULT_FPS
    frame_index = 0
    try:
        while frame_index < start and capture.grab():
            frame_index += 1
        while stop is None or frame_index < stop:
            ok, frame = capture.read()
            if not ok:
                break
            yield InputItem(index, path, frame_index=frame_index, image=frame, fps=fps)
            frame_index += 1
    finally:
        capture.release()
    if frame_index == 0 and start == 0:
        yield InputItem(index, path, error=f"cannot read any frame of video {path!r}")


def count_frames(paths: List[str]) -> Optional[int]:
    """Expected number of items (video frame counts from the container; may be approximate)."""
    total = 0
    for path in paths:
        if is_video(path):
            capture = cv2.VideoCapture(path)
            total += max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 1) if capture.isOpened() else 1
            capture.release()
        else:
            total += 1
    return total


def read_inputs(paths: List[str]) -> Iterator[InputItem]:
    """Images and video frames of `paths` in order; videos are streamed frame by frame."""
    for index, path in enumerate(paths, start=1):
        if is_video(path):
            yield from read_video_frames(index, path)
        else:
            yield read_image_item(index, path)
