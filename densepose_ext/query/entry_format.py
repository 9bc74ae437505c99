"""Readable text for one dataset entry (`query_db.py print`).

Long per-point lists (`dp_x`, `dp_I`, ... often 100 values per person) and masks are summarised
(count and range) unless `full=True`, which prints every value.
"""

import enum
import pprint
from typing import Any, Dict, List

import numpy as np

__all__ = ["format_entry", "summarize_value"]

_SHORT_LIST = 8


def _is_rle(value: Any) -> bool:
    return isinstance(value, dict) and "counts" in value and "size" in value


def summarize_value(key: str, value: Any) -> str:
    """One short line for a value: lists by length and range, RLEs by size, the rest as is."""
    if isinstance(value, enum.Enum):
        return value.name
    if _is_rle(value):
        h, w = (int(s) for s in value["size"])
        return f"RLE mask {h}x{w}"
    if key == "dp_masks" and isinstance(value, (list, tuple)):
        present = [i + 1 for i, m in enumerate(value) if m]
        return f"{len(value)} coarse-part masks, present: {present}"
    if key == "segmentation" and isinstance(value, (list, tuple)):
        return f"{len(value)} polygon(s)"
    if isinstance(value, (list, tuple)) and len(value) > _SHORT_LIST:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return f"{len(value)} items"
        if arr.ndim == 1 and arr.size:
            if np.all(arr == np.round(arr)) and key in ("dp_I", "dp_vertex"):
                distinct = np.unique(arr).astype(np.int64)
                shown = ", ".join(str(v) for v in distinct[:12])
                more = ", ..." if distinct.size > 12 else ""
                return f"{arr.size} values, {distinct.size} distinct: {shown}{more}"
            return f"{arr.size} values in [{arr.min():g}, {arr.max():g}]"
        return f"{len(value)} items"
    return repr(value)


def _annotation_lines(index: int, ann: Dict[str, Any], full: bool) -> List[str]:
    head = [f"id={ann['id']}"] if "id" in ann else []
    head += [f"{k}={ann[k]!r}" for k in ("category_id", "bbox", "iscrowd") if k in ann]
    lines = [f"  [{index}] " + " ".join(head)]
    for key, value in ann.items():
        if key in ("id", "category_id", "bbox", "iscrowd"):
            continue
        text = (
            pprint.pformat(value, compact=True, width=96) if full else summarize_value(key, value)
        )
        lines.append(f"      {key}: {text}")
    return lines


def format_entry(entry: Dict[str, Any], full: bool = False) -> str:
    """The entry's top-level fields, then one block per annotation."""
    lines = []
    for key, value in entry.items():
        if key == "annotations":
            continue
        text = (
            pprint.pformat(value, compact=True, width=96) if full else summarize_value(key, value)
        )
        lines.append(f"{key}: {text}")
    annotations = entry.get("annotations")
    if annotations is not None:
        lines.append(f"annotations: {len(annotations)}")
        for index, ann in enumerate(annotations):
            lines.extend(_annotation_lines(index, ann, full))
    return "\n".join(lines)
