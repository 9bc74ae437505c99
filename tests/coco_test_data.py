"""Writing small hand-made DensePose-COCO datasets for tests: images, JSON and flip tables.

Shared by the training tests (`engine/tiny_densepose_dataset.py`) and the teacher tests
(`teacher/teacher_test_data.py`), which only decide what the people and their points are.
"""

import json
import os
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

PERSON_CATEGORIES = [{"id": 1, "name": "person"}]


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


def upper_lower_masks(upper: np.ndarray, lower: np.ndarray) -> List[dict]:
    """The 14 coarse-part `dp_masks` (256 x 256 box frame): part 1 `upper`, part 6 `lower`."""
    masks: List = [[] for _ in range(14)]
    for part, m in ((1, upper), (6, lower)):
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        rle["counts"] = rle["counts"].decode("ascii")
        masks[part - 1] = rle
    return masks


def draw_person(image: np.ndarray, box: Tuple[int, int, int, int]) -> None:
    """A two-colour "person" in the XYWH `box`: red upper half, blue lower half (BGR)."""
    x, y, w, h = box
    image[y : y + h // 2, x : x + w] = (30, 30, 220)
    image[y + h // 2 : y + h, x : x + w] = (200, 60, 20)


def person_annotation(box: Tuple[int, int, int, int], **fields) -> dict:
    """A person annotation of the XYWH `box` with extra `fields` (dp_*, segmentation...)."""
    x, y, w, h = box
    return {"category_id": 1, "iscrowd": 0, "bbox": [x, y, w, h], "area": float(w * h), **fields}


def write_coco_dataset(
    directory: str, images: Sequence[Tuple[np.ndarray, List[dict]]]
) -> Dict[str, str]:
    """Writes `images/<id:04d>.png` and `annotations.json` (ids from 1, in order) for
    (BGR image, its annotations) pairs; returns {"image_root", "json_file"}."""
    image_root = os.path.join(directory, "images")
    os.makedirs(image_root, exist_ok=True)
    entries, annotations = [], []
    for image_id, (image, anns) in enumerate(images, start=1):
        for ann in anns:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, **ann})
        file_name = f"{image_id:04d}.png"
        cv2.imwrite(os.path.join(image_root, file_name), image)
        height, width = image.shape[:2]
        entries.append({"id": image_id, "file_name": file_name, "height": height, "width": width})
    json_file = os.path.join(directory, "annotations.json")
    with open(json_file, "w") as f:
        json.dump(
            {"images": entries, "annotations": annotations, "categories": PERSON_CATEGORIES}, f
        )
    return {"image_root": image_root, "json_file": json_file}
