import numpy as np

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.vis.bbox import BOX_COLOR_BGR, ScoredBoxVisualizer


def test_boxes_and_scores_drawn():
    prediction = ImagePrediction.from_results(
        (60, 80), [[10.7, 20.2, 50.9, 55.0]], None, scores=[0.93]
    )
    canvas = np.zeros((60, 80, 3), np.uint8)
    ScoredBoxVisualizer().draw(canvas, prediction)
    # int box (10, 20, w=40, h=34): 1-px rectangle from (10, 20) to (50, 54)
    assert canvas[54, 30].tolist() == list(BOX_COLOR_BGR)
    assert canvas[40, 50].tolist() == list(BOX_COLOR_BGR)
    assert canvas[40, 30].tolist() == [0, 0, 0]
    text = canvas[21:30, 11:45]  # score text inside the top-left corner
    assert (text.max(axis=2) > 100).sum() > 10
