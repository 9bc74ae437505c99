"""`optimize_for_inference`: the fast inference path of a DensePose model, in place."""

import logging
from typing import Optional

from torch import nn

from .channels_last import to_channels_last
from .fold import fold_batch_norms
from .guards import guard_loading, is_optimized, mark_optimized
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
) -> nn.Module:
    """Makes a model built by `build_model` (weights loaded) faster for inference, in place.

    Folds batch norms into the convolutions, converts the weights to channels-last and, on CPU
    (`winograd=None` means: when the model is on the CPU), runs the wide 3x3 convolutions with
    Winograd F(4x4, 3x3). Outputs agree with the plain model within float32 rounding (see
    `agreement.py`). Afterwards the model is in eval mode, `train()` and a training forward raise
    `InferenceOnlyError`, as does loading weights into it or any of its modules
    (`load_state_dict`, a checkpointer), and `state_dict()` / pickling warn that it is not a
    training checkpoint. Calling it again does nothing. Returns `model`.
    """
    if is_optimized(model):
        return model
    mark_optimized(model)  # eval mode first: batch norms then use their running statistics
    folded = fold_batch_norms(model)
    if winograd is None:
        winograd = _model_device_type(model) == "cpu"
    replaced = replace_with_winograd(model, winograd_min_channels) if winograd else 0
    if channels_last:
        to_channels_last(model)
    guard_loading(model)
    logger.info(
        f"optimized for inference: {folded} batch norm(s) folded, {replaced} Winograd conv(s), "
        f"channels-last {'on' if channels_last else 'off'}"
    )
    return model
