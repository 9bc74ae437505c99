"""`DensePoseDeepLabHead`: ASPP (rates 6, 12, 56) + optional non-local block + GN conv stack."""

import fvcore.nn.weight_init as weight_init
import torch
from detectron2.layers import Conv2d
from torch import nn
from torch.nn import functional as F

from ..registry import ROI_DENSEPOSE_HEAD_REGISTRY

__all__ = ["ASPP", "NonLocalBlock2D", "DensePoseDeepLabHead"]

ATROUS_RATES = (6, 12, 56)


def _conv_gn_relu(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1):
    padding = 0 if kernel_size == 1 else dilation
    return [
        nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False
        ),
        nn.GroupNorm(32, out_channels),
        nn.ReLU(),
    ]


class ASPPPooling(nn.Sequential):
    """Image-level branch: global average pool -> 1x1 conv -> GN -> ReLU -> resized back."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.AdaptiveAvgPool2d(1), *_conv_gn_relu(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        x = super().forward(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling; keys `convs.{0..4}.*` and `project.0.weight`."""

    def __init__(self, in_channels: int, atrous_rates, out_channels: int):
        super().__init__()
        branches = [nn.Sequential(*_conv_gn_relu(in_channels, out_channels, 1))]
        for rate in atrous_rates:
            branches.append(nn.Sequential(*_conv_gn_relu(in_channels, out_channels, 3, rate)))
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(branches) * out_channels, out_channels, 1, bias=False), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))


class NonLocalBlock2D(nn.Module):
    """Embedded-Gaussian non-local block with 2x2 max-pool sub-sampling of `g` and `phi`.

    Output = W(softmax(theta(x)^T phi(x)) g(x)) + x; W ends in a zero-initialised GroupNorm(32).
    """

    def __init__(self, in_channels: int):
        super().__init__()
        self.inter_channels = max(in_channels // 2, 1)
        inter = self.inter_channels
        # registration order g, W, theta, phi reproduces the original's state-dict order
        self.g = nn.Sequential(nn.Conv2d(in_channels, inter, 1), nn.MaxPool2d(kernel_size=(2, 2)))
        self.W = nn.Sequential(nn.Conv2d(inter, in_channels, 1), nn.GroupNorm(32, in_channels))
        nn.init.constant_(self.W[1].weight, 0)
        nn.init.constant_(self.W[1].bias, 0)
        self.theta = nn.Conv2d(in_channels, inter, 1)
        self.phi = nn.Sequential(nn.Conv2d(in_channels, inter, 1), nn.MaxPool2d(kernel_size=(2, 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        g_x = self.g(x).view(n, self.inter_channels, -1).permute(0, 2, 1)  # [N, P', I]
        theta_x = self.theta(x).view(n, self.inter_channels, -1).permute(0, 2, 1)  # [N, P, I]
        phi_x = self.phi(x).view(n, self.inter_channels, -1)  # [N, I, P']
        attention = F.softmax(torch.matmul(theta_x, phi_x), dim=-1)  # [N, P, P']
        y = torch.matmul(attention, g_x).permute(0, 2, 1).contiguous()
        y = y.view(n, self.inter_channels, *x.shape[2:])
        return self.W(y) + x


@ROI_DENSEPOSE_HEAD_REGISTRY.register()
class DensePoseDeepLabHead(nn.Module):
    """ASPP (width = Cin) -> [NLBlock] -> `NUM_STACKED_CONVS` x (conv -> [GN] -> ReLU).

    Body convs have no bias and a `.norm` GroupNorm(32, H) when `DEEPLAB.NORM == "GN"`, otherwise a
    bias and no norm. [N, Cin, R, R] -> [N, CONV_HEAD_DIM, R, R].
    """

    def __init__(self, cfg, input_channels: int):
        super().__init__()
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        hidden_dim = head_cfg.CONV_HEAD_DIM
        kernel_size = head_cfg.CONV_HEAD_KERNEL
        use_gn = head_cfg.DEEPLAB.NORM == "GN"
        self.n_stacked_convs = head_cfg.NUM_STACKED_CONVS
        self.use_nonlocal = bool(head_cfg.DEEPLAB.NONLOCAL_ON)
        self.ASPP = ASPP(input_channels, ATROUS_RATES, input_channels)
        if self.use_nonlocal:
            self.NLBlock = NonLocalBlock2D(input_channels)
        channels = input_channels
        for i in range(self.n_stacked_convs):
            layer = Conv2d(
                channels,
                hidden_dim,
                kernel_size,
                stride=1,
                padding=kernel_size // 2,
                bias=not use_gn,
                norm=nn.GroupNorm(32, hidden_dim) if use_gn else None,
            )
            weight_init.c2_msra_fill(layer)
            self.add_module(f"body_conv_fcn{i + 1}", layer)
            channels = hidden_dim
        self.n_out_channels = channels

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.ASPP(features)
        if self.use_nonlocal:
            x = self.NLBlock(x)
        for i in range(self.n_stacked_convs):
            x = F.relu(getattr(self, f"body_conv_fcn{i + 1}")(x))
        return x
