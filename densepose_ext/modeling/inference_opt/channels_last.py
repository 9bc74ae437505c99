"""Channels-last (NHWC) memory format: oneDNN's and cuDNN's preferred layout for convolutions."""

import torch
from torch import nn

__all__ = ["to_channels_last"]


def _input_to_channels_last(module: nn.Module, args: tuple):
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last),) + tuple(args[1:])
    return None


def to_channels_last(model: nn.Module) -> nn.Module:
    """4-D weights to channels-last, and the backbone's input converted on entry (a pre-hook)."""
    model.to(memory_format=torch.channels_last)
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, nn.Module) and not getattr(backbone, "_channels_last_hook", False):
        backbone.register_forward_pre_hook(_input_to_channels_last)
        backbone._channels_last_hook = True
    return model
