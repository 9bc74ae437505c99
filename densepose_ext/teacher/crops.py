"""Scale-normalised person crops: what the teacher sees and where its supervision lies.

A crop is the person's GT box (XYWH, image pixels) resampled to `size` x `size`, so it is the
DensePose box frame at `size / 256` of its resolution: crop pixel (r, c) is centred on box-frame
point ((c + 0.5) * 256 / size, (r + 0.5) * 256 / size). The person mask is the union of the
`dp_masks` parts, the region the teacher is asked to fill in.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import cv2
import numpy as np

from ..structures.constants import DENSEPOSE_CHART_KEYS
from ..structures.data_relative import DensePoseDataRelative

__all__ = [
    "PersonCrop",
    "crop_image",
    "crops_of_records",
    "has_teacher_input",
    "person_crop",
    "person_mask_box_frame",
]


@dataclass
class PersonCrop:
    """One person: image float32 [3, S, S] (RGB, per-crop standardised), mask float32 [S, S] (0/1),
    annotated points x, y float32 [P] (box frame, [0, 256)), i int64 [P] (1..24), u, v float32 [P];
    `key` = (record index, annotation index) in the source dataset."""

    image: np.ndarray
    mask: np.ndarray
    x: np.ndarray
    y: np.ndarray
    i: np.ndarray
    u: np.ndarray
    v: np.ndarray
    key: tuple

    @property
    def size(self) -> int:
        return int(self.mask.shape[0])


def has_teacher_input(ann: Dict[str, Any]) -> bool:
    """True iff the annotation has chart points and a part mask (what the teacher needs)."""
    keys = ("dp_x", "dp_y", "dp_masks") + DENSEPOSE_CHART_KEYS
    return all(k in ann for k in keys) and ann.get("iscrowd", 0) == 0


def person_mask_box_frame(ann: Dict[str, Any]) -> np.ndarray:
    """The person's mask on the 256 x 256 box-frame grid (bool), from `dp_masks`."""
    return DensePoseDataRelative.extract_segmentation_mask(ann).numpy() > 0


def crop_image(image_bgr: np.ndarray, bbox_xywh, size: int) -> np.ndarray:
    """The box resampled (bilinear, edge pixels repeated) to float32 RGB [3, size, size],
    standardised per channel over the crop."""
    x0, y0, w, h = (float(c) for c in bbox_xywh)
    sx, sy = max(w, 1e-3) / size, max(h, 1e-3) / size
    # crop pixel (c, r) -> image point (x0 + (c + 0.5) * sx - 0.5, ...) in pixel-index coordinates
    affine = np.array([[sx, 0, x0 + 0.5 * sx - 0.5], [0, sy, y0 + 0.5 * sy - 0.5]], np.float64)
    crop = cv2.warpAffine(
        image_bgr,
        affine,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    crop = crop[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)
    mean = crop.mean(axis=(1, 2), keepdims=True)
    std = crop.std(axis=(1, 2), keepdims=True)
    return ((crop - mean) / np.maximum(std, 8.0)).astype(np.float32)


def _mask_at(mask256: np.ndarray, size: int) -> np.ndarray:
    resized = cv2.resize(mask256.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return (resized >= 0.5).astype(np.float32)


def person_crop(
    image_bgr: np.ndarray, ann: Dict[str, Any], size: int, key: tuple = ()
) -> Optional[PersonCrop]:
    """The crop of one annotation (None if it lacks chart points or `dp_masks`)."""
    if not has_teacher_input(ann):
        return None
    mask256 = person_mask_box_frame(ann)
    return PersonCrop(
        image=crop_image(image_bgr, ann["bbox"], size),
        mask=_mask_at(mask256, size),
        x=np.asarray(ann["dp_x"], np.float32).reshape(-1),
        y=np.asarray(ann["dp_y"], np.float32).reshape(-1),
        i=np.rint(np.asarray(ann["dp_I"], np.float64)).astype(np.int64).reshape(-1),
        u=np.asarray(ann["dp_U"], np.float32).reshape(-1),
        v=np.asarray(ann["dp_V"], np.float32).reshape(-1),
        key=key,
    )


def crops_of_records(
    records: List[Dict[str, Any]], size: int, on_error: Any = None
) -> List[PersonCrop]:
    """Crops of every usable annotation of detectron2-style records (`file_name`,
    `annotations` with XYWH `bbox`). Unreadable images are passed to `on_error(file, message)`
    (default: raise) and skipped."""
    crops = []
    for r_index, record in enumerate(records):
        anns = record.get("annotations", [])
        if not any(has_teacher_input(a) for a in anns):
            continue
        image = cv2.imread(record["file_name"], cv2.IMREAD_COLOR)
        if image is None:
            message = f"cannot read image {record['file_name']!r}"
            if on_error is None:
                raise FileNotFoundError(message)
            on_error(record["file_name"], message)
            continue
        for a_index, ann in enumerate(anns):
            crop = person_crop(image, ann, size, key=(r_index, a_index))
            if crop is not None:
                crops.append(crop)
    return crops
