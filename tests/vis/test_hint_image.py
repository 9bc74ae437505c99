"""Hint-image presets, pixel by pixel on hand-built part labels."""

import cv2
import numpy as np
import pytest
import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences
from densepose_ext.vis.hint_image import HINT_PRESETS, HintImageRenderer, part_colours

H, W = 30, 40


def _result(labels: np.ndarray) -> DensePoseChartResultWithConfidences:
    labels = torch.as_tensor(labels, dtype=torch.int64)
    return DensePoseChartResultWithConfidences(labels=labels, uv=torch.zeros(2, *labels.shape))


def _prediction() -> ImagePrediction:
    """Box 0 at (2, 3) 10x8 with labels 0..24 in reading order (clipped), box 1 overlapping it at
    (6, 5) 6x6, all part 7 except a label-0 column, box 2 half outside the image (part 24)."""
    first = (np.arange(80) % 25).reshape(8, 10)
    second = np.full((6, 6), 7)
    second[:, 0] = 0
    third = np.full((10, 10), 24)
    boxes = [[2, 3, 12, 11], [6, 5, 12, 11], [35, 25, 45, 35]]
    return ImagePrediction.from_results(
        (H, W), boxes, [_result(first), _result(second), _result(third)]
    )


@pytest.mark.parametrize(
    "preset, colormap, background_bgr",
    [
        ("magicanimate", cv2.COLORMAP_VIRIDIS, (84, 1, 68)),
        ("civitai", cv2.COLORMAP_PARULA, (0, 0, 0)),
    ],
)
def test_preset_pixels(preset, colormap, background_bgr):
    image = np.full((H, W, 3), 200, np.uint8)  # the picture ignores the input's pixels
    hint = HintImageRenderer(preset)(image, _prediction())
    assert hint.shape == (H, W, 3) and hint.dtype == np.uint8

    def colour(k: int) -> np.ndarray:  # OpenCV's table at uint8(k * 255 / 24)
        return cv2.applyColorMap(np.array([[int(k * 10.625)]], np.uint8), colormap)[0, 0]

    expected = np.empty_like(hint)
    expected[:] = background_bgr
    first = (np.arange(80) % 25).reshape(8, 10)
    for (r, c), k in np.ndenumerate(first):
        if k > 0:
            expected[3 + r, 2 + c] = colour(k)
    expected[5:11, 7:12] = colour(7)  # box 1 over box 0; its label-0 column (x = 6) is not drawn
    expected[25:30, 35:40] = colour(24)  # box 2 clipped to the image
    np.testing.assert_array_equal(hint, expected)
    assert (hint[0, 0] == background_bgr).all()


def test_known_colours():
    """Fixed points of the two tables: viridis starts at the magicanimate background."""
    viridis = part_colours(HINT_PRESETS["magicanimate"])
    assert tuple(viridis[0][::-1]) == (68, 1, 84) == HINT_PRESETS["magicanimate"].background_rgb
    assert tuple(viridis[24][::-1]) == (253, 231, 37)  # uint8(24 * 255 / 24) = 255: yellow
    parula = part_colours(HINT_PRESETS["civitai"])
    assert len({tuple(c) for c in parula[1:]}) == 24  # every part its own colour
    assert not (parula[1:] == 0).all(axis=1).any()  # no part is drawn black (the background)


def test_no_detection_gives_background_only():
    empty = ImagePrediction.from_results((H, W), np.zeros((0, 4)), [])
    hint = HintImageRenderer("magicanimate")(np.zeros((H, W, 3), np.uint8), empty)
    assert (hint == np.array([84, 1, 68], np.uint8)).all()


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        HintImageRenderer("sepia")
