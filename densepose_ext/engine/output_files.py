"""Output file helpers: atomic writes (temporary name, then `os.replace`) and per-item names."""

import os
import tempfile
from typing import Dict

import cv2
import numpy as np

from .inputs import InputItem

__all__ = [
    "ItemNamer",
    "atomic_write_bytes",
    "atomic_write_image",
    "numbered_path",
    "temporary_path",
]


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_path(path: str) -> str:
    """A fresh name next to `path` keeping its extension (so writers pick the right format).

    The file gets the mode a plain `open()` would give (0666 & ~umask), not mkstemp's 0600, so
    that the renamed output is readable as the user's umask allows.
    """
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    stem, ext = os.path.splitext(name)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_current_umask())
    finally:
        os.close(fd)
    return tmp


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path` and renames it:
    readers never see half a file."""
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_image(path: str, image: np.ndarray) -> None:
    """Encodes by the extension of `path` (OpenCV; array channels stored as OpenCV reads them)."""
    ext = os.path.splitext(path)[1] or ".png"
    ok, encoded = cv2.imencode(ext, image)
    if not ok:
        raise OSError(f"cannot encode image as {ext} for {path!r}")
    atomic_write_bytes(path, encoded.tobytes())


def numbered_path(template: str, k: int, ext: str = "") -> str:
    """ "out/outputres.png", 3 -> "out/outputres.0003.png" (4-digit, 1-based); `ext` overrides."""
    base, template_ext = os.path.splitext(template)
    return f"{base}.{k:04d}{ext or template_ext or '.png'}"


class ItemNamer:
    """Unique file stems for per-item outputs: the image name without extension, "<video>_<frame>"
    (6 digits) for video frames, and "_<n>" appended when two inputs share a name."""

    def __init__(self):
        self._by_source: Dict[int, str] = {}
        self._used: Dict[str, int] = {}

    def _source_stem(self, item: InputItem) -> str:
        if item.index not in self._by_source:
            stem = os.path.splitext(os.path.basename(item.path))[0] or "image"
            count = self._used.get(stem, 0)
            self._used[stem] = count + 1
            self._by_source[item.index] = stem if count == 0 else f"{stem}_{count}"
        return self._by_source[item.index]

    def stem(self, item: InputItem) -> str:
        stem = self._source_stem(item)
        return stem if item.frame_index is None else f"{stem}_{item.frame_index:06d}"
