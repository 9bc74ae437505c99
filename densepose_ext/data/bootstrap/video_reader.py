"""Listing and decoding video key frames with PyAV (if installed) or OpenCV.

Key-frame identifiers are backend units: presentation timestamps (PTS, stream time base) with
PyAV, as in the original and its KEYFRAME_HELPER files; 0-based frame indices with OpenCV.

OpenCV has no key-frame listing API. The OpenCV backend opens the file in raw-packet mode
(`CAP_PROP_FORMAT = -1`, FFmpeg backend), grabs every packet without decoding and keeps the
indices whose `CAP_PROP_LRF_HAS_KEY_FRAME` flag is set. If that flag is unavailable (non-FFmpeg
backend, old OpenCV), it falls back to one frame per second of video (every round(fps)-th frame,
every 25th if the frame rate is unknown). Frames are decoded by seeking to the frame index.
Decoded frames are returned as uint8 RGB [H, W, 3] (converted to BGR by the dataset).
"""

import csv
import logging
from typing import Dict, List, Optional

import numpy as np

__all__ = ["video_backend", "list_keyframes", "read_keyframes", "read_keyframe_helper_data"]

logger = logging.getLogger(__name__)

FALLBACK_FPS = 25


def video_backend() -> str:
    """ "pyav" when PyAV is importable, else "opencv"."""
    try:
        import av  # noqa: F401
    except ImportError:
        return "opencv"
    return "pyav"


# ------------------------------------------------------------------ PyAV
def _pyav_list_keyframes(path: str) -> List[int]:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"  # decode key frames only
        return [int(frame.pts) for frame in container.decode(stream) if frame.pts is not None]


def _pyav_read_keyframes(path: str, keyframes: List[int]) -> List[np.ndarray]:
    import av

    frames = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        for pts in keyframes:
            container.seek(int(pts), any_frame=False, backward=True, stream=stream)
            frame = next(container.decode(stream), None)
            if frame is None:
                logger.warning(f"{path}: no frame at pts {pts}")
                continue
            frames.append(frame.to_rgb().to_ndarray())
    return frames


# ------------------------------------------------------------------ OpenCV
def _opencv_list_keyframes(path: str) -> List[int]:
    import cv2

    flag = getattr(cv2, "CAP_PROP_LRF_HAS_KEY_FRAME", None)
    if flag is not None:
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
        keyframes, index = [], 0
        flags_supported = capture.isOpened()
        while flags_supported and capture.grab():
            value = capture.get(flag)
            if value < 0:
                flags_supported = False
                break
            if value > 0:
                keyframes.append(index)
            index += 1
        capture.release()
        if flags_supported and index > 0:
            return keyframes
    return _opencv_every_second(path)


def _opencv_every_second(path: str) -> List[int]:
    import cv2

    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise OSError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    step = max(1, int(round(fps))) if fps and fps > 0 else FALLBACK_FPS
    return list(range(0, max(count, 0), step))


def _opencv_read_keyframes(path: str, keyframes: List[int]) -> List[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise OSError(f"cannot open video {path}")
    frames = []
    for index in keyframes:
        capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = capture.read()
        if not ok:
            logger.warning(f"{path}: cannot read frame {index}")
            continue
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


# ------------------------------------------------------------------ public API
def list_keyframes(path: str, backend: Optional[str] = None) -> List[int]:
    """Key-frame ids of the first video stream of `path` (PTS for PyAV, frame indices for OpenCV).

    Raises OSError (or the backend's error) if the file cannot be read.
    """
    backend = backend or video_backend()
    return _pyav_list_keyframes(path) if backend == "pyav" else _opencv_list_keyframes(path)


def read_keyframes(
    path: str, keyframes: List[int], backend: Optional[str] = None
) -> List[np.ndarray]:
    """Decodes the given key frames as uint8 RGB [H, W, 3] arrays (unreadable ones are skipped)."""
    backend = backend or video_backend()
    return (
        _pyav_read_keyframes(path, keyframes)
        if backend == "pyav"
        else _opencv_read_keyframes(path, keyframes)
    )


def read_keyframe_helper_data(path: str) -> Dict[int, List[int]]:
    """KEYFRAME_HELPER CSV with header `video_id,keyframes`,
    keyframes as "[k0,k1,...]" -> {video_id: [k]}.

    `video_id` is the 0-based position of the video in the video list. Unreadable files give {}.
    """
    from detectron2.utils.file_io import PathManager

    data: Dict[int, List[int]] = {}
    try:
        with PathManager.open(path, "r") as f:
            reader = csv.reader(f)
            header = next(reader)
            id_col, keyframes_col = header.index("video_id"), header.index("keyframes")
            for row in reader:
                values = row[keyframes_col].strip().strip("[]")
                data[int(row[id_col])] = [int(v) for v in values.split(",") if v.strip()]
    except Exception as e:  # noqa: BLE001 - a broken helper only disables the shortcut
        logger.warning(f"cannot read keyframe helper {path}: {e}")
    return data
