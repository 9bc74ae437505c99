"""Panoptic-FPN style decoder: fuses several FPN levels into one map at the finest in-feature
stride."""

import math
from typing import Dict, List

import fvcore.nn.weight_init as weight_init
import torch
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from torch import nn
from torch.nn import functional as F

__all__ = ["Decoder"]


class Decoder(nn.Module):
    """One branch per in-feature (submodule named after the feature, e.g. `p3`) + a 1x1 predictor.

    Branch for a feature of stride s: max(1, log2(s) - log2(COMMON_STRIDE)) blocks of
    3x3 conv (+norm) + ReLU, each followed by a x2 bilinear upsample unless s == COMMON_STRIDE.
    Branch outputs are summed in in-feature order, then `predictor` maps DECODER_CONV_DIMS to
    DECODER_NUM_CLASSES channels. Input: list of [B, C_f, H_f, W_f]; output [B, NUM_CLASSES, H0, W0]
    at the resolution of the first in-feature.
    """

    def __init__(self, cfg, input_shape: Dict[str, ShapeSpec], in_features: List[str]):
        super().__init__()
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        conv_dims = head_cfg.DECODER_CONV_DIMS
        common_stride = head_cfg.DECODER_COMMON_STRIDE
        norm = head_cfg.DECODER_NORM
        self.in_features = list(in_features)
        self.scale_heads = []
        for name in self.in_features:
            stride = input_shape[name].stride
            num_blocks = max(1, int(math.log2(stride) - math.log2(common_stride)))
            ops = []
            for k in range(num_blocks):
                conv = Conv2d(
                    input_shape[name].channels if k == 0 else conv_dims,
                    conv_dims,
                    kernel_size=3,
                    stride=1,
                    padding=1,
                    bias=not norm,
                    norm=get_norm(norm, conv_dims),
                    activation=F.relu,
                )
                weight_init.c2_msra_fill(conv)
                ops.append(conv)
                if stride != common_stride:
                    ops.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
            branch = nn.Sequential(*ops)
            self.add_module(name, branch)  # key prefix = feature name
            self.scale_heads.append(branch)
        self.predictor = Conv2d(
            conv_dims, head_cfg.DECODER_NUM_CLASSES, kernel_size=1, stride=1, padding=0
        )
        weight_init.c2_msra_fill(self.predictor)

    def forward(self, features: List[torch.Tensor]) -> torch.Tensor:
        x = self.scale_heads[0](features[0])
        for branch, feature in zip(self.scale_heads[1:], features[1:]):
            x = x + branch(feature)
        return self.predictor(x)
