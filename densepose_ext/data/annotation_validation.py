"""Validation of DensePose annotations when a dataset is loaded.

Every annotation with DensePose keys is checked: all per-point lists (dp_x, dp_y, dp_I, dp_U, dp_V,
dp_vertex, dp_inpainted) have one length; coordinates are finite and inside the box frame
[0, 256] (1 unit of slack); dp_I is an integer part 1..24; dp_U, dp_V lie in [0, 1];
dp_vertex are integers >= 0 and
ref_model is a string; dp_inpainted (teacher-inpainted points, see docs/teacher.md) holds
0 / 1 flags and comes with chart GT; dp_masks is one RLE or a list of at most 14 (empty entries
allowed) whose runs cover exactly 256 x 256 pixels. Every annotation's `bbox` (DensePose or not)
must be four finite numbers with non-negative width and height.

What happens to a malformed annotation is the policy:
  "skip"   (default) its DensePose keys are removed (the box stays, like a person without
           DensePose GT); an annotation whose box is malformed is removed whole. Each problem is
           logged with the image id and annotation id, and the counts are logged;
  "reject" loading fails with `InvalidDensePoseAnnotationError` listing the problems;
  "off"    nothing is checked (fastest; malformed data then fails later, e.g. when decoded).
The policy comes from the `on_invalid` argument, else the dataset metadata key
`densepose_invalid_annotations`, else the environment variable `DENSEPOSE_INVALID_ANNOTATIONS`.
"""

import logging
import os
from typing import Any, Dict, List, Optional

import numpy as np
from detectron2.structures import BoxMode

from ..structures.constants import (
    BOX_FRAME_SIZE,
    DENSEPOSE_ANNOTATION_KEYS,
    DENSEPOSE_INPAINTED_KEY,
    DENSEPOSE_POINT_KEYS,
    N_COARSE_PARTS,
    N_FINE_PARTS,
)
from ..structures.rle import RLEError, check_rle

__all__ = [
    "INVALID_ANNOTATION_POLICIES",
    "InvalidDensePoseAnnotationError",
    "bbox_problems",
    "densepose_annotation_problems",
    "resolve_invalid_annotation_policy",
    "validate_densepose_dataset",
]

logger = logging.getLogger(__name__)

INVALID_ANNOTATION_POLICIES = ("skip", "reject", "off")
ENV_VARIABLE = "DENSEPOSE_INVALID_ANNOTATIONS"
METADATA_KEY = "densepose_invalid_annotations"

_COORD_SLACK = 1.0
_UV_EPS = 1e-6
_MAX_PROBLEMS_LOGGED = 20


class InvalidDensePoseAnnotationError(ValueError):
    """Raised by the "reject" policy; the message lists the malformed annotations."""


def _as_numbers(value: Any, key: str, problems: List[str]) -> Optional[np.ndarray]:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        problems.append(f"{key} is not a list of numbers")
        return None
    if not np.isfinite(arr).all():
        problems.append(f"{key} contains NaN or infinite values")
        return None
    return arr


def _check_points(ann: Dict[str, Any], problems: List[str]) -> None:
    arrays = {k: _as_numbers(ann[k], k, problems) for k in DENSEPOSE_POINT_KEYS if k in ann}
    lengths = {k: a.size for k, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        problems.append("length mismatch: " + ", ".join(f"{k}={n}" for k, n in lengths.items()))
    for key in ("dp_x", "dp_y"):
        a = arrays.get(key)
        if (
            a is not None
            and a.size
            and (a.min() < -_COORD_SLACK or a.max() > BOX_FRAME_SIZE + _COORD_SLACK)
        ):
            problems.append(f"{key} outside the box frame [0, 256]: [{a.min():g}, {a.max():g}]")
    parts = arrays.get("dp_I")
    if parts is not None and parts.size:
        if not np.all(parts == np.round(parts)):
            problems.append("dp_I has non-integer part indices")
        elif parts.min() < 1 or parts.max() > N_FINE_PARTS:
            problems.append(
                f"dp_I part index out of range 1..24: [{parts.min():g}, {parts.max():g}]"
            )
    for key in ("dp_U", "dp_V"):
        a = arrays.get(key)
        if a is not None and a.size and (a.min() < -_UV_EPS or a.max() > 1 + _UV_EPS):
            problems.append(f"{key} outside [0, 1]: [{a.min():g}, {a.max():g}]")
    vertices = arrays.get("dp_vertex")
    if vertices is not None and vertices.size:
        if not np.all(vertices == np.round(vertices)) or vertices.min() < 0:
            problems.append("dp_vertex must hold non-negative integer vertex indices")
    flags = arrays.get(DENSEPOSE_INPAINTED_KEY)
    if flags is not None and flags.size and not np.all((flags == 0) | (flags == 1)):
        problems.append(f"{DENSEPOSE_INPAINTED_KEY} must hold 0 / 1 flags")


def _check_keys(ann: Dict[str, Any], problems: List[str]) -> None:
    chart = [k for k in ("dp_I", "dp_U", "dp_V") if k in ann]
    if chart and len(chart) < 3:
        problems.append(f"incomplete chart GT: has {chart}, needs dp_I, dp_U, dp_V")
    if ("dp_vertex" in ann) != ("ref_model" in ann):
        problems.append("incomplete CSE GT: dp_vertex and ref_model go together")
    if "ref_model" in ann and not isinstance(ann["ref_model"], str):
        problems.append(f"ref_model must be a mesh name, got {type(ann['ref_model']).__name__}")
    has_points = "dp_x" in ann and "dp_y" in ann
    if (chart or "dp_vertex" in ann) and not has_points:
        problems.append("per-point GT without dp_x / dp_y")
    if DENSEPOSE_INPAINTED_KEY in ann and len(chart) < 3:
        problems.append(f"{DENSEPOSE_INPAINTED_KEY} without chart GT (dp_I, dp_U, dp_V)")
    if has_points and not (len(chart) == 3 or "dp_vertex" in ann):
        problems.append("dp_x / dp_y without dp_I, dp_U, dp_V or dp_vertex")


def _check_masks(masks: Any, problems: List[str]) -> None:
    size = (BOX_FRAME_SIZE, BOX_FRAME_SIZE)
    if isinstance(masks, dict):
        entries = [masks]
    elif isinstance(masks, (list, tuple)):
        if len(masks) > N_COARSE_PARTS:
            problems.append(f"dp_masks has {len(masks)} entries, at most {N_COARSE_PARTS} allowed")
            return
        entries = [m for m in masks if m]
    else:
        problems.append(
            f"dp_masks must be an RLE dict or a list of them, got {type(masks).__name__}"
        )
        return
    for index, rle in enumerate(entries):
        try:
            check_rle(rle, size)
        except RLEError as e:
            problems.append(f"bad RLE in dp_masks (entry {index}): {e}")
            return


def bbox_problems(ann: Dict[str, Any]) -> List[str]:
    """Problems of the annotation's `bbox` (XYWH, or XYXY when `bbox_mode` says so)."""
    if "bbox" not in ann:
        return []
    try:
        box = np.asarray(ann["bbox"], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return ["bbox is not a list of numbers"]
    if box.size != 4:
        return [f"bbox must have 4 numbers, got {box.size}"]
    if not np.isfinite(box).all():
        return ["bbox contains NaN or infinite values"]
    xyxy = ann.get("bbox_mode", BoxMode.XYWH_ABS) == BoxMode.XYXY_ABS
    width, height = (box[2] - box[0], box[3] - box[1]) if xyxy else (box[2], box[3])
    if width < 0 or height < 0:
        return [f"bbox has negative width or height: width={width:g}, height={height:g}"]
    return []


def densepose_annotation_problems(ann: Dict[str, Any]) -> List[str]:
    """Human-readable problems of one annotation's DensePose part (empty list = fine or none)."""
    if not any(k in ann for k in DENSEPOSE_ANNOTATION_KEYS):
        return []
    problems: List[str] = []
    _check_keys(ann, problems)
    _check_points(ann, problems)
    if "dp_masks" in ann:
        _check_masks(ann["dp_masks"], problems)
    return problems


def resolve_invalid_annotation_policy(
    on_invalid: Optional[str] = None, metadata: Any = None
) -> str:
    """Argument, else metadata `densepose_invalid_annotations`, else $DENSEPOSE_INVALID_ANNOTATIONS,
    else "skip"."""
    policy = on_invalid
    if policy is None and metadata is not None:
        policy = getattr(metadata, METADATA_KEY, None)
    if policy is None:
        policy = os.environ.get(ENV_VARIABLE) or "skip"
    policy = str(policy).lower()
    if policy not in INVALID_ANNOTATION_POLICIES:
        raise ValueError(
            f"invalid-annotation policy {policy!r}; use one of {INVALID_ANNOTATION_POLICIES}"
        )
    return policy


def validate_densepose_dataset(
    dataset_dicts: List[Dict[str, Any]],
    dataset_name: str = "",
    on_invalid: Optional[str] = None,
    metadata: Any = None,
) -> List[Dict[str, Any]]:
    """Checks every DensePose annotation of `dataset_dicts` and applies the policy (in place).

    Returns the same list. "skip" strips the DensePose keys of bad annotations; "reject" raises.
    """
    policy = resolve_invalid_annotation_policy(on_invalid, metadata)
    if policy == "off":
        return dataset_dicts
    bad = []  # (image_id, annotation index, annotation id, problems, annotation)
    bad_boxes = []  # (record, annotation) whose box is malformed
    for record in dataset_dicts:
        for index, ann in enumerate(record.get("annotations", [])):
            box = bbox_problems(ann)
            problems = box + densepose_annotation_problems(ann)
            if problems:
                bad.append((record.get("image_id"), index, ann.get("id"), problems, ann))
            if box:
                bad_boxes.append((record, ann))
    if not bad:
        return dataset_dicts
    lines = [
        f"image_id={image_id} annotation #{index} (id={ann_id}): {'; '.join(problems)}"
        for image_id, index, ann_id, problems, _ in bad
    ]
    where = f" in dataset {dataset_name!r}" if dataset_name else ""
    if policy == "reject":
        shown = "\n  ".join(lines[:_MAX_PROBLEMS_LOGGED])
        more = (
            f"\n  ... and {len(lines) - _MAX_PROBLEMS_LOGGED} more"
            if len(lines) > _MAX_PROBLEMS_LOGGED
            else ""
        )
        raise InvalidDensePoseAnnotationError(
            f"{len(bad)} malformed DensePose annotation(s){where}:\n  {shown}{more}\n"
            f"Fix the data, or skip them with {ENV_VARIABLE}=skip (or on_invalid='skip')."
        )
    for line in lines[:_MAX_PROBLEMS_LOGGED]:
        logger.warning(f"Skipping DensePose GT{where}: {line}")
    total = sum(len(r.get("annotations", [])) for r in dataset_dicts)
    for record, ann in bad_boxes:
        record["annotations"] = [a for a in record["annotations"] if a is not ann]
    dropped = {id(ann) for _, ann in bad_boxes}
    stripped = [ann for *_, ann in bad if id(ann) not in dropped]
    for ann in stripped:
        for key in DENSEPOSE_ANNOTATION_KEYS:
            ann.pop(key, None)
    if stripped:
        logger.warning(
            f"Skipped the DensePose GT of {len(stripped)} of {total} annotations{where} as "
            f"malformed (boxes kept; set {ENV_VARIABLE}=reject to fail instead)."
        )
    if bad_boxes:
        logger.warning(
            f"Removed {len(bad_boxes)} of {total} annotations{where} with a malformed bbox "
            f"(set {ENV_VARIABLE}=reject to fail instead)."
        )
    return dataset_dicts
