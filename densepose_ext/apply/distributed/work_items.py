"""Work items of a distributed `dump`: one per image, one per frame range of a video.

A long video is split into ranges of `frames_per_item` frames so that many workers share it; the
last range of a video is open-ended, because container frame counts can be approximate.
Decoding a range reads the frames before it without decoding them (`grab`), which is exact for
every codec, where seeking is not.
"""

import hashlib
import os
from dataclasses import dataclass
from typing import List, Optional

import cv2

from ...engine.inputs import (
    InputError,
    InputItem,
    is_video,
    list_inputs,
    read_image_item,
    read_video_frames,
)

__all__ = ["LIST_EXTENSIONS", "WorkItem", "list_work_inputs", "plan_work_items", "read_work_item"]

LIST_EXTENSIONS = (".txt", ".lst")


@dataclass(frozen=True)
class WorkItem:
    """One unit of work: `index` is the 1-based position of `path` among the inputs (output
    numbering); frames [frame_start, frame_stop) of a video (stop None: to the end), or an
    image (both None)."""

    index: int
    path: str
    frame_start: Optional[int] = None
    frame_stop: Optional[int] = None

    @property
    def key(self) -> str:
        """Stable name of the item's part file (does not depend on the other inputs)."""
        text = f"{os.path.abspath(self.path)}|{self.frame_start}|{self.frame_stop}"
        return hashlib.sha1(text.encode()).hexdigest()[:20]

    @property
    def expected_frames(self) -> int:
        if self.frame_start is None:
            return 1
        if self.frame_stop is None:
            return 1
        return self.frame_stop - self.frame_start

    def describe(self) -> str:
        if self.frame_start is None:
            return self.path
        stop = "end" if self.frame_stop is None else self.frame_stop - 1
        return f"{self.path} (frames {self.frame_start}-{stop})"


def _read_list_file(path: str) -> List[str]:
    """Paths of a text file, one a line; blank lines and `#` comments skipped; relative paths
    are taken relative to the list file's folder."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read input list {path!r}: {e}") from e
    entries = [line for line in lines if line and not line.startswith("#")]
    paths = [p if os.path.isabs(p) else os.path.join(folder, p) for p in entries]
    if not paths:
        raise InputError(f"input list {path!r} names no files")
    return paths


def list_work_inputs(spec: str) -> List[str]:
    """`engine.inputs.list_inputs`, plus a text file (.txt, .lst) with one path per line, which
    keeps its order; listed files that do not exist become bad items of the run."""
    if os.path.isfile(spec) and os.path.splitext(spec)[1].lower() in LIST_EXTENSIONS:
        return _read_list_file(spec)
    return list_inputs(spec)


def _frame_count(path: str) -> int:
    capture = cv2.VideoCapture(path)
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()


def plan_work_items(paths: List[str], frames_per_item: int) -> List[WorkItem]:
    """Work items of `paths` in output order."""
    if frames_per_item < 1:
        raise ValueError(f"frames per item must be >= 1, got {frames_per_item}")
    items: List[WorkItem] = []
    for index, path in enumerate(paths, start=1):
        if not is_video(path):
            items.append(WorkItem(index, path))
            continue
        count = _frame_count(path)
        starts = list(range(0, max(count, 1), frames_per_item))
        for k, start in enumerate(starts):
            stop = starts[k + 1] if k + 1 < len(starts) else None
            items.append(WorkItem(index, path, start, stop))
    return items


def read_work_item(item: WorkItem) -> List[InputItem]:
    """The decoded images / frames of `item`, as the one-process reader gives them (bad ones
    carry `error`)."""
    if item.frame_start is None:
        return [read_image_item(item.index, item.path)]
    return list(read_video_frames(item.index, item.path, item.frame_start, item.frame_stop))
