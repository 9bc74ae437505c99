"""Hand-made chart results for visualizer tests."""

import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences


def chart_result(labels, u, v) -> DensePoseChartResultWithConfidences:
    labels = torch.as_tensor(labels, dtype=torch.int64)
    uv = torch.stack(
        [torch.as_tensor(u, dtype=torch.float32), torch.as_tensor(v, dtype=torch.float32)]
    )
    return DensePoseChartResultWithConfidences(labels=labels, uv=uv)


def ramp_prediction(image_hw=(40, 50), box=(5, 6, 30, 20)) -> ImagePrediction:
    """One box (x, y, w, h integers) whose left half is part 1 and right half part 2; U ramps
    0..1 along x, V along y."""
    x, y, w, h = box
    labels = torch.ones((h, w), dtype=torch.int64)
    labels[:, w // 2 :] = 2
    u = torch.linspace(0, 1, w).expand(h, w)
    v = torch.linspace(0, 1, h)[:, None].expand(h, w)
    return ImagePrediction.from_results(
        image_hw, [[x, y, x + w, y + h]], [chart_result(labels, u, v)], [0.9]
    )
