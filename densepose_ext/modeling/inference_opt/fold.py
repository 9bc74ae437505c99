"""Batch-norm folding: a frozen (or eval-mode) batch norm after a conv is an affine map per
channel, so it can be merged into the conv's weight and bias and skipped at run time."""

import re
from typing import Optional, Tuple

import torch
from detectron2.layers import Conv2d as D2Conv2d
from detectron2.layers import FrozenBatchNorm2d
from torch import nn

__all__ = ["fold_batch_norms", "is_foldable_norm"]

_NORMS = (FrozenBatchNorm2d, nn.BatchNorm2d)
_PAIR_NAME = re.compile(r"^conv(\d*)$")


def is_foldable_norm(module: Optional[nn.Module]) -> bool:
    """Frozen batch norm, or a batch norm that uses its running statistics (no GroupNorm)."""
    if isinstance(module, FrozenBatchNorm2d):
        return True
    return (
        isinstance(module, nn.BatchNorm2d)
        and not isinstance(module, nn.SyncBatchNorm)
        and module.track_running_stats
        and module.running_var is not None
    )


def _norm_scale_shift(norm: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) with norm(x) = x * scale + shift per channel, in float64."""
    var = norm.running_var.double()
    mean = norm.running_mean.double()
    weight = norm.weight.double() if norm.weight is not None else torch.ones_like(var)
    bias = norm.bias.double() if norm.bias is not None else torch.zeros_like(var)
    scale = weight * torch.rsqrt(var + norm.eps)
    return scale, bias - mean * scale


@torch.no_grad()
def _fold_into(conv: nn.Module, norm: nn.Module) -> None:
    scale, shift = _norm_scale_shift(norm)
    # output channels: dim 0 of a conv weight, dim 1 of a transposed conv's [in, out, k, k]
    shape = (1, -1, 1, 1) if isinstance(conv, nn.ConvTranspose2d) else (-1, 1, 1, 1)
    weight = conv.weight.double() * scale.view(shape)
    bias = shift if conv.bias is None else conv.bias.double() * scale + shift
    conv.weight = nn.Parameter(weight.to(conv.weight.dtype), requires_grad=False)
    conv.bias = nn.Parameter(bias.to(conv.weight.dtype), requires_grad=False)


def _fold_sequential(seq: nn.Sequential) -> int:
    folded = 0
    names = list(seq._modules)
    for first, second in zip(names, names[1:]):
        conv, norm = seq._modules[first], seq._modules[second]
        convolution = isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and conv.groups == 1
        if convolution and is_foldable_norm(norm) and _plain(conv):
            _fold_into(conv, norm)
            seq._modules[second] = nn.Identity()
            folded += 1
    return folded


def _plain(conv: nn.Conv2d) -> bool:
    """A conv whose output goes straight to the next layer (no norm / activation of its own)."""
    return getattr(conv, "norm", None) is None and getattr(conv, "activation", None) is None


def _fold_named_pairs(module: nn.Module) -> int:
    """`convK` followed by `bnK` attributes (torchvision / HRNet blocks apply bnK(convK(x)))."""
    folded = 0
    for name, conv in list(module._modules.items()):
        match = _PAIR_NAME.match(name)
        if match is None or not isinstance(conv, nn.Conv2d) or not _plain(conv):
            continue
        norm_name = f"bn{match.group(1)}"
        norm = module._modules.get(norm_name)
        if is_foldable_norm(norm):
            _fold_into(conv, norm)
            module._modules[norm_name] = nn.Identity()
            folded += 1
    return folded


def fold_batch_norms(model: nn.Module) -> int:
    """Folds every conv -> batch norm pair of `model` in place; returns the number folded.

    Handles detectron2 `Conv2d(norm=FrozenBatchNorm2d | BatchNorm2d)` (ResNet, FPN with BN),
    `nn.Sequential(conv or transposed conv, bn, ...)` and `convK` / `bnK` attribute pairs
    (HRNet blocks and stem).
    GroupNorm depends on the input and is left alone.
    """
    folded = 0
    for module in list(model.modules()):
        if isinstance(module, D2Conv2d) and is_foldable_norm(module.norm):
            _fold_into(module, module.norm)
            module.norm = None
            folded += 1
        elif isinstance(module, nn.Sequential):
            folded += _fold_sequential(module)
        else:
            folded += _fold_named_pairs(module)
    return folded
