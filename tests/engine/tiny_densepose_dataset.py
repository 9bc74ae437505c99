"""A tiny hand-made DensePose-COCO dataset (images + JSON + flip tables) for training tests.

Each image holds one or two "people": boxes filled with two colours (upper half = torso, fine part
2, coarse part 1; lower half = right upper leg, fine part 7, coarse part 6) over a noisy
background. Points sample a 6 x 6 grid of the box with U = x / 256, V = y / 256 of the point.
"""

import os
from typing import Dict, List

import numpy as np
from coco_test_data import (
    draw_person,
    person_annotation,
    upper_lower_masks,
    write_coco_dataset,
    write_flip_tables,
)

DP_KEYS = ["dp_x", "dp_y", "dp_I", "dp_U", "dp_V", "dp_masks"]


def _box_masks() -> List[dict]:
    """14 coarse-part RLEs (256 x 256 box frame): part 1 upper half, part 6 lower half."""
    upper = np.zeros((256, 256), dtype=np.uint8)
    upper[16:128, 32:224] = 1
    lower = np.zeros((256, 256), dtype=np.uint8)
    lower[128:240, 32:224] = 1
    return upper_lower_masks(upper, lower)


def _points() -> Dict[str, list]:
    grid = np.linspace(40, 216, 6)
    xs, ys = np.meshgrid(grid, grid)
    xs, ys = xs.reshape(-1), ys.reshape(-1)
    parts = np.where(ys < 128, 2, 7)
    return {
        "dp_x": xs.tolist(),
        "dp_y": ys.tolist(),
        "dp_I": parts.astype(float).tolist(),
        "dp_U": (xs / 256).tolist(),
        "dp_V": (ys / 256).tolist(),
    }


def write_tiny_dataset(
    directory: str, num_images: int = 4, height: int = 96, width: int = 128, seed: int = 0
) -> Dict[str, str]:
    """Writes images and `annotations.json`; returns {"image_root", "json_file", "flip_tables"}."""
    rng = np.random.default_rng(seed)
    images = []
    for image_id in range(1, num_images + 1):
        image = rng.integers(90, 140, size=(height, width, 3)).astype(np.uint8)
        boxes = [(8, 10, 40, 70)] if image_id % 2 else [(6, 8, 36, 64), (66, 16, 44, 72)]
        annotations = []
        for x, y, w, h in boxes:
            draw_person(image, (x, y, w, h))
            outline = [[x, y, x + w, y, x + w, y + h, x, y + h]]
            annotations.append(
                person_annotation(
                    (x, y, w, h), segmentation=outline, dp_masks=_box_masks(), **_points()
                )
            )
        images.append((image, annotations))
    files = write_coco_dataset(directory, images)
    files["flip_tables"] = write_flip_tables(os.path.join(directory, "UV_symmetry_transforms.mat"))
    return files


def register_tiny_dataset(name: str, files: Dict[str, str]) -> None:
    """Registers `name` (DensePose-COCO JSON loaded with detectron2's COCO loader, dp_* kept)."""
    from detectron2.data import DatasetCatalog, MetadataCatalog
    from detectron2.data.datasets.coco import load_coco_json

    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    DatasetCatalog.register(
        name, lambda: load_coco_json(files["json_file"], files["image_root"], None, DP_KEYS)
    )
    MetadataCatalog.get(name).set(
        json_file=files["json_file"],
        image_root=files["image_root"],
        evaluator_type="coco",
        categories={1: "person"},
        densepose_transform_src=files["flip_tables"],
    )


def write_grid_surface(path) -> str:
    """A synthetic-body surface .npz: a 3 x 3 (U, V) grid per part; geodesic = UV distance within
    a part, 2 between parts (so GPS needs no download)."""
    grid = np.linspace(0.1, 0.9, 3)
    u, v = (a.reshape(-1) for a in np.meshgrid(grid, grid))
    part_ids = np.repeat(np.arange(1, 25), u.size)
    u, v = np.tile(u, 24), np.tile(v, 24)
    geodists = np.hypot(u[:, None] - u[None], v[:, None] - v[None])
    geodists[part_ids[:, None] != part_ids[None]] = 2.0
    np.savez(path, part_ids=part_ids, u=u, v=v, geodists=geodists)
    return str(path)
