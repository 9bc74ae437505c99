"""Winograd F(4x4, 3x3) convolution for CPU inference.

A 3x3 stride-1 convolution computed on 6x6 input tiles with 4x4 outputs needs 36 instead of
144 multiplications per tile and channel pair: for the wide 3x3 layers of DensePose (FPN outputs,
decoder, the 8 x 512 ROI head) that is 2-2.5x less time on AVX2 CPUs than direct convolution.
The transforms are exact in real arithmetic; in float32 the outputs differ from `F.conv2d` by
about 1e-5 of their magnitude.
"""

import math
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["WinogradConv2d", "is_winograd_eligible", "replace_with_winograd"]

# Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (points 0, +-1, +-2, inf)
_BT = (
    (4, 0, -5, 0, 1, 0),
    (0, -4, -4, 1, 1, 0),
    (0, 4, -4, -1, 1, 0),
    (0, -2, -1, 2, 1, 0),
    (0, 2, -1, -2, 1, 0),
    (0, 4, 0, -5, 0, 1),
)
_G = (
    (1 / 4, 0, 0),
    (-1 / 6, -1 / 6, -1 / 6),
    (-1 / 6, 1 / 6, -1 / 6),
    (1 / 24, 1 / 12, 1 / 6),
    (1 / 24, -1 / 12, 1 / 6),
    (0, 0, 1),
)
_AT = (
    (1, 1, 1, 1, 1, 0),
    (0, 1, -1, 2, -2, 0),
    (0, 1, 1, 4, 4, 0),
    (0, 1, -1, 8, -8, 1),
)
TILE_OUT = 4
TILE_IN = 6
# tiles per chunk: keeps the transformed chunk (36 x tiles x channels floats) in cache
TILES_PER_CHUNK = 256
MIN_CHANNELS = 128


def _matrix(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """[Cout, Cin, 3, 3] -> [36, Cin, Cout] (G w G^T per channel pair, in float64 then cast)."""
    g = _matrix(_G)
    u = g @ weight.detach().double().cpu() @ g.t()  # [Cout, Cin, 6, 6]
    u = u.permute(2, 3, 1, 0).reshape(TILE_IN * TILE_IN, weight.shape[1], weight.shape[0])
    return u.contiguous().to(dtype=weight.dtype, device=weight.device)


def is_winograd_eligible(conv: nn.Module, min_channels: int = MIN_CHANNELS) -> bool:
    """A plain 3x3, stride 1, padding 1, dilation 1, ungrouped conv with >= `min_channels`."""
    return (
        isinstance(conv, nn.Conv2d)
        and not isinstance(conv, WinogradConv2d)
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and min(conv.in_channels, conv.out_channels) >= min_channels
    )


class WinogradConv2d(nn.Conv2d):
    """Drop-in for a 3x3 conv (detectron2 `Conv2d` norm / activation kept) using Winograd on CPU.

    The state dict keys are the conv's (`weight`, `bias`); the transformed weight is a
    non-persistent buffer, recomputed when `weight` is replaced or changed in place (so that the
    output always follows `weight`). Off CPU, in float16 or with gradients it runs `F.conv2d`.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__(
            conv.in_channels, conv.out_channels, 3, padding=1, bias=conv.bias is not None
        )
        self.weight = conv.weight
        self.bias = conv.bias
        self.norm = getattr(conv, "norm", None)
        self.activation = getattr(conv, "activation", None)
        self.register_buffer("winograd_weight", transform_weight(conv.weight), persistent=False)
        self._transformed = self._weight_state()
        self.register_buffer("_bt", self._kron(_BT, conv.weight), persistent=False)
        self.register_buffer("_at", self._kron(_AT, conv.weight), persistent=False)

    @staticmethod
    def _kron(rows, like: torch.Tensor) -> torch.Tensor:
        m = _matrix(rows)
        return torch.kron(m, m).to(dtype=like.dtype, device=like.device)

    def _weight_state(self) -> tuple:
        """Identity and in-place version of `weight` (an inference tensor has no version)."""
        try:
            return id(self.weight), self.weight._version
        except RuntimeError:
            return id(self.weight), None

    def _refresh_winograd_weight(self) -> None:
        state = self._weight_state()
        if state != self._transformed:
            self.winograd_weight = transform_weight(self.weight)
            self._transformed = state

    def _use_winograd(self, x: torch.Tensor) -> bool:
        return (
            x.device.type == "cpu"
            and x.dtype == torch.float32
            and self.winograd_weight.dtype == torch.float32
            and not (torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._use_winograd(x):
            x = F.conv2d(x, self.weight, self.bias, 1, 1)
            if self.norm is not None:
                x = self.norm(x)
            return x if self.activation is None else self.activation(x)
        self._refresh_winograd_weight()
        relu = self.norm is None and _is_relu(self.activation)
        x = self._winograd(x, relu=relu)
        if self.norm is not None:
            x = self.norm(x)
        if self.activation is not None and not relu:
            x = self.activation(x)
        return x

    def _winograd(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        """Output (+ bias, then ReLU if `relu`) as a channels-last [N, Cout, H, W] tensor."""
        n, c, h, w = x.shape
        cout = self.out_channels
        th, tw = math.ceil(h / TILE_OUT), math.ceil(w / TILE_OUT)
        if n * th * tw == 0:
            return x.new_zeros((n, cout, h, w))
        padded = F.pad(x, (1, TILE_OUT * tw + 1 - w, 1, TILE_OUT * th + 1 - h))
        tiles = padded.unfold(2, TILE_IN, TILE_OUT).unfold(3, TILE_IN, TILE_OUT)  # n,c,th,tw,6,6
        out = x.new_empty((n, th, TILE_OUT, tw, TILE_OUT, cout))  # NHWC, padded to whole tiles
        bias = self.bias if self.bias is not None else x.new_zeros(cout)
        rows = max(1, TILES_PER_CHUNK // (n * tw))
        for r0 in range(0, th, rows):
            r1 = min(th, r0 + rows)
            d = tiles[:, :, r0:r1].permute(4, 5, 0, 2, 3, 1).reshape(TILE_IN * TILE_IN, -1)
            v = (self._bt @ d).view(TILE_IN * TILE_IN, -1, c)  # [36, P, Cin]
            m = torch.bmm(v, self.winograd_weight)  # [36, P, Cout]
            y = (self._at @ m.view(TILE_IN * TILE_IN, -1)).view(
                TILE_OUT, TILE_OUT, n, r1 - r0, tw, cout
            )
            chunk = out[:, r0:r1]
            torch.add(y.permute(2, 3, 0, 4, 1, 5), bias, out=chunk)  # scatter + bias in one pass
            if relu:
                chunk.clamp_min_(0)
        out = out.view(n, TILE_OUT * th, TILE_OUT * tw, cout)
        if TILE_OUT * th != h or TILE_OUT * tw != w:
            out = out[:, :h, :w].contiguous()
        return out.permute(0, 3, 1, 2)  # channels-last memory


def _is_relu(activation) -> bool:
    return activation is F.relu or isinstance(activation, nn.ReLU)


def replace_with_winograd(model: nn.Module, min_channels: int = MIN_CHANNELS) -> int:
    """Replaces every eligible 3x3 conv of `model` in place; returns the number replaced."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if child is not None and is_winograd_eligible(child, min_channels):
                parent._modules[name] = WinogradConv2d(child)
                replaced += 1
    return replaced


def winograd_conv(x: torch.Tensor, conv: Optional[nn.Conv2d] = None) -> torch.Tensor:
    """Winograd output of `conv` on `x` (for tests and benchmarks)."""
    return WinogradConv2d(conv)._winograd(x)
