import cv2
import numpy as np
import torch
from vis_test_helpers import chart_result

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.vis.base import VisStyle
from densepose_ext.vis.chart_maps import PartLabelsVisualizer, UVisualizer, VVisualizer


def _single_pixel_prediction(label, u, v):
    labels = torch.zeros((3, 4), dtype=torch.int64)
    labels[1, 2] = label
    uu = torch.zeros((3, 4))
    uu[1, 2] = u
    vv = torch.zeros((3, 4))
    vv[1, 2] = v
    return ImagePrediction.from_results(
        (8, 8), [[2.7, 1.2, 6.9, 4.9]], [chart_result(labels, uu, vv)]
    )


def _parula(value):
    return cv2.applyColorMap(np.array([[value]], np.uint8), cv2.COLORMAP_PARULA)[0, 0].astype(int)


def test_segm_u_v_colours_and_alpha():
    # int box = (2, 1, 4, 3): the labelled pixel [1, 2] lands at image row 2, column 4
    prediction = _single_pixel_prediction(24, 0.5, 1.7)
    for visualizer, value in (
        (PartLabelsVisualizer(VisStyle(alpha=1.0)), 255),
        (UVisualizer(VisStyle(alpha=1.0)), 127),
        (VVisualizer(VisStyle(alpha=1.0)), 255),  # U/V out of [0, 1] are clipped
    ):
        canvas = np.zeros((8, 8, 3), np.uint8)
        visualizer.draw(canvas, prediction)
        assert canvas[2, 4].tolist() == _parula(value).tolist(), visualizer.name
        canvas[2, 4] = 0
        assert canvas.max() == 0, "only foreground pixels are drawn"


def test_alpha_blend_and_colormap_option():
    prediction = _single_pixel_prediction(12, 0.0, 0.0)
    canvas = np.full((8, 8, 3), 100, np.uint8)
    PartLabelsVisualizer(VisStyle(colormap="jet", alpha=0.7)).draw(canvas, prediction)
    jet = cv2.applyColorMap(np.array([[int(12 * 255 / 24)]], np.uint8), cv2.COLORMAP_JET)[0, 0]
    expected = (100 * 0.3 + jet.astype(np.float32) * 0.7).astype(np.uint8)
    np.testing.assert_array_equal(canvas[2, 4], expected)
