"""Track ids for per-frame detections: Hungarian assignment on box IoU after a constant-velocity
prediction, plus an optional appearance distance (see `appearance.py`).

A track that is not matched keeps coasting along its velocity for up to `max_missed` frames, so
that a person missed for a few frames (occlusion, a bad frame) gets the same id back; two people
crossing keep their ids because each track's box is predicted ahead along its own motion before
the boxes are compared. Ids are 1-based ints, unique within one video.
"""

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["BoxTracker", "Track", "box_iou"]

_INFEASIBLE = 1e6


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of XYXY boxes: [A, 4] x [B, 4] -> [A, B] (0 where a union is empty)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def appearance_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference of descriptors [A, F] x [B, F] -> [A, B], over the entries
    that are finite in both (NaN = not seen); 0 where none are."""
    a = np.asarray(a, dtype=np.float64)[:, None, :]
    b = np.asarray(b, dtype=np.float64)[None, :, :]
    valid = np.isfinite(a) & np.isfinite(b)
    diff = np.where(valid, np.abs(np.nan_to_num(a) - np.nan_to_num(b)), 0.0).sum(axis=2)
    count = valid.sum(axis=2)
    return np.divide(diff, count, out=np.zeros_like(diff), where=count > 0)


@dataclass
class Track:
    """One person: last observed box (XYXY float64 [4]) at `last_frame`, per-frame box velocity
    [4], running appearance descriptor (or None)."""

    track_id: int
    box: np.ndarray
    last_frame: int
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))
    appearance: Optional[np.ndarray] = None
    hits: int = 1

    def predicted_box(self, frame: int) -> np.ndarray:
        return self.box + self.velocity * (frame - self.last_frame)


class BoxTracker:
    """Assigns track ids to each frame's detections (`update`), frames in increasing order.

    Cost of pairing a track and a detection: (1 - IoU(predicted box, box)) + `appearance_weight`
    * appearance distance + `missed_penalty` per frame the track was not seen; pairs with IoU
    below `min_iou` are never matched. Unmatched detections start new tracks.
    """

    def __init__(
        self,
        max_missed: int = 8,
        min_iou: float = 0.1,
        appearance_weight: float = 1.0,
        velocity_momentum: float = 0.5,
        appearance_momentum: float = 0.3,
        missed_penalty: float = 0.02,
    ):
        if max_missed < 0:
            raise ValueError(f"max_missed must be >= 0, got {max_missed}")
        self.max_missed = max_missed
        self.min_iou = min_iou
        self.appearance_weight = appearance_weight
        self.velocity_momentum = velocity_momentum
        self.appearance_momentum = appearance_momentum
        self.missed_penalty = missed_penalty
        self.tracks: List[Track] = []
        self._next_id = 1

    def _cost(self, frame: int, boxes: np.ndarray, appearance: Optional[np.ndarray]):
        predicted = np.stack([t.predicted_box(frame) for t in self.tracks])
        iou = box_iou(predicted, boxes)  # [T, N]
        cost = 1.0 - iou
        cost += (
            self.missed_penalty
            * np.array([frame - t.last_frame - 1 for t in self.tracks], dtype=np.float64)[:, None]
        )
        if appearance is not None and self.appearance_weight > 0:
            rows = [r for r, t in enumerate(self.tracks) if t.appearance is not None]
            if rows:
                seen = np.stack([self.tracks[r].appearance for r in rows])
                cost[rows] += self.appearance_weight * appearance_distance(seen, appearance)
        cost[iou < self.min_iou] = _INFEASIBLE
        return cost, iou

    def update(
        self, frame: int, boxes_xyxy: np.ndarray, appearance: Optional[np.ndarray] = None
    ) -> np.ndarray:
        """Track ids int64 [N] of the frame's detections `boxes_xyxy` [N, 4] (pixels);
        `appearance` [N, F] descriptors or None."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        self.tracks = [t for t in self.tracks if frame - t.last_frame <= self.max_missed + 1]
        ids = np.zeros(len(boxes), dtype=np.int64)
        matched = np.zeros(len(boxes), dtype=bool)
        if self.tracks and len(boxes):
            cost, iou = self._cost(frame, boxes, appearance)
            for row, col in zip(*linear_sum_assignment(cost)):
                if iou[row, col] >= self.min_iou:
                    features = None if appearance is None else appearance[col]
                    self._observe(self.tracks[row], frame, boxes[col], features)
                    ids[col], matched[col] = self.tracks[row].track_id, True
        for col in np.flatnonzero(~matched):
            features = None if appearance is None else np.array(appearance[col], dtype=np.float64)
            self.tracks.append(Track(self._next_id, boxes[col].copy(), frame, appearance=features))
            ids[col] = self._next_id
            self._next_id += 1
        return ids

    def _observe(
        self, track: Track, frame: int, box: np.ndarray, features: Optional[np.ndarray]
    ) -> None:
        step = frame - track.last_frame
        if step > 0:
            measured = (box - track.box) / step
            m = self.velocity_momentum if track.hits > 1 else 0.0  # 2nd sighting: first estimate
            track.velocity = m * track.velocity + (1.0 - m) * measured
        track.box, track.last_frame = box.copy(), frame
        track.hits += 1
        if features is not None:
            features = np.asarray(features, dtype=np.float64)
            if track.appearance is None:
                track.appearance = features.copy()
            else:
                m = self.appearance_momentum
                blended = (1.0 - m) * track.appearance + m * features
                # keep what was seen when the new descriptor misses it (NaN) and vice versa
                track.appearance = np.where(
                    np.isfinite(track.appearance),
                    np.where(np.isfinite(features), blended, track.appearance),
                    features,
                )
