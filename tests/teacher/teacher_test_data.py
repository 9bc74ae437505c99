"""A tiny hand-made DensePose-COCO dataset for the teacher tests.

Images 96 x 128 with one or two "people" (coloured rectangles). Each person's `dp_masks` is an
ellipse inscribed in the box frame (so part of the box is outside the mask); 30 points lie inside
it with parts 1..24 and U, V given with 15 significant digits (to test exact copies).
"""

import json
import os
from typing import Dict

import cv2
import numpy as np
from pycocotools import mask as mask_utils

H, W = 96, 128


def ellipse_mask() -> np.ndarray:
    """bool [256, 256]: cells whose centre lies in the ellipse inscribed in the box frame."""
    c = np.arange(256) + 0.5
    xx, yy = np.meshgrid(c, c)
    return ((xx - 128) / 120) ** 2 + ((yy - 128) / 124) ** 2 <= 1


def _dp_masks(mask: np.ndarray) -> list:
    masks: list = [[] for _ in range(14)]
    upper, lower = mask.copy(), mask.copy()
    upper[128:] = False
    lower[:128] = False
    for part, m in ((1, upper), (6, lower)):
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        rle["counts"] = rle["counts"].decode("ascii")
        masks[part - 1] = rle
    return masks


def _points(rng: np.random.Generator, mask: np.ndarray, n: int = 30) -> Dict[str, list]:
    rows, cols = np.nonzero(mask)
    pick = rng.choice(rows.size, n, replace=False)
    xs = cols[pick] + rng.uniform(0.01, 0.99, n)
    ys = rows[pick] + rng.uniform(0.01, 0.99, n)
    return {
        "dp_x": xs.tolist(),
        "dp_y": ys.tolist(),
        "dp_I": rng.integers(1, 25, n).astype(float).tolist(),
        "dp_U": rng.uniform(0, 1, n).tolist(),
        "dp_V": rng.uniform(0, 1, n).tolist(),
    }


def write_flip_tables(path: str) -> str:
    """Flip tables (.mat, uint8): U -> 1 - U, V unchanged, for every part."""
    from scipy.io import savemat

    cols = np.tile(np.arange(256, dtype=np.uint8)[None, :], (256, 1))
    rows = np.tile(np.arange(256, dtype=np.uint8)[:, None], (1, 256))
    u_cells = np.empty((1, 24), dtype=object)
    v_cells = np.empty((1, 24), dtype=object)
    for p in range(24):
        u_cells[0, p] = (255 - cols).astype(np.uint8)
        v_cells[0, p] = rows.copy()
    savemat(path, {"U_transforms": u_cells, "V_transforms": v_cells})
    return path


def write_teacher_dataset(directory: str, num_images: int = 2, seed: int = 0) -> Dict[str, str]:
    """Images + `annotations.json` (+ one box-only person) + flip tables; returns their paths."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(directory, "images"), exist_ok=True)
    mask = ellipse_mask()
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        image = rng.integers(90, 140, size=(H, W, 3)).astype(np.uint8)
        for x, y, w, h in [(6, 8, 36, 64), (66, 16, 44, 72)]:
            image[y : y + h // 2, x : x + w] = (30, 30, 220)
            image[y + h // 2 : y + h, x : x + w] = (200, 60, 20)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x, y, w, h],
                    "area": float(w * h),
                    "dp_masks": _dp_masks(mask),
                    **_points(rng, mask),
                }
            )
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [50, 60, 20, 30],
                "area": 600.0,
            }
        )
        file_name = f"{image_id:04d}.png"
        cv2.imwrite(os.path.join(directory, "images", file_name), image)
        images.append({"id": image_id, "file_name": file_name, "height": H, "width": W})
    json_file = os.path.join(directory, "annotations.json")
    with open(json_file, "w") as f:
        json.dump(
            {
                "images": images,
                "annotations": annotations,
                "categories": [{"id": 1, "name": "person"}],
            },
            f,
        )
    return {
        "json_file": json_file,
        "image_root": os.path.join(directory, "images"),
        "flip_tables": write_flip_tables(os.path.join(directory, "flip.mat")),
    }
