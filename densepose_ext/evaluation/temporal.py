"""Flicker, per-frame accuracy and tracking metrics of DensePose on video with exact ground truth.

Inputs are dense maps in image coordinates: part labels int [H, W] (0 = background, 1..24),
U and V float [H, W]. Motion is the ground truth's backward flow: pixel (r, c) of frame t shows the
surface point that was at (c + 0.5, r + 0.5) + flow[r, c] in frame t - 1 where `flow_valid`.

* Temporal consistency: over GT person pixels of frame t with a valid flow, the fraction whose
  predicted label equals the previous frame's prediction carried along by the true motion (the
  prediction at the pixel the point came from: nearest pixel, no interpolation across labels);
  pixels that are background in both predictions are not compared (a model that finds nobody is
  not "consistent").
* U/V change: at those pixels, where both labels are the same part, |(u, v)_t - carried (u, v)|.
  The true surface point does not change its chart coordinates, so any change is flicker, apart
  from the pixel-grid rounding of the carry, which the ground truth itself shows (measure it by
  passing the ground truth as the prediction).
* Accuracy per frame: part accuracy on GT person pixels; U/V error |(u, v) - GT (u, v)| on the
  GT person pixels whose part is right.
* Tracking: IDF1, identity switches and MOTA from `motmetrics`, boxes matched at IoU >= 0.5.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "DenseFrame",
    "carry_back",
    "label_consistency",
    "uv_changes",
    "frame_accuracy",
    "boxes_from_track_map",
    "tracking_metrics",
    "ClipTemporalMetrics",
]


@dataclass
class DenseFrame:
    """Dense chart output or ground truth of one frame: labels int [H, W], u, v float [H, W]."""

    labels: np.ndarray
    u: np.ndarray
    v: np.ndarray


def carry_back(
    values: Sequence[np.ndarray], flow: np.ndarray, valid: np.ndarray
) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Previous-frame maps read where the valid pixels' points came from (nearest pixel).

    Returns the valid pixels' flat indices [K] (int64) and the carried values, one [K] array per
    input map. Points that came from outside the image count as invalid.
    """
    h, w = valid.shape
    rows, cols = np.nonzero(valid)
    src_r = np.floor(rows + 0.5 + flow[rows, cols, 1]).astype(np.int64)
    src_c = np.floor(cols + 0.5 + flow[rows, cols, 0]).astype(np.int64)
    inside = (src_r >= 0) & (src_r < h) & (src_c >= 0) & (src_c < w)
    rows, cols, src_r, src_c = rows[inside], cols[inside], src_r[inside], src_c[inside]
    return rows * np.int64(w) + cols, [np.asarray(m)[src_r, src_c] for m in values]


def label_consistency(
    prev_labels: np.ndarray,
    labels: np.ndarray,
    flow: np.ndarray,
    valid: np.ndarray,
    person: np.ndarray,
) -> Tuple[int, int]:
    """(agreeing pixels, compared pixels) over GT person pixels `person` [H, W] bool with valid
    motion where the current or the carried label is a part: agreeing = the two are equal (so a
    person lost in one of the two frames disagrees; missed in both, it is not compared)."""
    index, (carried,) = carry_back([prev_labels], flow, valid & person)
    current = labels.reshape(-1)[index]
    compared = (current > 0) | (carried > 0)
    return int(np.count_nonzero((current == carried) & compared)), int(compared.sum())


def uv_changes(
    prev: DenseFrame, cur: DenseFrame, flow: np.ndarray, valid: np.ndarray, person: np.ndarray
) -> np.ndarray:
    """Euclidean (u, v) change [K] at GT person pixels whose label and carried label are the
    same part (not background)."""
    index, (label0, u0, v0) = carry_back([prev.labels, prev.u, prev.v], flow, valid & person)
    label1 = cur.labels.reshape(-1)[index]
    same = (label1 == label0) & (label1 > 0)
    du = cur.u.reshape(-1)[index][same].astype(np.float64) - u0[same]
    dv = cur.v.reshape(-1)[index][same].astype(np.float64) - v0[same]
    return np.hypot(du, dv)


def frame_accuracy(pred: DenseFrame, gt: DenseFrame) -> Tuple[int, int, np.ndarray]:
    """(pixels with the right part, GT person pixels, U/V errors [K] at the right-part pixels)."""
    person = gt.labels > 0
    right = person & (pred.labels == gt.labels)
    du = pred.u[right].astype(np.float64) - gt.u[right]
    dv = pred.v[right].astype(np.float64) - gt.v[right]
    return int(right.sum()), int(person.sum()), np.hypot(du, dv)


def boxes_from_track_map(track: np.ndarray, min_area: int = 20) -> Tuple[List[int], np.ndarray]:
    """Track ids and tight XYXY boxes [N, 4] (pixel edges) of a track-id map (0 = background);
    ids with fewer than `min_area` pixels are left out (as the annotations leave them out)."""
    ids, boxes = [], []
    for tid in np.unique(track[track > 0]):
        rows, cols = np.nonzero(track == tid)
        if rows.shape[0] >= min_area:
            ids.append(int(tid))
            boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
    return ids, np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def tracking_metrics(
    gt: Sequence[Tuple[Sequence[int], np.ndarray]],
    pred: Sequence[Tuple[Sequence[int], np.ndarray]],
    min_iou: float = 0.5,
) -> Dict[str, float]:
    """IDF1, identity switches and MOTA (motmetrics) of per-frame (ids, XYXY boxes [N, 4])."""
    import motmetrics as mm

    if len(gt) != len(pred):
        raise ValueError(f"{len(gt)} ground-truth frames but {len(pred)} predicted frames")
    acc = mm.MOTAccumulator(auto_id=True)
    for (gt_ids, gt_boxes), (ids, boxes) in zip(gt, pred):
        distances = mm.distances.iou_matrix(_xywh(gt_boxes), _xywh(boxes), max_iou=1.0 - min_iou)
        acc.update(list(gt_ids), list(ids), distances)
    summary = mm.metrics.create().compute(acc, metrics=["idf1", "num_switches", "mota"])
    row = summary.iloc[0]
    return {
        "idf1": float(row["idf1"]),
        "id_switches": int(row["num_switches"]),
        "mota": float(row["mota"]),
    }


def _xywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


@dataclass
class ClipTemporalMetrics:
    """Accumulates one clip frame by frame (`add_frame` in order) and summarises it.

    Ground truth per frame: a `DenseFrame`, the track-id map and the backward flow; prediction:
    a `DenseFrame` and optionally per-detection track ids with XYXY boxes.
    """

    _agree: int = 0
    _compared: int = 0
    _right: int = 0
    _person: int = 0
    _uv_change: List[np.ndarray] = field(default_factory=list)
    _uv_error: List[np.ndarray] = field(default_factory=list)
    _gt_tracks: List[Tuple[List[int], np.ndarray]] = field(default_factory=list)
    _pred_tracks: List[Tuple[List[int], np.ndarray]] = field(default_factory=list)
    _has_tracks: bool = True
    _prev: Optional[DenseFrame] = None

    def add_frame(
        self,
        pred: DenseFrame,
        gt: DenseFrame,
        gt_track: np.ndarray,
        flow: np.ndarray,
        flow_valid: np.ndarray,
        pred_track_ids: Optional[Sequence[int]] = None,
        pred_boxes_xyxy: Optional[np.ndarray] = None,
    ) -> None:
        person = gt_track > 0
        if self._prev is not None:
            agree, compared = label_consistency(
                self._prev.labels, pred.labels, flow, flow_valid, person
            )
            self._agree += agree
            self._compared += compared
            self._uv_change.append(uv_changes(self._prev, pred, flow, flow_valid, person))
        right, total, errors = frame_accuracy(pred, gt)
        self._right += right
        self._person += total
        self._uv_error.append(errors)
        self._gt_tracks.append(boxes_from_track_map(gt_track))
        if pred_track_ids is None or pred_boxes_xyxy is None:
            self._has_tracks = False
        else:
            boxes = np.asarray(pred_boxes_xyxy, dtype=np.float64).reshape(-1, 4)
            self._pred_tracks.append(([int(i) for i in pred_track_ids], boxes))
        self._prev = pred

    def summary(self) -> Dict[str, float]:
        """consistency, uv_change_median, uv_change_p90, part_accuracy, uv_error (mean), and
        idf1, id_switches, mota when every frame had track ids (NaN where undefined)."""
        change = np.concatenate(self._uv_change) if self._uv_change else np.zeros(0)
        error = np.concatenate(self._uv_error) if self._uv_error else np.zeros(0)
        nan = float("nan")
        out = {
            "consistency": self._agree / self._compared if self._compared else nan,
            "uv_change_median": float(np.median(change)) if change.size else nan,
            "uv_change_p90": float(np.percentile(change, 90)) if change.size else nan,
            "part_accuracy": self._right / self._person if self._person else nan,
            "uv_error": float(error.mean()) if error.size else nan,
        }
        if self._has_tracks and self._gt_tracks:
            out.update(tracking_metrics(self._gt_tracks, self._pred_tracks))
        return out
