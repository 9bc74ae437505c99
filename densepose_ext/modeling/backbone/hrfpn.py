"""HRFPN: turns the parallel HRNet branches into an FPN-like pyramid p1..pN (strides 4 * 2**i).

Every branch is brought to stride 4 by a learned transposed conv, the branches are concatenated,
and each pyramid level is produced from the concatenation by one strided conv (kernel = stride =
2**i) followed by a 3x3 output conv. Parameter names: `bottom_up.*`, `interp_conv.<b>.{0,1}`,
`reduction_pooling_conv.<i>.{0,1}`, `fpn_conv.<i>`.
"""

from typing import Dict, List, Sequence

import torch
from detectron2.config import CfgNode
from detectron2.layers import ShapeSpec
from detectron2.modeling.backbone import BACKBONE_REGISTRY, Backbone
from torch import nn

from .hrnet import BN_MOMENTUM, build_pose_hrnet_backbone

__all__ = ["HRFPN", "build_hrfpn_backbone"]


def _interp_conv(channels: int, scale: int) -> nn.Sequential:
    """Upsamples a branch of stride 4 * `scale` to stride 4 (output side (n - 1) * scale + 4)."""
    return nn.Sequential(
        nn.ConvTranspose2d(channels, channels, kernel_size=4, stride=scale, bias=False),
        nn.BatchNorm2d(channels, momentum=BN_MOMENTUM),
        nn.ReLU(inplace=True),
    )


def _reduction_pooling_conv(in_channels: int, out_channels: int, scale: int) -> nn.Sequential:
    """Channel reduction and pooling by `scale` in one conv (kernel = stride = scale, with bias)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=scale, stride=scale),
        nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM),
        nn.ReLU(inplace=True),
    )


class HRFPN(Backbone):
    """Pyramid of `num_levels` maps `p1..p<num_levels>` with `out_channels` channels each.

    `p<i+1>` has stride 4 * 2**i relative to the image. The bottom-up branches named by
    `in_features` must have strides 4, 8, 16, ... in that order.
    """

    def __init__(
        self,
        bottom_up: Backbone,
        in_features: Sequence[str],
        num_levels: int,
        out_channels: int = 256,
    ):
        super().__init__()
        bottom_up_shapes = bottom_up.output_shape()
        missing = [f for f in in_features if f not in bottom_up_shapes]
        if missing:
            raise ValueError(f"HRFPN: bottom-up backbone has no features {missing}")
        self.bottom_up = bottom_up
        self.in_features = list(in_features)
        in_channels = [bottom_up_shapes[f].channels for f in self.in_features]
        self.interp_conv = nn.ModuleList(_interp_conv(c, 2**b) for b, c in enumerate(in_channels))
        self.reduction_pooling_conv = nn.ModuleList(
            _reduction_pooling_conv(sum(in_channels), out_channels, 2**i) for i in range(num_levels)
        )
        self.fpn_conv = nn.ModuleList(
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
            for _ in range(num_levels)
        )
        self._out_features = [f"p{i + 1}" for i in range(num_levels)]
        self._out_feature_channels = {f: out_channels for f in self._out_features}
        self._out_feature_strides = {f: 4 * 2**i for i, f in enumerate(self._out_features)}
        self._init_weights()

    def _init_weights(self) -> None:
        for module in (self.reduction_pooling_conv, self.fpn_conv):
            for m in module.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, a=1)
                    nn.init.zeros_(m.bias)

    def _stride4_concat(self, branches: List[torch.Tensor]) -> torch.Tensor:
        """All branches upsampled to stride 4, cropped to the smallest, concatenated:
        [B, ΣC, h, w]."""
        upsampled = [conv(x) for conv, x in zip(self.interp_conv, branches)]
        height = min(u.shape[2] for u in upsampled)
        width = min(u.shape[3] for u in upsampled)
        return torch.cat([u[:, :, :height, :width] for u in upsampled], dim=1)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """x: [B, 3, H, W] -> {"p<i+1>": [B, out_channels, h_i, w_i]} with h_i = h_last *
        2**(L-1-i)."""
        bottom_up_features = self.bottom_up(x)
        concat = self._stride4_concat([bottom_up_features[f] for f in self.in_features])
        levels = [conv(concat) for conv in self.reduction_pooling_conv]
        # crop finer levels to exactly 2**k times the coarsest one
        last_h, last_w = levels[-1].shape[2:]
        num_levels = len(levels)
        levels = [
            level[:, :, : last_h * 2 ** (num_levels - 1 - i), : last_w * 2 ** (num_levels - 1 - i)]
            for i, level in enumerate(levels)
        ]
        outputs = [conv(level) for conv, level in zip(self.fpn_conv, levels)]
        return dict(zip(self._out_features, outputs))


@BACKBONE_REGISTRY.register()
def build_hrfpn_backbone(cfg: CfgNode, input_shape: ShapeSpec) -> HRFPN:
    """HRNet + HRFPN; one pyramid level per entry of `MODEL.ROI_HEADS.IN_FEATURES`.

    Widths from `MODEL.HRNET.*`, output channels from `MODEL.HRNET.HRFPN.OUT_CHANNELS`.
    """
    hrnet = build_pose_hrnet_backbone(cfg, input_shape)
    in_features = [f"p{b + 1}" for b in range(cfg.MODEL.HRNET.STAGE4.NUM_BRANCHES)]
    return HRFPN(
        hrnet,
        in_features,
        num_levels=len(cfg.MODEL.ROI_HEADS.IN_FEATURES),
        out_channels=cfg.MODEL.HRNET.HRFPN.OUT_CHANNELS,
    )
