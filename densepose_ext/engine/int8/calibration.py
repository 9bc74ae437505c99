"""Calibration images of the int8 path: the user's folder, or a small built-in synthetic set."""

import hashlib
import os
from typing import List, Tuple

import cv2
import numpy as np

__all__ = [
    "BUILTIN_COUNT",
    "CalibrationError",
    "builtin_calibration_images",
    "load_calibration_images",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
MAX_IMAGES = 16  # a handful is enough for activation ranges; more only costs time
BUILTIN_COUNT = 6
BUILTIN_SIZE = 384
BUILTIN_SEED = 2029


class CalibrationError(ValueError):
    """The calibration folder has no readable image (or does not exist)."""


def load_calibration_images(folder: str) -> Tuple[List[np.ndarray], str]:
    """BGR uint8 images of `folder` (sorted, at most `MAX_IMAGES`, unreadable files skipped) and
    a digest of their bytes (part of the cache key)."""
    if not os.path.isdir(folder):
        raise CalibrationError(f"calibration folder {folder!r} does not exist")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    images, digest = [], hashlib.sha256()
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            data = f.read()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None or min(image.shape[:2]) < 8:
            continue
        images.append(image)
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        if len(images) == MAX_IMAGES:
            break
    if not images:
        raise CalibrationError(
            f"calibration folder {folder!r} has no readable image ({len(names)} image file(s) "
            f"tried; extensions {', '.join(IMAGE_EXTENSIONS)})"
        )
    return images, digest.hexdigest()


def builtin_calibration_images(count: int = BUILTIN_COUNT) -> Tuple[List[np.ndarray], str]:
    """`count` synthetic people images (BGR, deterministic) and their identity for the cache."""
    from ...data.synthetic import render_example

    images = [
        np.ascontiguousarray(render_example(i, BUILTIN_SEED, BUILTIN_SIZE)[0].image[:, :, ::-1])
        for i in range(count)
    ]
    return images, f"builtin-synthetic-v1-{count}-{BUILTIN_SIZE}-{BUILTIN_SEED}"
