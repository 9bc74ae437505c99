"""Image pre-processing inside the exported graph: uint8 BGR HxWx3 -> resized float CHW.

Reproduces what `apply_net` / detectron2's `DefaultPredictor` do before the model: optional
BGR -> RGB, then `ResizeShortestEdge(MIN_SIZE_TEST, MAX_SIZE_TEST)` with bilinear, antialiased
interpolation (PIL's filter when shrinking) and rounding back to integer intensities. Written with
tensor operations only, so that the output size follows the input size after tracing.
"""

from typing import Tuple

import torch
from torch.nn import functional as F

__all__ = ["resized_shape", "resize_image"]


def resized_shape(
    height_width: torch.Tensor, min_size: torch.Tensor, max_size: torch.Tensor
) -> torch.Tensor:
    """int64 [2] (h, w) after ResizeShortestEdge(min_size, max_size), detectron2's rounding.

    Short side -> `min_size`, unless the long side would exceed `max_size` (if > 0); then both
    sides are scaled by max_size / long side; sizes rounded as int(x + 0.5). Sizes are 0-dim
    tensors (buffers of the exported module, so they stay adjustable); computed in float64.
    """
    size = height_width.to(torch.float64)  # [2]
    min_size = min_size.to(torch.float64)
    max_size = max_size.to(torch.float64)
    scaled = size * (min_size / size.min())
    # the short side is exactly min_size (no rounding error from scale * short)
    scaled = torch.where(size == size.min(), min_size.expand_as(scaled), scaled)
    longest = scaled.max()
    too_long = (max_size > 0) & (longest > max_size)
    scaled = torch.where(too_long, scaled * (max_size / longest), scaled)
    return torch.floor(scaled + 0.5).to(torch.int64)


def resize_image(
    image_hwc: torch.Tensor, min_size: torch.Tensor, max_size: torch.Tensor, to_rgb: bool
) -> Tuple[torch.Tensor, torch.Tensor]:
    """uint8 [H, W, 3] BGR -> (float32 [3, h, w] in 0..255, int64 [2] original (H, W)).

    Channels are reversed to RGB if `to_rgb`. Values are rounded to integers and clamped to
    [0, 255], as a uint8 resize would leave them.
    """
    height_width = torch._shape_as_tensor(image_hwc)[:2]  # traced: follows the input size
    new_hw = resized_shape(height_width, torch.as_tensor(min_size), torch.as_tensor(max_size))
    chw = image_hwc.permute(2, 0, 1)
    if to_rgb:
        chw = chw.flip(0)
    x = chw.unsqueeze(0).to(torch.float32)  # [1, 3, H, W]
    x = F.interpolate(
        x, size=(new_hw[0], new_hw[1]), mode="bilinear", align_corners=False, antialias=True
    )
    return x[0].round().clamp(0, 255), height_width
