"""Drawing primitives shared by the visualizers: backgrounds, colormaps, masked alpha blending.

Images are OpenCV-style BGR uint8 arrays [H, W, 3]. Per-box arrays are [h, w] in the integer
box (x, y, w, h) of `converters.int_boxes_xywh`; pasting clips them to the image.
"""

from dataclasses import dataclass
from typing import Optional, Tuple, Union

import cv2
import numpy as np

__all__ = [
    "BACKGROUNDS",
    "VisStyle",
    "Visualizer",
    "apply_colormap",
    "blend_in_box",
    "clip_box",
    "colormap_id",
    "make_background",
]

BACKGROUNDS = ("grey", "original", "black")


@dataclass(frozen=True)
class VisStyle:
    """Rendering options: colormap name (None = each visualizer's own default) and blend alpha."""

    colormap: Optional[str] = None
    alpha: float = 0.7

    def __post_init__(self):
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.colormap is not None:
            colormap_id(self.colormap)  # fail early on unknown names


def colormap_id(name: Union[str, int]) -> int:
    """OpenCV colormap constant for a name such as "parula", "JET" or "COLORMAP_VIRIDIS"."""
    if isinstance(name, int):
        return name
    key = name.strip().upper()
    key = key if key.startswith("COLORMAP_") else "COLORMAP_" + key
    if not hasattr(cv2, key):
        known = sorted(n[len("COLORMAP_") :].lower() for n in dir(cv2) if n.startswith("COLORMAP_"))
        raise ValueError(f"unknown colormap {name!r}; known: {', '.join(known)}")
    return int(getattr(cv2, key))


def apply_colormap(values: np.ndarray, colormap: Union[str, int]) -> np.ndarray:
    """uint8 [h, w] -> BGR uint8 [h, w, 3] through an OpenCV colormap."""
    return cv2.applyColorMap(np.ascontiguousarray(values, dtype=np.uint8), colormap_id(colormap))


def make_background(image_bgr: np.ndarray, mode: str = "grey") -> np.ndarray:
    """The canvas visualizers draw on: grayscale copy replicated to 3 channels, the image,
    or black."""
    if mode == "grey":
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "original":
        return np.ascontiguousarray(image_bgr.copy())
    if mode == "black":
        return np.zeros_like(image_bgr)
    raise ValueError(f"unknown background {mode!r}; expected one of {', '.join(BACKGROUNDS)}")


def clip_box(box_xywh, image_hw: Tuple[int, int]) -> Optional[Tuple[slice, slice, slice, slice]]:
    """(image rows, image cols, box rows, box cols) slices of the visible part of an integer box."""
    x, y, w, h = (int(c) for c in box_xywh)
    height, width = image_hw
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1), slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)


def blend_in_box(
    canvas: np.ndarray,
    box_xywh,
    overlay_bgr: np.ndarray,
    mask: np.ndarray,
    alpha: Union[float, np.ndarray],
) -> None:
    """In place: canvas = canvas·(1−α) + overlay·α on the masked pixels of the box.

    overlay_bgr [h, w, 3], mask bool [h, w], alpha a scalar or float [h, w]; the parts of the box
    outside the canvas are ignored.
    """
    slices = clip_box(box_xywh, canvas.shape[:2])
    if slices is None:
        return
    rows, cols, box_rows, box_cols = slices
    m = mask[box_rows, box_cols]
    if not m.any():
        return
    region = canvas[rows, cols]  # view
    a = alpha[box_rows, box_cols][m][:, None] if isinstance(alpha, np.ndarray) else float(alpha)
    over = overlay_bgr[box_rows, box_cols][m].astype(np.float32)
    region[m] = (region[m].astype(np.float32) * (1.0 - a) + over * a).astype(np.uint8)


class Visualizer:
    """Draws one kind of information of an `ImagePrediction` onto a BGR canvas, in place."""

    name = ""

    def draw(self, canvas: np.ndarray, prediction) -> None:
        raise NotImplementedError
