import numpy as np
import pytest
import torch

from densepose_ext.converters.to_mask import paste_box_mask_into, paste_box_masks


@pytest.mark.parametrize("corner", [(-2, -1), (3, 2), (0, 0), (6, 1), (-5, 0)])
def test_paste_box_mask_into_clips_numpy_and_torch_alike(corner):
    x0, y0 = corner
    mask = np.arange(1, 13, dtype=np.uint8).reshape(3, 4)
    expected = np.zeros((7, 9), dtype=np.int64)
    for r in range(3):
        for c in range(4):
            if 0 <= y0 + r < 7 and 0 <= x0 + c < 9:
                expected[y0 + r, x0 + c] = mask[r, c]
    canvas = np.zeros((7, 9), dtype=np.uint8)
    paste_box_mask_into(canvas, mask, x0, y0)
    np.testing.assert_array_equal(canvas, expected)
    tensor_canvas = torch.zeros((7, 9), dtype=torch.uint8)
    paste_box_mask_into(tensor_canvas, torch.from_numpy(mask), x0, y0)
    np.testing.assert_array_equal(tensor_canvas.numpy(), expected)


def test_paste_box_masks_one_canvas_per_box():
    masks = [torch.ones((2, 3), dtype=torch.bool), torch.ones((4, 4), dtype=torch.bool)]
    boxes = torch.tensor([[1, 1, 3, 2], [-1, 3, 4, 4]])
    canvas = paste_box_masks(masks, boxes, (5, 6), "cpu")
    assert canvas.shape == (2, 5, 6) and canvas.dtype == torch.bool
    assert canvas[0].sum() == 6 and canvas[0, 1:3, 1:4].all()
    assert canvas[1].sum() == 2 * 3 and canvas[1, 3:5, 0:3].all()
