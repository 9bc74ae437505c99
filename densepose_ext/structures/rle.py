"""Checked decoding of COCO run-length encodings (the `dp_masks` entries of DensePose annotations).

pycocotools decodes whatever run lengths it is given without bounds checks, so a corrupted RLE can
silently produce garbage. `rle_run_lengths` parses the counts (compressed string or list) in NumPy
and `decode_rle` only hands an RLE to pycocotools after the runs were checked to cover h * w pixels.
"""

from typing import Any, Tuple

import numpy as np

__all__ = ["RLEError", "rle_run_lengths", "check_rle", "decode_rle"]

_MAX_CHARS_PER_VALUE = 12  # 60 bits: far beyond any image size, keeps int64 shifts exact


class RLEError(ValueError):
    """A run-length encoding that does not describe a mask of its declared size."""


def _parse_compressed(counts: bytes) -> np.ndarray:
    """Run lengths of a COCO compressed RLE string (LEB128-like, 5 bits per char, delta-coded)."""
    chars = np.frombuffer(counts, dtype=np.uint8).astype(np.int64) - 48
    if chars.size == 0:
        return np.zeros(0, dtype=np.int64)
    if chars.min() < 0 or chars.max() > 63:
        raise RLEError("compressed counts contain characters outside the RLE alphabet")
    more = (chars & 0x20) != 0
    if more[-1]:
        raise RLEError("compressed counts end in the middle of a value")
    ends = ~more
    group = np.concatenate([[0], np.cumsum(ends)[:-1]])  # value index of each char
    starts = np.flatnonzero(np.concatenate([[True], ends[:-1]]))
    pos = np.arange(chars.size) - starts[group]  # position of the char inside its value
    if pos.max() >= _MAX_CHARS_PER_VALUE:
        raise RLEError("compressed counts contain an implausibly long value")
    values = np.zeros(starts.size, dtype=np.int64)
    np.add.at(values, group, (chars & 0x1F) << (5 * pos))
    last = np.flatnonzero(ends)
    negative = (chars[last] & 0x10) != 0
    values[negative] -= np.int64(1) << (5 * (pos[last][negative] + 1))
    runs = values.copy()  # entries from index 3 on are stored relative to the entry two before
    runs[1::2] = np.cumsum(values[1::2])
    runs[2::2] = np.cumsum(values[2::2])
    return runs


def rle_run_lengths(rle: Any) -> Tuple[np.ndarray, Tuple[int, int]]:
    """(run lengths int64 [R], (h, w)) of a COCO RLE dict; raises `RLEError` if malformed."""
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise RLEError("RLE must be a dict with 'size' and 'counts'")
    size = rle["size"]
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise RLEError(f"RLE size must be [h, w], got {size!r}")
    try:
        h, w = int(size[0]), int(size[1])
    except (TypeError, ValueError) as e:
        raise RLEError(f"RLE size must be integers, got {size!r}") from e
    counts = rle["counts"]
    if isinstance(counts, str):
        counts = counts.encode("ascii", errors="replace")
    if isinstance(counts, bytes):
        runs = _parse_compressed(counts)
    elif isinstance(counts, (list, tuple, np.ndarray)):
        runs = np.asarray(counts)
        if runs.size and not np.issubdtype(runs.dtype, np.integer):
            raise RLEError("uncompressed RLE counts must be integers")
        runs = runs.astype(np.int64).reshape(-1)
    else:
        raise RLEError(f"RLE counts must be a string or a list, got {type(counts).__name__}")
    return runs, (h, w)


def check_rle(rle: Any, expected_size: Tuple[int, int] = None) -> None:
    """Raises `RLEError` unless `rle` has non-negative runs summing to h * w (and the given
    size)."""
    runs, (h, w) = rle_run_lengths(rle)
    if h < 0 or w < 0:
        raise RLEError(f"RLE size must be non-negative, got {(h, w)}")
    if expected_size is not None and (h, w) != tuple(expected_size):
        raise RLEError(f"RLE size is {(h, w)}, expected {tuple(expected_size)}")
    if runs.size and runs.min() < 0:
        raise RLEError("RLE has negative run lengths")
    total = int(runs.sum())
    if total != h * w:
        raise RLEError(f"RLE runs cover {total} pixels, size {(h, w)} has {h * w}")


def decode_rle(rle: Any, expected_size: Tuple[int, int] = None) -> np.ndarray:
    """Checks then decodes an RLE into a uint8 [h, w] array of 0 / 1."""
    from pycocotools import mask as mask_utils

    check_rle(rle, expected_size)
    counts = rle["counts"]
    if isinstance(counts, (list, tuple, np.ndarray)):
        h, w = int(rle["size"][0]), int(rle["size"][1])
        rle = mask_utils.frPyObjects({"counts": [int(c) for c in counts], "size": [h, w]}, h, w)
    elif isinstance(counts, str):
        rle = {"counts": counts.encode("ascii"), "size": list(rle["size"])}
    return mask_utils.decode(rle)
