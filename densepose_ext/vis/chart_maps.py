"""`dp_segm`, `dp_u`, `dp_v`: a per-pixel chart quantity through a colormap, blended on the body."""

from typing import Callable

import numpy as np

from ..structures.constants import N_FINE_PARTS
from .base import VisStyle, Visualizer, apply_colormap, blend_in_box

__all__ = ["ChartMapVisualizer", "PartLabelsVisualizer", "UVisualizer", "VVisualizer"]

DEFAULT_COLORMAP = "parula"


class ChartMapVisualizer(Visualizer):
    """Colours `values(result)` (uint8 [h, w]) with a colormap and blends it where labels > 0."""

    def __init__(self, values: Callable, style: VisStyle = VisStyle()):
        self.values = values
        self.colormap = style.colormap or DEFAULT_COLORMAP
        self.alpha = style.alpha

    def draw(self, canvas: np.ndarray, prediction) -> None:
        results = prediction.chart_results()
        for box, result in zip(prediction.int_boxes_xywh, results):
            labels = result.labels.numpy()
            mask = labels > 0
            if not mask.any():
                continue
            colored = apply_colormap(self.values(result), self.colormap)  # [h, w, 3]
            blend_in_box(canvas, box, colored, mask, self.alpha)


def _labels_scaled(result) -> np.ndarray:
    """Part labels 0..24 spread over 0..255 (label · 255/24, truncated)."""
    return (result.labels.numpy().astype(np.float32) * (255.0 / N_FINE_PARTS)).astype(np.uint8)


def _coordinate_scaled(index: int) -> Callable:
    """U (index 0) or V (index 1) · 255, clipped to [0, 255] and truncated."""

    def values(result) -> np.ndarray:
        return np.clip(result.uv[index].numpy() * 255.0, 0, 255).astype(np.uint8)

    return values


class PartLabelsVisualizer(ChartMapVisualizer):
    name = "dp_segm"

    def __init__(self, style: VisStyle = VisStyle()):
        super().__init__(_labels_scaled, style)


class UVisualizer(ChartMapVisualizer):
    name = "dp_u"

    def __init__(self, style: VisStyle = VisStyle()):
        super().__init__(_coordinate_scaled(0), style)


class VVisualizer(ChartMapVisualizer):
    name = "dp_v"

    def __init__(self, style: VisStyle = VisStyle()):
        super().__init__(_coordinate_scaled(1), style)
