"""`dp_contour`: iso-lines of U and V inside each body part, coloured by their level."""

import numpy as np

from .base import VisStyle, Visualizer, apply_colormap, blend_in_box

__all__ = ["ContourVisualizer", "iso_line_levels"]

DEFAULT_COLORMAP = "parula"


def iso_line_levels(labels: np.ndarray, values: np.ndarray, num_levels: int) -> np.ndarray:
    """int64 [h, w]: k > 0 on pixels where `values` crosses level k/num_levels, else 0.

    `values` is quantised to bins of width 1/num_levels (clipped to [0, 1]); a pixel is on the
    line between bins b and b' (b < b') if its left or upper neighbour lies in the same part
    (label > 0) but in another bin; it gets k = b'. Lines are 1 pixel wide and never cross
    part boundaries, so per-part discontinuities of the charts draw nothing.
    """
    bins = np.clip((values * num_levels).astype(np.int64), 0, num_levels - 1)
    lines = np.zeros(labels.shape, dtype=np.int64)
    for axis in (0, 1):
        prev = [slice(None), slice(None)]
        curr = [slice(None), slice(None)]
        prev[axis], curr[axis] = slice(None, -1), slice(1, None)
        prev, curr = tuple(prev), tuple(curr)
        same_part = (labels[curr] == labels[prev]) & (labels[curr] > 0)
        crossing = same_part & (bins[curr] != bins[prev])
        level = np.maximum(bins[curr], bins[prev])
        target = lines[curr]  # view
        target[crossing] = np.maximum(target[crossing], level[crossing])
    return lines


class ContourVisualizer(Visualizer):
    """Iso-lines of U and V at `num_levels` evenly spaced levels, drawn opaque (1 px)."""

    name = "dp_contour"

    def __init__(self, style: VisStyle = VisStyle(), num_levels: int = 10):
        self.colormap = style.colormap or DEFAULT_COLORMAP
        self.num_levels = num_levels

    def draw(self, canvas: np.ndarray, prediction) -> None:
        for box, result in zip(prediction.int_boxes_xywh, prediction.chart_results()):
            labels = result.labels.numpy()
            uv = result.uv.numpy()
            u_lines = iso_line_levels(labels, uv[0], self.num_levels)
            v_lines = iso_line_levels(labels, uv[1], self.num_levels)
            lines = np.maximum(u_lines, v_lines)  # where both cross, the higher level wins
            mask = lines > 0
            if not mask.any():
                continue
            scaled = (lines * (255.0 / self.num_levels)).astype(np.uint8)
            blend_in_box(canvas, box, apply_colormap(scaled, self.colormap), mask, 1.0)
