"""Hand-built surfaces, GT annotations and chart detections with known geodesic distances."""

import numpy as np
import pycocotools.mask as mask_utils

from densepose_ext.evaluation.geodesics import DenseGeodesics
from densepose_ext.evaluation.surface import ChartSurface

GRID_U = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
METERS_PER_U = 2.0  # surface point of part p at chart u lies at 10·(p−1) + 2·u metres on a line
GT_BOX = (10.0, 20.0, 100.0, 200.0)  # XYWH
POINT_PIXELS = np.array([[10, 20], [30, 60], [50, 100], [70, 140], [90, 180]])  # (x, y) in the box


def line_surface() -> ChartSurface:
    """Parts 1 and 2, five points each at u ∈ GRID_U, v = 0.5; geodesic = distance along a line."""
    parts = np.repeat([1, 2], GRID_U.size)
    u = np.tile(GRID_U, 2)
    position = 10.0 * (parts - 1) + METERS_PER_U * u
    return ChartSurface(
        part_ids=parts,
        uv=np.stack([u, np.full_like(u, 0.5)], 1),
        vertex_ids=np.arange(parts.size),
        geodesics=DenseGeodesics(np.abs(position[:, None] - position[None, :])),
        name="line",
    )


def box_mask_rle(rows: int = 256) -> dict:
    """RLE of a 256×256 box-frame mask whose first `rows` rows are foreground."""
    mask = np.zeros((256, 256), dtype=np.uint8)
    mask[:rows] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle["counts"] = rle["counts"].decode()
    return rle


def gt_annotation(
    ann_id=1, image_id=1, box=GT_BOX, part=1, with_dp=True, mask_rows=256, category_id=0
):
    """Chart GT at POINT_PIXELS (pixel centres mapped with the /255 rule), part `part`,
    u = GRID_U."""
    gx, gy, gw, gh = box
    ann = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": list(box),
        "area": gw * gh,
        "iscrowd": 0,
    }
    if with_dp:
        ann.update(
            dp_x=((POINT_PIXELS[:, 0] + 0.5) * 255.0 / gw).tolist(),
            dp_y=((POINT_PIXELS[:, 1] + 0.5) * 255.0 / gh).tolist(),
            dp_I=[part] * len(POINT_PIXELS),
            dp_U=GRID_U.tolist(),
            dp_V=[0.5] * len(POINT_PIXELS),
            dp_masks=[box_mask_rle(mask_rows)],
        )
    return ann


def chart_detection(image_id=1, box=GT_BOX, score=0.9, u_shift_points=(), part=1, category_id=0):
    """Quantised IUV [3, h, w] covering the whole box with label `part`; at POINT_PIXELS U equals
    the GT's u, except the listed points whose u is shifted by +0.25 (0.5 m along the line)."""
    w, h = int(box[2]), int(box[3])
    iuv = np.zeros((3, h, w), dtype=np.uint8)
    iuv[0] = part
    iuv[2] = 127
    for k, (x, y) in enumerate(POINT_PIXELS):
        u = GRID_U[k] + (0.25 if k in u_shift_points else 0.0)
        if y < h and x < w:
            iuv[1, y, x] = int(round(u * 255))
    return {
        "image_id": image_id,
        "category_id": category_id,
        "bbox": list(box),
        "score": score,
        "iuv": iuv,
    }


def image_entry(image_id=1, height=300, width=200, **extra):
    return dict(id=image_id, height=height, width=width, file_name=f"{image_id}.jpg", **extra)
