"""Rendered ground truth -> DensePose-COCO annotations (chart + CSE fields).

Box frame: the GT box [x0, x0 + w) x [y0, y0 + h) spans [0, 256) in `dp_x`, `dp_y`. Points are
sampled at pixel centres: dp_x = (col + 0.5 - x0) / w * 256, so col = floor(x0 + dp_x * w / 256).
`dp_masks[q - 1]` is the RLE of coarse part q on a 256x256 box-frame grid whose cell (r, c)
takes the label of the image pixel under its centre; absent parts are empty lists.
`keypoints`: the 17 COCO keypoints as [x, y, v] * 17 in COCO's convention (pixel index
coordinates: screen x - 0.5; detectron2's loader adds the 0.5 back), (0, 0, 0) outside the image.
"""

from typing import Dict, List, Tuple

import numpy as np
from pycocotools import mask as mask_util

from ...structures.constants import BOX_FRAME_SIZE
from .body import FINE_TO_COARSE
from .keypoints import COCO_PERSON_SKELETON, KEYPOINT_NAMES
from .scene import RenderedScene

__all__ = [
    "encode_rle",
    "box_frame_grid",
    "box_frame_labels",
    "person_annotations",
    "PERSON_CATEGORY",
    "coco_keypoints",
]

PERSON_CATEGORY = {
    "id": 1,
    "name": "person",
    "supercategory": "person",
    "keypoints": list(KEYPOINT_NAMES),
    "skeleton": [list(pair) for pair in COCO_PERSON_SKELETON],
}


def coco_keypoints(keypoints: np.ndarray) -> Dict:
    """One person's rendered keypoints [17, 3] (screen x, y, visibility) -> COCO fields."""
    visible = keypoints[:, 2] > 0
    xy = np.where(visible[:, None], np.round(keypoints[:, :2] - 0.5, 2), 0.0)
    flat = np.concatenate([xy, keypoints[:, 2:3]], axis=1)
    return {
        "keypoints": [float(x) if i % 3 != 2 else int(x) for i, x in enumerate(flat.ravel())],
        "num_keypoints": int(visible.sum()),
    }


def encode_rle(masks: np.ndarray) -> List[Dict]:
    """Binary masks [H, W, K] -> K COCO RLE dicts with `counts` as str."""
    rles = mask_util.encode(np.asfortranarray(masks, dtype=np.uint8))
    for rle in rles:
        rle["counts"] = rle["counts"].decode("ascii")
    return rles


def _label_masks(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One binary mask per value, [H, W, K] uint8 in Fortran order (what pycocotools encodes)."""
    return (values[:, None, None] == labels.T[None]).astype(np.uint8).transpose(2, 1, 0)


def box_frame_grid(box: np.ndarray, shape, size: int = BOX_FRAME_SIZE):
    """Image rows [size] and columns [size] under the cell centres of a size x size grid over the
    box."""
    x0, y0, w, h = box
    rows = np.floor(y0 + (np.arange(size) + 0.5) * h / size).astype(np.int64)
    cols = np.floor(x0 + (np.arange(size) + 0.5) * w / size).astype(np.int64)
    return np.clip(rows, 0, shape[0] - 1), np.clip(cols, 0, shape[1] - 1)


def box_frame_labels(labels: np.ndarray, box: np.ndarray, size: int = BOX_FRAME_SIZE) -> np.ndarray:
    """Samples an image label map [H, W] at the centres of a size x size grid over box (x0, y0,
    w, h)."""
    rows, cols = box_frame_grid(box, labels.shape, size)
    return labels[rows[:, None], cols[None, :]]


def _densepose_fields(
    rendered: RenderedScene,
    person: int,
    box,
    rows,
    cols,
    rng,
    mesh_name: str,
    points_range: Tuple[int, int],
) -> Dict:
    x0, y0, w, h = box
    num_points = min(rows.shape[0], int(rng.integers(points_range[0], points_range[1] + 1)))
    pick = np.sort(rng.choice(rows.shape[0], num_points, replace=False))
    py, px = rows[pick], cols[pick]
    grid_rows, grid_cols = box_frame_grid(box, rendered.part.shape)
    ix = np.ix_(grid_rows, grid_cols)
    box_coarse = np.where(rendered.person[ix] == person, FINE_TO_COARSE[rendered.part[ix]], 0)
    present = np.nonzero(np.bincount(box_coarse.ravel(), minlength=15)[1:])[0] + 1
    dp_masks: List = [[] for _ in range(14)]
    for q, rle in zip(present, encode_rle(_label_masks(box_coarse, present))):
        dp_masks[q - 1] = rle
    return {
        "dp_x": np.round((px + 0.5 - x0) / w * BOX_FRAME_SIZE, 3).tolist(),
        "dp_y": np.round((py + 0.5 - y0) / h * BOX_FRAME_SIZE, 3).tolist(),
        "dp_I": rendered.part[py, px].astype(np.float64).tolist(),
        "dp_U": np.round(rendered.u[py, px].astype(np.float64), 6).tolist(),
        "dp_V": np.round(rendered.v[py, px].astype(np.float64), 6).tolist(),
        "dp_masks": dp_masks,
        "dp_vertex": rendered.vertex[py, px].tolist(),
        "ref_model": mesh_name,
    }


def person_annotations(
    rendered: RenderedScene,
    rng: np.random.Generator,
    mesh_name: str,
    min_area: int = 20,
    min_densepose_area: int = 300,
    skip_densepose_prob: float = 0.15,
    points_per_person: Tuple[int, int] = (80, 120),
) -> List[Dict]:
    """COCO annotations (no `id` / `image_id` yet) for every person with >= `min_area` visible
    pixels.

    People smaller than `min_densepose_area` pixels, and a random `skip_densepose_prob` fraction of
    the others, get no DensePose fields (as in DensePose-COCO, where not every person is annotated).
    Annotated people get a uniform random number of points in `points_per_person` (inclusive range;
    the
    default is DensePose-COCO's density), at most one per visible pixel.
    """
    annotations = []
    num_people = int(rendered.person.max()) + 1
    for k in range(num_people):
        mask = rendered.person == k
        rows, cols = np.nonzero(mask)
        area = int(rows.shape[0])
        if area < min_area:
            continue
        box = np.array(
            [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
        )
        ann = {
            "category_id": PERSON_CATEGORY["id"],
            "iscrowd": 0,
            "bbox": box.astype(np.float64).tolist(),
            "area": float(area),
            "segmentation": encode_rle(_label_masks(mask, np.array([True])))[0],
        }
        if rendered.keypoints is not None:
            ann.update(coco_keypoints(rendered.keypoints[k]))
        if area >= min_densepose_area and rng.uniform() >= skip_densepose_prob:
            ann.update(
                _densepose_fields(rendered, k, box, rows, cols, rng, mesh_name, points_per_person)
            )
        annotations.append(ann)
    return annotations
