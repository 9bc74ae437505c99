import cv2
import numpy as np
import pytest

from densepose_ext.vis.base import (
    VisStyle,
    apply_colormap,
    blend_in_box,
    colormap_id,
    make_background,
)


def test_colormap_names():
    assert colormap_id("parula") == cv2.COLORMAP_PARULA
    assert colormap_id("JET") == cv2.COLORMAP_JET
    assert colormap_id("COLORMAP_VIRIDIS") == cv2.COLORMAP_VIRIDIS
    with pytest.raises(ValueError, match="unknown colormap 'nope'.*parula"):
        colormap_id("nope")
    with pytest.raises(ValueError):
        VisStyle(colormap="nope")
    with pytest.raises(ValueError):
        VisStyle(alpha=1.5)


def test_apply_colormap_matches_opencv():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(
        apply_colormap(values, "parula"), cv2.applyColorMap(values, cv2.COLORMAP_PARULA)
    )


def test_backgrounds():
    image = np.random.default_rng(0).integers(0, 255, (7, 9, 3), dtype=np.uint8)
    grey = make_background(image, "grey")
    assert grey.shape == image.shape
    np.testing.assert_array_equal(grey[:, :, 0], cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    np.testing.assert_array_equal(grey[:, :, 0], grey[:, :, 2])
    np.testing.assert_array_equal(make_background(image, "original"), image)
    assert make_background(image, "black").max() == 0
    with pytest.raises(ValueError, match="unknown background"):
        make_background(image, "white")


def test_blend_in_box_mask_alpha_and_clipping():
    canvas = np.full((10, 10, 3), 100, dtype=np.uint8)
    overlay = np.full((4, 6, 3), 200, dtype=np.uint8)
    mask = np.ones((4, 6), dtype=bool)
    mask[0, 0] = False
    # box (x=-2, y=8, w=6, h=4): only columns 0..3, rows 8..9 are visible
    blend_in_box(canvas, (-2, 8, 6, 4), overlay, mask, 0.25)
    assert (canvas[8:10, 0:4] == 125).all()
    assert (canvas[:8] == 100).all() and (canvas[8:, 4:] == 100).all()
    # per-pixel alpha, and mask False keeps the pixel
    canvas = np.zeros((4, 6, 3), dtype=np.uint8)
    alpha = np.zeros((4, 6), dtype=np.float32)
    alpha[1, 1] = 1.0
    blend_in_box(canvas, (0, 0, 6, 4), overlay, mask, alpha)
    assert canvas[1, 1].tolist() == [200, 200, 200] and canvas.sum() == 600
    blend_in_box(canvas, (20, 20, 6, 4), overlay, mask, 1.0)  # fully outside: no-op
