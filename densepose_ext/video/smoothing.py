"""Per-track temporal smoothing of boxes and DensePose head outputs.

The head outputs live in box-normalised coordinates ([S, S] over the detection box), so a
person's body part stays at (nearly) the same place of that grid while the person moves through
the image: averaging a track's outputs there follows the motion without any image alignment.
Every tensor field of the predictor output is averaged (chart: coarse/fine logits, U, V and
confidences; CSE: embeddings and coarse logits); labels, U/V and vertices are then re-derived
from the averaged output by the usual converters. Boxes are fitted with a weighted local line
over the window (constant-velocity), evaluated at the frame, so a moving box does not lag.

Weights: detection score x `strength` ** |frame distance|. Everything is computed as the frame's
own value plus a weighted mean of differences to it, so identical inputs give back exactly the
input (the smoothing is the identity on a still sequence), and `strength` 0 switches it off.

Windows: causal mode uses the frames t - window + 1 .. t (no lag); offline mode the centred
frames t - window // 2 .. t + window // 2 (a lag of window // 2 frames).
"""

from collections import deque
from dataclasses import dataclass, replace
from typing import Deque, Dict, List, Optional

import numpy as np
import torch

from ..converters.prediction import ImagePrediction

__all__ = ["MODES", "Observation", "TrackSmoother", "weighted_line_at"]

MODES = ("causal", "offline")


@dataclass
class Observation:
    """One detection of a track: frame, XYXY box float64 [4], score, head output fields
    (name -> tensor [1, ...], float32) or None."""

    frame: int
    box: np.ndarray
    score: float
    fields: Optional[Dict[str, torch.Tensor]]


def weighted_line_at(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Value at x = 0 of the weighted least-squares line through (x, y): x [M], y [M, D], w [M].

    The weighted mean when the x values do not determine a line (one distinct x)."""
    sw, sx, sxx = w.sum(), (w * x).sum(), (w * x * x).sum()
    sy, sxy = (w[:, None] * y).sum(axis=0), (w[:, None] * x[:, None] * y).sum(axis=0)
    denom = sw * sxx - sx * sx
    if denom <= 1e-9 * max(sw * sxx, 1e-300):
        return sy / sw
    return (sxx * sy - sx * sxy) / denom


def _dense_fields(prediction: ImagePrediction) -> Dict[str, torch.Tensor]:
    """Head output fields as contiguous float32 tensors [N, ...] (models may give float16 or
    channels-last tensors); empty without DensePose output."""
    if prediction.densepose is None:
        return {}
    return {n: t.float().contiguous() for n, t in prediction.densepose.fields().items()}


class TrackSmoother:
    """Keeps each track's last observations (bounded) and returns smoothed predictions."""

    def __init__(self, window: int = 5, strength: float = 0.7, mode: str = "causal"):
        if window < 1:
            raise ValueError(f"temporal window must be >= 1 frame, got {window}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"temporal strength must be in [0, 1], got {strength}")
        if mode not in MODES:
            raise ValueError(f"temporal mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.window, self.strength, self.mode = window, strength, mode
        self.half = window // 2
        # observations a frame's window can reach: the window (causal) or 2 * half + 1 (offline)
        self.capacity = window if mode == "causal" else 2 * self.half + 1
        self.history: Dict[int, Deque[Observation]] = {}

    @property
    def lag(self) -> int:
        """Frames a prediction waits for later frames (0 causal, window // 2 offline)."""
        return 0 if self.mode == "causal" else self.half

    def observe(self, frame: int, track_ids: np.ndarray, prediction: ImagePrediction) -> None:
        """Records the frame's detections under their track ids."""
        fields = _dense_fields(prediction)
        for k, track_id in enumerate(track_ids.tolist()):
            per_box = None
            if fields:
                per_box = {name: t[k : k + 1] for name, t in fields.items()}
            observation = Observation(
                frame,
                prediction.boxes_xyxy[k].numpy().astype(np.float64),
                float(prediction.scores[k]),
                per_box,
            )
            self.history.setdefault(track_id, deque(maxlen=self.capacity)).append(observation)
        self._forget(frame)

    def _forget(self, frame: int) -> None:
        """Drops tracks whose newest observation no window can reach any more."""
        reach = self.window + self.half
        stale = [t for t, h in self.history.items() if frame - h[-1].frame > reach]
        for track_id in stale:
            del self.history[track_id]

    def _window(self, track_id: int, frame: int) -> List[Observation]:
        history = self.history.get(track_id, ())
        if self.mode == "causal":
            return [o for o in history if 0 <= frame - o.frame < self.window]
        return [o for o in history if abs(o.frame - frame) <= self.half]

    def smooth(
        self, frame: int, track_ids: np.ndarray, prediction: ImagePrediction
    ) -> ImagePrediction:
        """The frame's prediction with boxes and head outputs smoothed over each track's window,
        and `track_ids` set. Detections, scores, classes, masks, keypoints are kept as they are.
        The frame must have been `observe`d (its own values are taken from there)."""
        boxes = prediction.boxes_xyxy.clone()
        per_box: List[Optional[Dict[str, torch.Tensor]]] = []  # None: not observed
        changed = False
        for k, track_id in enumerate(track_ids.tolist()):
            window = self._window(track_id, frame)
            own = next((o for o in window if o.frame == frame), None)
            smoothed = None
            if own is not None and len(window) >= 2 and self.strength > 0.0:
                offsets = np.array([o.frame - frame for o in window], dtype=np.float64)
                weights = np.array([o.score for o in window]) * self.strength ** np.abs(offsets)
                if weights.sum() > 0:
                    deltas = np.stack([o.box - own.box for o in window])
                    box = own.box + weighted_line_at(offsets, deltas, weights)
                    boxes[k] = torch.from_numpy(box).to(boxes.dtype)
                    if all(o.fields is not None for o in window):
                        smoothed = _smooth_fields(own.fields, window, weights)
                        changed = True
            if smoothed is None and own is not None:
                smoothed = own.fields  # unchanged, already float32 and contiguous
            per_box.append(smoothed)
        return replace(
            prediction,
            boxes_xyxy=boxes,
            densepose=_assemble(prediction, per_box) if changed else prediction.densepose,
            _chart_results=None,
            _cse_results=None,
            track_ids=torch.as_tensor(track_ids, dtype=torch.int64),
        )


def _smooth_fields(
    own: Dict[str, torch.Tensor], window: List[Observation], weights: np.ndarray
) -> Dict[str, torch.Tensor]:
    """own + weighted mean of (observation - own) per field; [1, ...] each."""
    w = torch.as_tensor(weights / weights.sum(), dtype=torch.float32)
    out = {}
    for name, value in own.items():
        stacked = torch.cat([o.fields[name] for o in window])  # [M, ...]
        deltas = (stacked - value).reshape(len(window), -1)  # [M, F]
        out[name] = value + torch.mv(deltas.t(), w).view_as(value)  # zero where all deltas are
    return out


def _assemble(prediction: ImagePrediction, per_box: List[Optional[Dict[str, torch.Tensor]]]):
    """The predictor output made of `per_box` fields ([1, ...] each; None: the input's), in the
    input's dtypes."""
    densepose = prediction.densepose
    original = _dense_fields(prediction) if any(p is None for p in per_box) else {}
    values = {}
    for name, tensor in densepose.fields().items():
        rows = [original[name][k : k + 1] if p is None else p[name] for k, p in enumerate(per_box)]
        values[name] = torch.cat(rows).to(tensor.dtype)
    return replace(densepose, **values)
