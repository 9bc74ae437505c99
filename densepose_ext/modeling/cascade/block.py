"""The cross-cascade block: every branch's stage-1 features and predictions on one common grid.

Each branch contributes maps of its own size (DensePose head features at the DensePose pooler
resolution and its predictions at the heatmap size, mask features and logits at 2x the mask
pooler resolution, keypoint features at the keypoint pooler resolution and heatmaps at 4x).
They are resampled to RESOLUTION x RESOLUTION, concatenated per branch, projected by a 1x1
convolution to CONV_DIM channels, summed over the branches and passed through a ReLU.
"""

from typing import Dict, List, Sequence

import torch
from detectron2.layers import Conv2d
from torch import nn
from torch.nn import functional as F

from ..heads.v1convx import initialize_module_params

__all__ = ["resample", "CrossCascadeBlock"]


def resample(x: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, size, size]: area averaging when shrinking, bilinear when growing."""
    size = int(size)  # a traced shape (export) is a 0-d tensor; ROI map sizes are constants
    if x.shape[-2:] == (size, size):
        return x
    if x.shape[-1] > size and x.shape[-2] > size:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class CrossCascadeBlock(nn.Module):
    """Combines named branches' maps; `in_channels[name]` = sum of that branch's map channels.

    Submodules `project_<name>` (1x1 conv per branch), in the order of `in_channels`.
    """

    def __init__(self, in_channels: Dict[str, int], resolution: int, conv_dim: int):
        super().__init__()
        self.resolution = resolution
        self.out_channels = conv_dim
        self.branch_names: List[str] = list(in_channels)
        for name, channels in in_channels.items():
            self.add_module(f"project_{name}", Conv2d(channels, conv_dim, kernel_size=1))
        initialize_module_params(self)

    def forward(self, maps: Dict[str, Sequence[torch.Tensor]]) -> torch.Tensor:
        """`maps[name]`: that branch's [N, C_i, H_i, W_i] maps -> [N, CONV_DIM, R, R]."""
        total = None
        for name in self.branch_names:
            stacked = torch.cat([resample(m, self.resolution) for m in maps[name]], dim=1)
            projected = getattr(self, f"project_{name}")(stacked)
            total = projected if total is None else total + projected
        return F.relu(total)
