"""Inpainting: a DensePose-COCO file whose people get teacher points inside their masks.

Every annotation with chart points and `dp_masks` keeps its points exactly (the JSON values are
copied) and gets new points appended: their `dp_x`, `dp_y` are box-frame cell centres inside the
person mask (`dp_masks`), `dp_I`, `dp_U`, `dp_V` the teacher's prediction there, and the
per-point list `dp_inpainted` is 0 for the original points and 1 for the new ones. The CSE fields
(`dp_vertex`, `ref_model`) of inpainted annotations are dropped (the teacher predicts charts).
"""

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch

from ..modeling.losses.utils import extract_at_points
from ..structures.constants import BOX_FRAME_SIZE, DENSEPOSE_INPAINTED_KEY
from .crops import PersonCrop, has_teacher_input, person_crop, person_mask_box_frame
from .inputs import teacher_input
from .loss import crop_point_samples
from .model import TeacherNet

__all__ = [
    "InpaintStats",
    "inpaint_annotation",
    "inpaint_coco_json",
    "new_point_locations",
    "predict_points",
]

logger = logging.getLogger(__name__)


@dataclass
class InpaintStats:
    """What an inpainting run did (`errors`: one line per skipped image)."""

    images: int = 0
    people: int = 0
    original_points: int = 0
    new_points: int = 0
    errors: List[str] = field(default_factory=list)


def new_point_locations(
    mask256: np.ndarray,
    points_per_person: Optional[int] = None,
    grid_step: Optional[float] = None,
    rng: Optional[np.random.Generator] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Box-frame x, y float64 [Q] of new points, all at cell centres inside `mask256` [256, 256].

    `grid_step` g: the centres ((k + 0.5) g) of a regular grid that fall in the mask;
    `points_per_person` N: N distinct mask cells drawn at random (all of them if fewer).
    """
    if (points_per_person is None) == (grid_step is None):
        raise ValueError("give exactly one of points_per_person and grid_step")
    if grid_step is not None:
        if grid_step <= 0:
            raise ValueError(f"grid_step must be > 0, got {grid_step}")
        centres = (np.arange(int(np.ceil(BOX_FRAME_SIZE / grid_step))) + 0.5) * grid_step
        centres = centres[centres < BOX_FRAME_SIZE]
        gx, gy = np.meshgrid(centres, centres)
        gx, gy = gx.ravel(), gy.ravel()
        inside = mask256[gy.astype(np.int64), gx.astype(np.int64)]
        return gx[inside], gy[inside]
    rows, cols = np.nonzero(mask256)
    rng = rng if rng is not None else np.random.default_rng(0)
    count = min(int(points_per_person), rows.size)
    pick = np.sort(rng.choice(rows.size, count, replace=False))
    return cols[pick] + 0.5, rows[pick] + 0.5


@torch.no_grad()
def predict_points(
    model: TeacherNet, crops: List[PersonCrop], xs: List[np.ndarray], ys: List[np.ndarray]
) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Teacher (i, u, v) at box-frame points xs[k], ys[k] of crops[k]: part = argmax of the
    bilinearly sampled logits of parts 1..24; U, V of that part, clipped to [0, 1]."""
    if not crops:
        return []
    batch = torch.from_numpy(np.stack([teacher_input(c, model.config) for c in crops]))
    out = model(batch)
    crop_indices = torch.cat([torch.full((len(x),), k, dtype=torch.long) for k, x in enumerate(xs)])
    x = torch.from_numpy(np.concatenate(xs).astype(np.float32))
    y = torch.from_numpy(np.concatenate(ys).astype(np.float32))
    samples = crop_point_samples(x, y, out.fine_segm.shape[-1])
    logits = extract_at_points(out.fine_segm, crop_indices, samples)  # [Q, 25]
    parts = logits[:, 1:].argmax(dim=1) + 1
    u = extract_at_points(out.u, crop_indices, samples, channels=parts).clamp(0, 1)
    v = extract_at_points(out.v, crop_indices, samples, channels=parts).clamp(0, 1)
    results, start = [], 0
    for x_k in xs:
        end = start + len(x_k)
        results.append((parts[start:end].numpy(), u[start:end].numpy(), v[start:end].numpy()))
        start = end
    return results


def inpaint_annotation(
    ann: Dict[str, Any], x: np.ndarray, y: np.ndarray, i: np.ndarray, u: np.ndarray, v: np.ndarray
) -> Dict[str, Any]:
    """A copy of `ann` with the points (x, y, i, u, v) appended and flagged in `dp_inpainted`."""
    out = dict(ann)
    n = len(ann["dp_x"])
    flags = list(ann.get(DENSEPOSE_INPAINTED_KEY, [0] * n))
    out["dp_x"] = list(ann["dp_x"]) + np.round(x, 3).tolist()
    out["dp_y"] = list(ann["dp_y"]) + np.round(y, 3).tolist()
    out["dp_I"] = list(ann["dp_I"]) + i.astype(np.float64).tolist()
    out["dp_U"] = list(ann["dp_U"]) + np.round(u.astype(np.float64), 6).tolist()
    out["dp_V"] = list(ann["dp_V"]) + np.round(v.astype(np.float64), 6).tolist()
    out[DENSEPOSE_INPAINTED_KEY] = flags + [1] * len(x)
    out.pop("dp_vertex", None)
    out.pop("ref_model", None)
    return out


def _inpaint_image(model, image, anns, points_per_person, grid_step, rng, stats) -> None:
    """Replaces the usable annotations of one image (in the list `anns`) by inpainted copies."""
    size = model.config.crop_size
    usable = [k for k, a in enumerate(anns) if has_teacher_input(a)]
    crops, xs, ys = [], [], []
    for k in usable:
        crops.append(person_crop(image, anns[k], size))
        x, y = new_point_locations(
            person_mask_box_frame(anns[k]), points_per_person, grid_step, rng
        )
        xs.append(x)
        ys.append(y)
    for k, x, y, (i, u, v) in zip(usable, xs, ys, predict_points(model, crops, xs, ys)):
        stats.original_points += len(anns[k]["dp_x"])
        stats.new_points += len(x)
        anns[k] = inpaint_annotation(anns[k], x, y, i, u, v)
    stats.people += len(usable)


def inpaint_coco_json(
    json_file: str,
    image_root: str,
    model: TeacherNet,
    output: str,
    points_per_person: Optional[int] = None,
    grid_step: Optional[float] = None,
    seed: int = 0,
    progress: bool = False,
) -> InpaintStats:
    """Writes the inpainted copy of DensePose-COCO file `json_file` to `output`.

    Images that cannot be read are reported (logged and listed in the stats) and their
    annotations are written unchanged.
    """
    from tqdm import tqdm

    if not os.path.isfile(json_file):
        raise FileNotFoundError(f"annotation file {json_file!r} not found")
    with open(json_file) as f:
        data = json.load(f)
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise ValueError(f"{json_file!r} is not a COCO file (needs 'images' and 'annotations')")
    by_image: Dict[Any, List[int]] = {}
    for index, ann in enumerate(data["annotations"]):
        by_image.setdefault(ann["image_id"], []).append(index)
    rng = np.random.default_rng(seed)
    stats = InpaintStats()
    model.eval()
    for image in tqdm(data["images"], disable=not progress, desc="inpaint", leave=False):
        indices = by_image.get(image["id"], [])
        anns = [data["annotations"][k] for k in indices]
        if not any(has_teacher_input(a) for a in anns):
            continue
        path = os.path.join(image_root, image["file_name"])
        pixels = cv2.imread(path, cv2.IMREAD_COLOR)
        if pixels is None:
            message = f"image id {image['id']}: cannot read {path!r}; annotations left unchanged"
            logger.warning(message)
            stats.errors.append(message)
            continue
        _inpaint_image(model, pixels, anns, points_per_person, grid_step, rng, stats)
        for k, ann in zip(indices, anns):
            data["annotations"][k] = ann
        stats.images += 1
    info = dict(data.get("info") or {})
    info["densepose_ext_inpainting"] = (
        f"teacher points flagged in {DENSEPOSE_INPAINTED_KEY} "
        f"(points_per_person={points_per_person}, grid_step={grid_step}, seed={seed})"
    )
    data["info"] = info
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    logger.info(
        f"inpainted {stats.people} people in {stats.images} images: {stats.original_points} "
        f"annotated + {stats.new_points} new points -> {output}"
    )
    return stats
