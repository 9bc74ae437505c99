"""High-resolution network (pose HRNet, all four stages, no final layer) as a detectron2 backbone.

Parameter names follow the original pose HRNet so that its ImageNet / pose checkpoints load after
the `backbone.bottom_up.` prefix is added: `conv1 bn1 conv2 bn2 layer1 transition{1,2,3}
stage{2,3,4}`; inside a stage `<k>.branches.<b>.<n>.*` and `<k>.fuse_layers.<i>.<j>.*`.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Type, Union

import torch
from detectron2.config import CfgNode
from detectron2.layers import ShapeSpec
from detectron2.modeling.backbone import BACKBONE_REGISTRY, Backbone
from torch import nn

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "HighResolutionModule",
    "HRNetStageSpec",
    "PoseHRNet",
    "build_pose_hrnet_backbone",
]

BN_MOMENTUM = 0.1


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection; output channels = `planes`."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = _bn(planes)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = _bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 residual block; output channels = 4 * `planes`."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = _bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = _bn(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


Block = Type[Union[BasicBlock, Bottleneck]]
BLOCKS: Dict[str, Block] = {"BASIC": BasicBlock, "BOTTLENECK": Bottleneck}


def make_residual_layer(block: Block, inplanes: int, planes: int, num_blocks: int) -> nn.Sequential:
    """`num_blocks` blocks at stride 1;
    the first gets a 1x1 conv + BN shortcut if channels change."""
    downsample = None
    if inplanes != planes * block.expansion:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * block.expansion, 1, bias=False),
            _bn(planes * block.expansion),
        )
    layers = [block(inplanes, planes, downsample=downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, num_blocks)]
    return nn.Sequential(*layers)


def _fuse_upsample(in_channels: int, out_channels: int, scale: int) -> nn.Sequential:
    """Lower resolution -> higher: 1x1 conv, BN, nearest upsampling by `scale`."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        _bn(out_channels),
        nn.Upsample(scale_factor=scale, mode="nearest"),
    )


def _fuse_downsample(in_channels: int, out_channels: int, num_steps: int) -> nn.Sequential:
    """Higher resolution -> lower: `num_steps` stride-2 3x3 conv + BN (ReLU on all but the last)."""
    steps = []
    for step in range(num_steps):
        last = step == num_steps - 1
        step_out = out_channels if last else in_channels
        layers = [_conv3x3(in_channels, step_out, stride=2), _bn(step_out)]
        if not last:
            layers.append(nn.ReLU(inplace=True))
        steps.append(nn.Sequential(*layers))
    return nn.Sequential(*steps)


class HighResolutionModule(nn.Module):
    """Parallel residual branches (one per resolution) followed by all-to-all fusion.

    Branch `b` works at stride 4 * 2**b relative to the image. With `multi_scale_output=False`
    only the highest-resolution fused output is produced.
    """

    def __init__(
        self,
        block: Block,
        num_blocks: Sequence[int],
        in_channels: Sequence[int],
        num_channels: Sequence[int],
        fuse_method: str = "SUM",
        multi_scale_output: bool = True,
    ):
        super().__init__()
        num_branches = len(num_channels)
        if not (len(num_blocks) == len(in_channels) == num_branches):
            raise ValueError(
                f"HRNet module: NUM_BLOCKS {list(num_blocks)}, input channels {list(in_channels)} "
                f"and NUM_CHANNELS {list(num_channels)} must have the same length"
            )
        if fuse_method != "SUM":
            raise ValueError(f"HRNet module: unsupported FUSE_METHOD {fuse_method!r} (only 'SUM')")
        self.num_branches = num_branches
        self.multi_scale_output = multi_scale_output
        self.branches = nn.ModuleList(
            make_residual_layer(block, in_channels[b], num_channels[b], num_blocks[b])
            for b in range(num_branches)
        )
        self.out_channels = [c * block.expansion for c in num_channels]
        self.fuse_layers = self._make_fuse_layers() if num_branches > 1 else None
        self.relu = nn.ReLU(inplace=True)

    def _make_fuse_layers(self) -> nn.ModuleList:
        """fuse_layers[i][j] maps branch j to branch i's resolution and width (None for i == j)."""
        channels = self.out_channels
        num_outputs = self.num_branches if self.multi_scale_output else 1
        fuse_layers = nn.ModuleList()
        for i in range(num_outputs):
            row: List[Optional[nn.Module]] = []
            for j in range(self.num_branches):
                if j > i:
                    row.append(_fuse_upsample(channels[j], channels[i], 2 ** (j - i)))
                elif j < i:
                    row.append(_fuse_downsample(channels[j], channels[i], i - j))
                else:
                    row.append(None)
            fuse_layers.append(nn.ModuleList(row))
        return fuse_layers

    def forward(self, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        x = [branch(t) for branch, t in zip(self.branches, inputs)]
        if self.fuse_layers is None:
            return x
        fused = []
        for i, row in enumerate(self.fuse_layers):
            height, width = x[i].shape[-2:]
            # summed in branch order; upsampled maps are cropped (1 px larger after odd sizes)
            terms = [x[j] if j == i else row[j](x[j])[:, :, :height, :width] for j in range(len(x))]
            out = terms[0]
            for term in terms[1:]:
                out = out + term
            fused.append(self.relu(out))
        return fused


@dataclass(frozen=True)
class HRNetStageSpec:
    """One `MODEL.HRNET.STAGE<k>` node."""

    num_modules: int
    num_branches: int
    block: str
    num_blocks: Sequence[int]
    num_channels: Sequence[int]
    fuse_method: str = "SUM"

    @classmethod
    def from_config(cls, node: CfgNode) -> "HRNetStageSpec":
        return cls(
            num_modules=node.NUM_MODULES,
            num_branches=node.NUM_BRANCHES,
            block=node.BLOCK,
            num_blocks=tuple(node.NUM_BLOCKS),
            num_channels=tuple(node.NUM_CHANNELS),
            fuse_method=node.FUSE_METHOD,
        )


def make_transition_layer(prev_channels: Sequence[int], channels: Sequence[int]) -> nn.ModuleList:
    """Adapts the previous stage's branches to the next stage's; adds new lower-resolution branches.

    Existing branch b: None if widths agree, else 3x3 conv + BN + ReLU. New branch b (>= number of
    previous branches): a chain of stride-2 3x3 conv + BN + ReLU steps from the lowest previous
    branch.
    """
    num_prev = len(prev_channels)
    layers: List[Optional[nn.Module]] = []
    for b, out_channels in enumerate(channels):
        if b < num_prev:
            if prev_channels[b] == out_channels:
                layers.append(None)
            else:
                layers.append(
                    nn.Sequential(
                        _conv3x3(prev_channels[b], out_channels),
                        _bn(out_channels),
                        nn.ReLU(inplace=True),
                    )
                )
            continue
        steps = []
        in_channels = prev_channels[-1]
        for step in range(b + 1 - num_prev):
            step_out = out_channels if step == b - num_prev else in_channels
            steps.append(
                nn.Sequential(
                    _conv3x3(in_channels, step_out, stride=2), _bn(step_out), nn.ReLU(inplace=True)
                )
            )
            in_channels = step_out
        layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


def make_stage(
    spec: HRNetStageSpec, in_channels: Sequence[int], multi_scale_output: bool = True
) -> nn.Sequential:
    """`spec.num_modules` HighResolutionModules;
    only the last may drop the low-resolution outputs."""
    if spec.block not in BLOCKS:
        raise ValueError(
            f"HRNet stage: unknown BLOCK {spec.block!r}; expected one of {list(BLOCKS)}"
        )
    if len(spec.num_channels) != spec.num_branches:
        raise ValueError(
            f"HRNet stage: NUM_BRANCHES={spec.num_branches} but "
            f"NUM_CHANNELS={list(spec.num_channels)}"
        )
    block = BLOCKS[spec.block]
    modules = []
    for k in range(spec.num_modules):
        module = HighResolutionModule(
            block,
            spec.num_blocks,
            in_channels,
            spec.num_channels,
            spec.fuse_method,
            multi_scale_output=multi_scale_output or k < spec.num_modules - 1,
        )
        in_channels = module.out_channels
        modules.append(module)
    return nn.Sequential(*modules)


class PoseHRNet(Backbone):
    """HRNet: stride-4 stem, a Bottleneck layer, then stages 2..4 with 2, 3, 4 parallel branches.

    Outputs the stage-4 branches as `p1..pN`: `p<b+1>` has stride 4 * 2**b and
    `STAGE4.NUM_CHANNELS[b] * expansion` channels (input `[B, 3, H, W]`).
    """

    def __init__(
        self,
        stages: Sequence[HRNetStageSpec],
        stem_channels: int = 64,
        in_channels: int = 3,
        layer1_planes: int = 64,
        layer1_blocks: int = 4,
    ):
        super().__init__()
        if len(stages) != 3:
            raise ValueError(f"PoseHRNet expects 3 stage specs (stages 2..4), got {len(stages)}")
        self.conv1 = _conv3x3(in_channels, stem_channels, stride=2)
        self.bn1 = _bn(stem_channels)
        self.conv2 = _conv3x3(stem_channels, stem_channels, stride=2)
        self.bn2 = _bn(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_residual_layer(Bottleneck, stem_channels, layer1_planes, layer1_blocks)

        prev_channels = [layer1_planes * Bottleneck.expansion]
        self._stage_inputs = []  # branches entering stage 2, 3, 4 (static: FX-traceable forward)
        for k, spec in enumerate(stages, start=2):
            self._stage_inputs.append(len(prev_channels))
            channels = [c * BLOCKS[spec.block].expansion for c in spec.num_channels]
            self.add_module(f"transition{k - 1}", make_transition_layer(prev_channels, channels))
            stage = make_stage(spec, channels)
            self.add_module(f"stage{k}", stage)
            prev_channels = stage[-1].out_channels

        self._out_features = [f"p{b + 1}" for b in range(len(prev_channels))]
        self._out_feature_channels = dict(zip(self._out_features, prev_channels))
        self._out_feature_strides = {f: 4 * 2**b for b, f in enumerate(self._out_features)}
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _run_stage(self, k: int, prev: List[torch.Tensor]) -> List[torch.Tensor]:
        """Stage k (2..4): transition from the previous outputs, then the HR modules."""
        inputs = []
        num_prev = self._stage_inputs[k - 2]
        for b, layer in enumerate(getattr(self, f"transition{k - 1}")):
            source = prev[min(b, num_prev - 1)]
            inputs.append(source if layer is None else layer(source))
        return getattr(self, f"stage{k}")(inputs)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        outputs = [self.layer1(x)]
        for k in (2, 3, 4):
            outputs = self._run_stage(k, outputs)
        return {name: outputs[b] for b, name in enumerate(self._out_features)}


@BACKBONE_REGISTRY.register()
def build_pose_hrnet_backbone(cfg: CfgNode, input_shape: ShapeSpec) -> PoseHRNet:
    """Bare HRNet backbone configured by `MODEL.HRNET.*`; outputs p1..p4 (strides 4..32)."""
    hrnet_cfg = cfg.MODEL.HRNET
    stages = [HRNetStageSpec.from_config(getattr(hrnet_cfg, f"STAGE{k}")) for k in (2, 3, 4)]
    return PoseHRNet(
        stages, stem_channels=hrnet_cfg.STEM_INPLANES, in_channels=input_shape.channels or 3
    )
