"""Reduced-precision (fp16 / bf16) export: the convolutional bodies in low precision, the rest fp32.

Backbone, box head, decoder, DensePose head and predictor hold their weights in the low dtype and
cast their inputs to it; their outputs are cast back to float32. Pixel normalisation, RPN, box
regression, score thresholding, NMS and every output stay float32, so boxes and detections do not
depend on half-precision rounding of coordinates.
"""

from typing import Any

import torch
from torch import nn

__all__ = ["DTYPES", "cast_bodies", "low_precision_modules"]

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _cast_tensors(value: Any, dtype: torch.dtype) -> Any:
    """Casts floating tensors in `value` (tensor, list, tuple or dict) to `dtype`."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, dict):
        return {k: _cast_tensors(v, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_tensors(v, dtype) for v in value)
    return value


def low_precision_modules(model: nn.Module) -> dict:
    """name -> module of the parts that run in reduced precision (those that exist in `model`)."""
    roi_heads = model.roi_heads
    candidates = {
        "backbone": model.backbone,
        "roi_heads.box_head": getattr(roi_heads, "box_head", None),
        "roi_heads.decoder": getattr(roi_heads, "decoder", None)
        if getattr(roi_heads, "use_decoder", False)
        else None,
        "roi_heads.densepose_head": getattr(roi_heads, "densepose_head", None),
        "roi_heads.densepose_predictor": getattr(roi_heads, "densepose_predictor", None),
    }
    return {name: module for name, module in candidates.items() if module is not None}


def cast_bodies(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Puts the bodies of `model` (in place) in `dtype`, with casting hooks around each.

    The predictor's dataclass output is left in `dtype`; the export module casts its fields.
    Returns `model`. float32 is a no-op.
    """
    if dtype == torch.float32:
        return model
    for name, module in low_precision_modules(model).items():
        module.to(dtype)
        module.register_forward_pre_hook(lambda _m, args, dt=dtype: _cast_tensors(args, dt))
        if name != "roi_heads.densepose_predictor":
            module.register_forward_hook(lambda _m, _args, out: _cast_tensors(out, torch.float32))
    return model
