"""`apply_net.py dump` pickles of video frames -> dense per-frame maps, boxes and track ids.

Records are read through `structures.dump_record.DumpRecord` (file name, boxes, scores, per-box
chart results, `frame_index` for frames of a video); with `--temporal` they also carry
`track_ids` (one int per box). Records without a frame index are matched to frames by file name.
"""

import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..converters.iuv_image import make_iuv_image
from ..structures.chart_result import DensePoseChartResult, DensePoseChartResultQuantized
from ..structures.dump_record import DumpRecord, is_dump_record
from .temporal import DenseFrame

__all__ = [
    "read_dump_records",
    "frame_records",
    "dense_frame",
    "record_boxes",
    "record_track_ids",
    "clip_predictions",
]


def read_dump_records(path: str) -> List[dict]:
    """The records of a dump pickle; a ValueError naming the file if it is not one."""
    try:
        records = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # missing, truncated or not a torch/pickle file
        raise ValueError(f"{path}: cannot read the dump ({type(e).__name__}: {e})") from e
    if not isinstance(records, list) or not all(is_dump_record(r) for r in records):
        raise ValueError(f"{path}: not an apply_net.py dump (a list of per-image records)")
    return records


def frame_records(records: List[dict], frame_names: List[str]) -> List[Optional[dict]]:
    """One record (or None: frame missing from the dump) per frame, in frame order: by
    `frame_index` when the records have it, else by file name (without directory)."""
    by_index: Dict[int, dict] = {}
    positions = {os.path.basename(n): i for i, n in enumerate(frame_names)}
    for record in records:
        parsed = DumpRecord.from_dict(record)
        if parsed.frame_index is not None:
            by_index[parsed.frame_index] = record
        else:
            position = positions.get(os.path.basename(parsed.file_name))
            if position is not None:
                by_index[position] = record
    return [by_index.get(i) for i in range(len(frame_names))]


def _chart(result) -> DensePoseChartResult:
    if isinstance(result, DensePoseChartResultQuantized):
        q = result.labels_uv_uint8
        return DensePoseChartResult(labels=q[0].long(), uv=q[1:].float() / 255.0)
    if isinstance(result, DensePoseChartResult):
        return result
    raise ValueError(
        f"per-box {type(result).__name__} results have no part labels (chart models only)"
    )


def record_boxes(record: dict) -> np.ndarray:
    """XYXY boxes [N, 4] float64."""
    return DumpRecord.from_dict(record).boxes_xyxy.double().numpy()


def record_track_ids(record: dict) -> Optional[List[int]]:
    """The record's track ids (None without `--temporal`)."""
    ids = DumpRecord.from_dict(record).track_ids
    return None if ids is None else [int(i) for i in ids.tolist()]


def dense_frame(record: Optional[dict], height: int, width: int) -> DenseFrame:
    """Composes the record's per-box chart results into image maps (higher score on top; U/V
    quantised to 1/255 as in the IUV image). A missing record is an empty prediction."""
    parsed = None if record is None else DumpRecord.from_dict(record)
    if parsed is None or len(parsed) == 0 or parsed.densepose is None:
        zeros = np.zeros((height, width), dtype=np.float32)
        return DenseFrame(np.zeros((height, width), dtype=np.int64), zeros, zeros.copy())
    if not isinstance(parsed.densepose, (list, tuple)):
        raise ValueError(f"{parsed.file_name}: no per-box chart results (chart models only)")
    results = [_chart(r) for r in parsed.densepose]
    iuv, _ = make_iuv_image(results, parsed.boxes_xyxy, parsed.scores, (height, width))
    iuv = iuv.numpy()
    return DenseFrame(
        iuv[..., 0].astype(np.int64),
        iuv[..., 1].astype(np.float32) / 255.0,
        iuv[..., 2].astype(np.float32) / 255.0,
    )


def clip_predictions(
    path: str, frame_names: List[str], height: int, width: int
) -> List[Tuple[DenseFrame, Optional[List[int]], np.ndarray]]:
    """Per frame of a clip: dense maps, track ids (or None) and XYXY boxes from a dump."""
    out = []
    for record in frame_records(read_dump_records(path), frame_names):
        boxes = np.zeros((0, 4)) if record is None else record_boxes(record)
        ids = [] if record is None else record_track_ids(record)
        out.append((dense_frame(record, height, width), ids, boxes))
    return out
