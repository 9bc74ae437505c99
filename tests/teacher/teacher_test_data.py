"""A tiny hand-made DensePose-COCO dataset for the teacher tests.

Images 96 x 128 with one or two "people" (coloured rectangles). Each person's `dp_masks` is an
ellipse inscribed in the box frame (so part of the box is outside the mask); 30 points lie inside
it with parts 1..24 and U, V given with 15 significant digits (to test exact copies).
"""

import os
from typing import Dict

import numpy as np
from coco_test_data import (
    draw_person,
    person_annotation,
    upper_lower_masks,
    write_coco_dataset,
    write_flip_tables,
)

H, W = 96, 128


def ellipse_mask() -> np.ndarray:
    """bool [256, 256]: cells whose centre lies in the ellipse inscribed in the box frame."""
    c = np.arange(256) + 0.5
    xx, yy = np.meshgrid(c, c)
    return ((xx - 128) / 120) ** 2 + ((yy - 128) / 124) ** 2 <= 1


def _dp_masks(mask: np.ndarray) -> list:
    upper, lower = mask.copy(), mask.copy()
    upper[128:] = False
    lower[:128] = False
    return upper_lower_masks(upper, lower)


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


def write_teacher_dataset(directory: str, num_images: int = 2, seed: int = 0) -> Dict[str, str]:
    """Images + `annotations.json` (+ one box-only person) + flip tables; returns their paths."""
    rng = np.random.default_rng(seed)
    mask = ellipse_mask()
    images = []
    for _ in range(num_images):
        image = rng.integers(90, 140, size=(H, W, 3)).astype(np.uint8)
        annotations = []
        for box in [(6, 8, 36, 64), (66, 16, 44, 72)]:
            draw_person(image, box)
            annotations.append(
                person_annotation(box, dp_masks=_dp_masks(mask), **_points(rng, mask))
            )
        annotations.append(person_annotation((50, 60, 20, 30)))
        images.append((image, annotations))
    files = write_coco_dataset(directory, images)
    files["flip_tables"] = write_flip_tables(os.path.join(directory, "flip.mat"))
    return files
