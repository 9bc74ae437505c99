"""A tiny hand-made DensePose-COCO dataset (images + JSON + flip tables) for training tests.

Each image holds one or two "people": boxes filled with two colours (upper half = torso, fine part
2, coarse part 1; lower half = right upper leg, fine part 7, coarse part 6) over a noisy
background. Points sample a 6 x 6 grid of the box with U = x / 256, V = y / 256 of the point.
"""

import json
import os
from typing import Dict, List

import cv2
import numpy as np
from pycocotools import mask as mask_utils

DP_KEYS = ["dp_x", "dp_y", "dp_I", "dp_U", "dp_V", "dp_masks"]


def write_flip_tables(path: str) -> str:
    """UV_symmetry_transforms-style .mat (uint8 tables): U -> 1 - U, V unchanged, for every part."""
    from scipy.io import savemat

    cols = np.tile(np.arange(256, dtype=np.uint8)[None, :], (256, 1))  # value = column = 255 u
    rows = np.tile(np.arange(256, dtype=np.uint8)[:, None], (1, 256))  # value = row = 255 v
    u_cells = np.empty((1, 24), dtype=object)
    v_cells = np.empty((1, 24), dtype=object)
    for p in range(24):
        u_cells[0, p] = (255 - cols).astype(np.uint8)
        v_cells[0, p] = rows.copy()
    savemat(path, {"U_transforms": u_cells, "V_transforms": v_cells})
    return path


def _box_masks() -> List[dict]:
    """14 coarse-part RLEs (256 x 256 box frame): part 1 upper half, part 6 lower half."""
    upper = np.zeros((256, 256), dtype=np.uint8, order="F")
    upper[16:128, 32:224] = 1
    lower = np.zeros((256, 256), dtype=np.uint8, order="F")
    lower[128:240, 32:224] = 1
    masks: List[dict] = [[] for _ in range(14)]
    for part, m in ((1, upper), (6, lower)):
        rle = mask_utils.encode(m)
        rle["counts"] = rle["counts"].decode("ascii")
        masks[part - 1] = rle
    return masks


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
    os.makedirs(os.path.join(directory, "images"), exist_ok=True)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        image = rng.integers(90, 140, size=(height, width, 3)).astype(np.uint8)
        boxes = [(8, 10, 40, 70)] if image_id % 2 else [(6, 8, 36, 64), (66, 16, 44, 72)]
        for x, y, w, h in boxes:
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
                    "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                    "dp_masks": _box_masks(),
                    **_points(),
                }
            )
        file_name = f"{image_id:04d}.png"
        cv2.imwrite(os.path.join(directory, "images", file_name), image)
        images.append({"id": image_id, "file_name": file_name, "height": height, "width": width})
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
    tables = write_flip_tables(os.path.join(directory, "UV_symmetry_transforms.mat"))
    return {
        "image_root": os.path.join(directory, "images"),
        "json_file": json_file,
        "flip_tables": tables,
    }


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
