"""Detected people as the texture tools see them: a chart (part, U, V) per pixel of a box.

Two sources give the same `PersonChart`s: an `ImagePrediction` (a model run, or an
`apply_net dump` pickle record) and the `_IUV.png` / `_INDS.png` pair of `apply_net dump
--format iuv_png` (U, V quantised to 1/255, no scores).
"""

import os
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np

from ..structures.constants import N_FINE_PARTS
from ..utils.files import ExternalFileError

__all__ = [
    "NoPersonError",
    "PersonChart",
    "inds_path_for",
    "people_from_iuv",
    "people_from_maps",
    "people_from_prediction",
    "read_iuv_png",
    "select_people",
]

N_PARTS = N_FINE_PARTS
# U/V standard deviation (chart units) at which a pixel's confidence weight halves: about two
# texels of a 200-texel tile.
SIGMA_UV_HALF_WEIGHT = 0.01


class NoPersonError(ValueError):
    """An image has no (or not the requested) detected person."""


@dataclass
class PersonChart:
    """One person's chart in its integer box (x, y, w, h): labels int64 [h, w] (0 = background,
    1..24 parts), u, v float32 [h, w] (not clamped); `score` None when the source has none;
    `confidence` float32 [h, w] in (0, 1] or None; `index` 1-based position in the image's
    detections (the value of the person's pixels in an INDS map)."""

    box_xywh: Tuple[int, int, int, int]
    labels: np.ndarray
    u: np.ndarray
    v: np.ndarray
    score: Optional[float] = None
    confidence: Optional[np.ndarray] = None
    index: int = 1

    @property
    def foreground(self) -> np.ndarray:
        """bool [h, w]: pixels on one of the 24 parts."""
        return (self.labels > 0) & (self.labels <= N_PARTS)


def _chart_confidence(result) -> Optional[np.ndarray]:
    """Per-pixel weight from the model's confidences: the part probability (fine_segm_confidence)
    times 1 / (1 + (sigma_2 / SIGMA_UV_HALF_WEIGHT)^2); None when the model estimates neither."""
    weight = None
    fine = getattr(result, "fine_segm_confidence", None)
    if fine is not None:
        weight = fine.detach().cpu().numpy().astype(np.float32)
    sigma = getattr(result, "sigma_2", None)
    if sigma is not None:
        s = sigma.detach().cpu().numpy().astype(np.float32) / SIGMA_UV_HALF_WEIGHT
        term = 1.0 / (1.0 + s * s)
        weight = term if weight is None else weight * term
    return None if weight is None else np.clip(weight, 1e-6, 1.0)


def people_from_prediction(prediction) -> List[PersonChart]:
    """People of an `ImagePrediction` with chart results (model run or dump pickle record)."""
    if prediction.has_densepose and not prediction.is_chart:
        raise ValueError("texture tools need a chart (IUV) model; this prediction is CSE")
    results = prediction.chart_results() if prediction.has_densepose else []
    boxes = prediction.int_boxes_xywh
    scores = prediction.scores.tolist()
    people = []
    for k, result in enumerate(results):
        uv = result.uv.detach().cpu().numpy().astype(np.float32)
        people.append(
            PersonChart(
                box_xywh=tuple(int(c) for c in boxes[k]),
                labels=result.labels.detach().cpu().numpy().astype(np.int64),
                u=uv[0],
                v=uv[1],
                score=float(scores[k]),
                confidence=_chart_confidence(result),
                index=k + 1,
            )
        )
    return people


def people_from_maps(
    instance: np.ndarray, part: np.ndarray, u: np.ndarray, v: np.ndarray
) -> List[PersonChart]:
    """People of whole-image maps [H, W]: `instance` (0 = nobody, k = k-th detection), `part`
    (0..24), `u`, `v` (e.g. an IUV image, or a renderer's ground truth); each person's box is the
    bounding box of its pixels."""
    people = []
    for k in np.unique(instance):
        if k <= 0:
            continue
        mask = (instance == k) & (part > 0) & (part <= N_PARTS)
        if not mask.any():
            continue
        rows, cols = np.nonzero(mask)
        y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        box = (slice(y0, y1), slice(x0, x1))
        people.append(
            PersonChart(
                box_xywh=(int(x0), int(y0), int(x1 - x0), int(y1 - y0)),
                labels=np.where(mask[box], part[box], 0).astype(np.int64),
                u=u[box].astype(np.float32),
                v=v[box].astype(np.float32),
                index=int(k),
            )
        )
    return people


def people_from_iuv(iuv: np.ndarray, inds: np.ndarray) -> List[PersonChart]:
    """People of an IUV image (uint8 [H, W, 3]: I, U·255, V·255) and its instance map."""
    channels = iuv.astype(np.float32)
    return people_from_maps(
        inds, iuv[:, :, 0], channels[:, :, 1] / 255.0, channels[:, :, 2] / 255.0
    )


def inds_path_for(iuv_path: str) -> str:
    """`photo_IUV.png` -> `photo_INDS.png` (the names `apply_net dump --format iuv_png` writes)."""
    directory, name = os.path.split(iuv_path)
    stem, ext = os.path.splitext(name)
    if not stem.endswith("_IUV"):
        raise ExternalFileError(f"IUV image {iuv_path!r}: expected a name ending in _IUV.png")
    return os.path.join(directory, stem[: -len("_IUV")] + "_INDS" + ext)


def read_iuv_png(iuv_path: str, inds_path: Optional[str] = None) -> List[PersonChart]:
    """People of an `apply_net dump` IUV PNG and its INDS PNG (default: the name beside it)."""
    inds_path = inds_path or inds_path_for(iuv_path)
    if not os.path.isfile(iuv_path):
        raise ExternalFileError(f"IUV image {iuv_path!r} not found")
    if not os.path.isfile(inds_path):
        raise ExternalFileError(
            f"IUV image {iuv_path!r} has no instance map: {inds_path!r} not found "
            "(apply_net dump --format iuv_png writes both)"
        )
    iuv = cv2.imread(iuv_path, cv2.IMREAD_UNCHANGED)
    inds = cv2.imread(inds_path, cv2.IMREAD_UNCHANGED)
    if iuv is None or iuv.dtype != np.uint8 or iuv.ndim != 3 or iuv.shape[2] != 3:
        raise ExternalFileError(f"IUV image {iuv_path!r}: expected an 8-bit 3-channel PNG")
    if inds is None or inds.dtype != np.uint8 or inds.ndim != 2:
        raise ExternalFileError(f"instance map {inds_path!r}: expected an 8-bit 1-channel PNG")
    if inds.shape != iuv.shape[:2]:
        raise ExternalFileError(
            f"instance map {inds_path!r} is {inds.shape[0]}x{inds.shape[1]}, its IUV image "
            f"{iuv_path!r} {iuv.shape[0]}x{iuv.shape[1]}"
        )
    return people_from_iuv(iuv, inds)


def select_people(
    people: List[PersonChart], instance: Union[None, int, str] = None, source: str = "image"
) -> List[PersonChart]:
    """None: the highest-scoring person (without scores: the first detection); K: the K-th
    detection (1-based); "all": everyone. `NoPersonError` names `source` when nobody matches."""
    if not people:
        raise NoPersonError(f"no person found in {source}")
    if instance == "all":
        return list(people)
    if instance is None:
        scored = [p for p in people if p.score is not None]
        if scored:
            return [max(scored, key=lambda p: p.score)]
        return [min(people, key=lambda p: p.index)]
    for person in people:
        if person.index == int(instance):
            return [person]
    raise NoPersonError(
        f"no instance {instance} in {source} (detections: {sorted(p.index for p in people)})"
    )
