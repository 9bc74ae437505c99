"""Hint images as the image-generation tools draw them from DensePose part labels (`--preset`).

ControlNet DensePose preprocessors and MagicAnimate-style pipelines condition on a picture made
from the part index I alone: a black canvas, in every detection box the pixels with I > 0 set to
``colormap(uint8(I * 255 / 24))`` at full opacity (later boxes over earlier ones), then the
pixels no part covers set to a background colour. The colour tables are OpenCV's
(``cv2.applyColorMap`` with ``COLORMAP_VIRIDIS`` / ``COLORMAP_PARULA``), because those tools use
them; the output has the input image's size.

- ``magicanimate``: viridis, background viridis' first colour, RGB (68, 1, 84);
- ``civitai``: parula, background black.
"""

from dataclasses import dataclass
from typing import Dict, Tuple

import cv2
import numpy as np

from ..structures.constants import N_FINE_PARTS
from .base import Visualizer, clip_box

__all__ = ["HINT_PRESETS", "HintImageRenderer", "HintPreset", "part_colours"]


@dataclass(frozen=True)
class HintPreset:
    """OpenCV colormap id and background colour (RGB) of a hint-image style."""

    colormap: int
    background_rgb: Tuple[int, int, int]


HINT_PRESETS: Dict[str, HintPreset] = {
    "magicanimate": HintPreset(cv2.COLORMAP_VIRIDIS, (68, 1, 84)),
    "civitai": HintPreset(cv2.COLORMAP_PARULA, (0, 0, 0)),
}


def part_values(labels: np.ndarray) -> np.ndarray:
    """Part labels 0..24 -> uint8 intensities I * 255 / 24 (float32 product, truncated)."""
    scaled = labels.astype(np.float32) * np.float32(255.0 / N_FINE_PARTS)
    return scaled.clip(0, 255).astype(np.uint8)


def part_colours(preset: HintPreset) -> np.ndarray:
    """uint8 [25, 3] BGR colour of each part label (row 0: what label 0 would map to)."""
    values = part_values(np.arange(N_FINE_PARTS + 1))[:, None]
    return cv2.applyColorMap(values, preset.colormap)[:, 0, :]


class HintImageRenderer(Visualizer):
    """`render(image_bgr, prediction)` -> the preset's hint image (BGR uint8, the input's size)."""

    name = "hint_image"

    def __init__(self, preset: str):
        if preset not in HINT_PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {', '.join(HINT_PRESETS)}")
        self.preset_name = preset
        self.preset = HINT_PRESETS[preset]
        self.colours = part_colours(self.preset)

    def draw(self, canvas: np.ndarray, prediction) -> None:
        """Paints the hint image onto `canvas` (BGR, in place), background included."""
        covered = np.zeros(canvas.shape[:2], bool)
        canvas[:] = 0
        for box, result in zip(prediction.int_boxes_xywh, prediction.chart_results()):
            slices = clip_box(box, canvas.shape[:2])
            if slices is None:
                continue
            rows, cols, box_rows, box_cols = slices
            labels = result.labels.numpy()[box_rows, box_cols]
            parts = labels > 0
            canvas[rows, cols][parts] = self.colours[labels[parts]]
            covered[rows, cols] |= parts
        canvas[~covered] = self.preset.background_rgb[::-1]

    def __call__(self, image_bgr: np.ndarray, prediction) -> np.ndarray:
        canvas = np.zeros_like(image_bgr)
        self.draw(canvas, prediction)
        return canvas
