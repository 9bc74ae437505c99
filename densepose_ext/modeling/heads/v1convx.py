"""`DensePoseV1ConvXHead`: a stack of 3x3 conv + ReLU layers on pooled ROI features."""

import torch
from detectron2.layers import Conv2d
from torch import nn
from torch.nn import functional as F

from ..registry import ROI_DENSEPOSE_HEAD_REGISTRY

__all__ = ["DensePoseV1ConvXHead", "initialize_module_params"]


def initialize_module_params(module: nn.Module) -> None:
    """Kaiming-normal (fan_out, relu) for every parameter named *weight*, zeros for *bias*."""
    for name, param in module.named_parameters():
        if "bias" in name:
            nn.init.constant_(param, 0)
        elif "weight" in name:
            nn.init.kaiming_normal_(param, mode="fan_out", nonlinearity="relu")


@ROI_DENSEPOSE_HEAD_REGISTRY.register()
class DensePoseV1ConvXHead(nn.Module):
    """`NUM_STACKED_CONVS` convs `body_conv_fcn1..N` (with bias), each followed by ReLU.

    [N, Cin, R, R] -> [N, CONV_HEAD_DIM, R, R]; `n_out_channels` = CONV_HEAD_DIM.
    """

    def __init__(self, cfg, input_channels: int):
        super().__init__()
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        hidden_dim = head_cfg.CONV_HEAD_DIM
        kernel_size = head_cfg.CONV_HEAD_KERNEL
        self.n_stacked_convs = head_cfg.NUM_STACKED_CONVS
        channels = input_channels
        for i in range(self.n_stacked_convs):
            layer = Conv2d(channels, hidden_dim, kernel_size, stride=1, padding=kernel_size // 2)
            self.add_module(self._layer_name(i), layer)
            channels = hidden_dim
        self.n_out_channels = channels
        initialize_module_params(self)

    @staticmethod
    def _layer_name(i: int) -> str:
        return f"body_conv_fcn{i + 1}"

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features
        for i in range(self.n_stacked_convs):
            x = F.relu(getattr(self, self._layer_name(i))(x))
        return x
