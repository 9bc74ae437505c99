"""`optimize_for_inference`: the fast inference path of a DensePose model, in place."""

import logging
from typing import Optional

from torch import nn

from .channels_last import to_channels_last
from .fold import fold_batch_norms
from .guards import guard_loading, is_optimized, mark_optimized
from .int8 import Calibration, apply_int8, check_int8, is_int8
from .winograd import MIN_CHANNELS, replace_with_winograd

__all__ = ["optimize_for_inference"]

logger = logging.getLogger(__name__)


def _model_device_type(model: nn.Module) -> str:
    param = next(model.parameters(), None)
    return "cpu" if param is None else param.device.type


def optimize_for_inference(
    model: nn.Module,
    *,
    channels_last: bool = True,
    winograd: Optional[bool] = None,
    winograd_min_channels: int = MIN_CHANNELS,
    precision: str = "fp32",
    calibration: Optional[Calibration] = None,
) -> nn.Module:
    """Makes a model built by `build_model` (weights loaded) faster for inference, in place.

    Folds batch norms into the convolutions, converts the weights to channels-last and, on CPU
    (`winograd=None` means: when the model is on the CPU), runs the wide 3x3 convolutions with
    Winograd F(4x4, 3x3). Outputs agree with the plain model within float32 rounding (see
    `agreement.py`). Afterwards the model is in eval mode, `train()` and a training forward raise
    `InferenceOnlyError`, as does loading weights into it or any of its modules
    (`load_state_dict`, a checkpointer), and `state_dict()` / pickling warn that it is not a
    training checkpoint. Calling it again does nothing. Returns `model`.

    `precision="int8"` (CPU) also quantizes the backbone, decoder and conv head (`int8.py`),
    calibrated on `calibration` (model inputs) or loaded from parts saved earlier; it raises
    `Int8Error` where int8 cannot run. It may follow an earlier float32 optimization.
    """
    if precision not in ("fp32", "int8"):
        raise ValueError(f"precision must be 'fp32' or 'int8', got {precision!r}")
    if precision == "int8" and not is_int8(model):
        check_int8(model, calibration)  # before anything changes
    if is_optimized(model):
        if precision == "int8":
            apply_int8(model, calibration)
            guard_loading(model)  # the int8 modules swapped in refuse loads too
        return model
    mark_optimized(model)  # eval mode first: batch norms then use their running statistics
    folded = fold_batch_norms(model)
    if precision == "int8":
        apply_int8(model, calibration)
    if winograd is None:
        winograd = _model_device_type(model) == "cpu"
    replaced = replace_with_winograd(model, winograd_min_channels) if winograd else 0
    if channels_last:
        to_channels_last(model)
    guard_loading(model)  # after the last module swap
    logger.info(
        f"optimized for inference: {folded} batch norm(s) folded, {replaced} Winograd conv(s), "
        f"channels-last {'on' if channels_last else 'off'}"
    )
    return model
