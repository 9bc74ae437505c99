"""The layer recipe shared by all DensePose predictors:
stride-2 transposed conv + bilinear upsampling."""

import torch
from detectron2.layers import ConvTranspose2d
from torch import nn
from torch.nn import functional as F

__all__ = ["make_deconv_layer", "upsample_output"]


def make_deconv_layer(in_channels: int, out_channels: int, kernel_size: int) -> ConvTranspose2d:
    """Transposed conv, stride 2, padding `kernel_size / 2 - 1` (doubles the side for even kernels).

    Weight layout [in, out, k, k]; kaiming-normal (fan_out, relu) weights and zero bias, as in the
    original predictors.
    """
    layer = ConvTranspose2d(
        in_channels, out_channels, kernel_size, stride=2, padding=int(kernel_size / 2 - 1)
    )
    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    nn.init.constant_(layer.bias, 0)
    return layer


def upsample_output(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """Bilinear upsampling by `scale_factor` (align_corners=False);
    [N, C, S, S] -> [N, C, sS, sS]."""
    if scale_factor == 1:
        return x
    return F.interpolate(x, scale_factor=scale_factor, mode="bilinear", align_corners=False)
