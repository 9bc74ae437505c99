import numpy as np
from vis_test_helpers import ramp_prediction

from densepose_ext.vis.contour import ContourVisualizer, iso_line_levels


def test_iso_lines_of_a_ramp():
    labels = np.ones((3, 20), dtype=np.int64)
    values = np.tile((np.arange(20) + 0.5) / 20, (3, 1))  # bins: 2 columns each
    lines = iso_line_levels(labels, values, 10)
    cols = np.nonzero(lines[0])[0]
    assert cols.tolist() == [2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert lines[0, cols].tolist() == list(range(1, 10))
    assert (lines == lines[0]).all()


def test_no_lines_across_parts_or_background():
    labels = np.zeros((4, 6), dtype=np.int64)
    labels[:, :3], labels[:, 3:5] = 1, 2
    values = np.zeros((4, 6))
    values[:, 3:] = 0.95  # jumps exactly at the part boundary and at the background
    assert iso_line_levels(labels, values, 10).max() == 0


def test_contour_visualizer_draws_inside_box_only():
    prediction = ramp_prediction()
    canvas = np.zeros((40, 50, 3), np.uint8)
    ContourVisualizer().draw(canvas, prediction)
    drawn = canvas.max(axis=2) > 0
    assert drawn.any()
    ys, xs = np.nonzero(drawn)
    assert ys.min() >= 6 and ys.max() < 26 and xs.min() >= 5 and xs.max() < 35
