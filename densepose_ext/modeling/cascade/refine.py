"""Second-stage refinement units and the mask / keypoint predictors that follow them.

A refinement unit sees its branch's stage-1 features and the cross-cascade features resampled to
the branch's resolution, concatenated, and applies REFINE_NUM_CONVS 3x3 conv + ReLU layers of
REFINE_CONV_DIM channels. The DensePose branch then uses a second predictor of the configured type
(so `pred_densepose` keeps its structure); the mask branch a 1x1 conv to mask logits; the
keypoint branch detectron2's transposed conv + 2x bilinear upsampling to heatmaps.
"""

import torch
from detectron2.layers import Conv2d, ConvTranspose2d
from torch import nn
from torch.nn import functional as F

from ..heads.v1convx import initialize_module_params
from .block import resample

__all__ = ["RefinementUnit", "MaskStage2Predictor", "KeypointStage2Predictor"]


class RefinementUnit(nn.Module):
    """Convs `refine_conv1..N` on concat(branch features, resampled cascade features)."""

    def __init__(self, in_channels: int, num_convs: int, conv_dim: int):
        super().__init__()
        self.num_convs = num_convs
        channels = in_channels
        for i in range(num_convs):
            conv = Conv2d(channels, conv_dim, kernel_size=3, padding=1)
            self.add_module(f"refine_conv{i + 1}", conv)
            channels = conv_dim
        self.out_channels = channels
        initialize_module_params(self)

    def forward(self, branch_features: torch.Tensor, cascade_features: torch.Tensor):
        x = torch.cat([branch_features, resample(cascade_features, branch_features.shape[-1])], 1)
        for i in range(self.num_convs):
            x = F.relu(getattr(self, f"refine_conv{i + 1}")(x))
        return x


class MaskStage2Predictor(nn.Module):
    """1x1 conv to `num_classes` mask logits (the features are already at the mask output size)."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.predictor = Conv2d(in_channels, num_classes, kernel_size=1)
        nn.init.normal_(self.predictor.weight, std=0.001)
        nn.init.constant_(self.predictor.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(x)


class KeypointStage2Predictor(nn.Module):
    """Transposed conv (kernel 4, stride 2) to heatmaps, then bilinear upsampling by `up_scale`."""

    def __init__(self, in_channels: int, num_keypoints: int, up_scale: int = 2):
        super().__init__()
        self.score_lowres = ConvTranspose2d(in_channels, num_keypoints, 4, stride=2, padding=1)
        nn.init.kaiming_normal_(self.score_lowres.weight, mode="fan_out", nonlinearity="relu")
        nn.init.constant_(self.score_lowres.bias, 0)
        self.up_scale = up_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.score_lowres(x)
        return F.interpolate(x, scale_factor=self.up_scale, mode="bilinear", align_corners=False)
