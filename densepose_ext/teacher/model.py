"""`TeacherNet`: a small fully-convolutional U-Net that predicts I, U, V at every crop pixel."""

from dataclasses import asdict, dataclass
from typing import Dict, List

import torch
from torch import nn

from ..structures.constants import N_FINE_PARTS

__all__ = ["TeacherConfig", "TeacherNet", "TeacherOutput", "input_channels"]

N_LABELS = N_FINE_PARTS + 1  # 0 = background, 1..24 = parts


@dataclass
class TeacherConfig:
    """Architecture and input of the teacher (stored in its checkpoint).

    `crop_size`: side S of the person crops; `width`: channels of the first level (doubling down
    to 4x `width`, 6x at the bottom); `point_input`: also feed the person's annotated points,
    each crop pixel filled from its nearest point (distance, one-hot part, U, V), and add that
    nearest-point guess to the outputs (part logits x a learnt scale, U, V), so that the network
    learns corrections of the trivial inpainting guided by the image. Without it the teacher
    predicts from image and mask alone (the paper's teacher).
    """

    crop_size: int = 48
    width: int = 16
    point_input: bool = True

    def to_dict(self) -> Dict:
        return asdict(self)


def input_channels(config: TeacherConfig) -> int:
    """RGB + person mask (+ distance, 24 one-hot parts, U, V of the nearest annotated point)."""
    return 4 + (3 + N_FINE_PARTS if config.point_input else 0)


@dataclass
class TeacherOutput:
    """fine_segm [N, 25, S, S] logits; u, v [N, 25, S, S] per-part chart coordinates (the field
    names of the R-CNN chart outputs, so the chart loss helpers apply)."""

    fine_segm: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class TeacherNet(nn.Module):
    """U-Net with 3 poolings (S must be divisible by 8): [N, C_in, S, S] -> `TeacherOutput`."""

    def __init__(self, config: TeacherConfig):
        super().__init__()
        if config.crop_size % 8:
            raise ValueError(f"crop_size must be divisible by 8, got {config.crop_size}")
        self.config = config
        w = config.width
        widths: List[int] = [w, 2 * w, 4 * w, 6 * w]
        self.down = nn.ModuleList()
        c_in = input_channels(config)
        for c in widths:
            self.down.append(_block(c_in, c))
            c_in = c
        self.up = nn.ModuleList(
            _block(widths[k + 1] + widths[k], widths[k]) for k in reversed(range(3))
        )
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Conv2d(w, 3 * N_LABELS, 1)
        # weight of the nearest-point part one-hot added to the part logits
        self.prior_scale = nn.Parameter(torch.tensor(3.0)) if config.point_input else None

    def forward(self, inputs: torch.Tensor) -> TeacherOutput:
        x = inputs
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else self.pool(x))
            skips.append(x)
        for k, block in zip(reversed(range(3)), self.up):
            x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips[k]], dim=1))
        fine_segm, u, v = torch.split(self.head(x), N_LABELS, dim=1)
        if self.prior_scale is not None:
            # input channels: RGB, mask, distance, one-hot parts 1..24, U, V
            prior = inputs[:, 5 : 5 + N_FINE_PARTS]
            zero = torch.zeros_like(prior[:, :1])
            fine_segm = fine_segm + self.prior_scale * torch.cat([zero, prior], dim=1)
            u = u + inputs[:, 5 + N_FINE_PARTS : 6 + N_FINE_PARTS]
            v = v + inputs[:, 6 + N_FINE_PARTS : 7 + N_FINE_PARTS]
        return TeacherOutput(fine_segm, u, v)
