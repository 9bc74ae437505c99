"""Guards of an optimized model: its weights are folded, so it must not be trained, what it
saves is not a training checkpoint, and no weights can be loaded into it (the batch norms were
folded into the old weights: new ones would give wrong outputs).

`optimize_for_inference` swaps the model's class for a subclass made here (one per original
class, registered in this module so that `torch.save(model)` can still pickle it).
"""

import sys
import warnings
from typing import Dict

from torch import nn

__all__ = [
    "InferenceOnlyError",
    "OptimizedForInference",
    "guard_loading",
    "is_optimized",
    "mark_optimized",
]

NOT_A_CHECKPOINT = (
    "this model was optimized for inference (batch norms folded into the convolutions): its state "
    "dict is not a training checkpoint and cannot be loaded into a freshly built model"
)


LOAD_REFUSED = (
    "cannot load weights into {name}: the model was optimized for inference (batch norms folded "
    "into its convolutions), so loaded weights would give wrong outputs; load the weights into "
    "the plain model (build_model(cfg) + DensePoseCheckpointer) and optimize it afterwards"
)


class InferenceOnlyError(RuntimeError):
    """Training, `train()` or loading weights was requested on a model optimized for inference."""


class OptimizedForInference:
    """Mixin placed before the model's own class."""

    _densepose_optimized = True

    def train(self, mode: bool = True):
        if mode:
            raise InferenceOnlyError(
                f"{type(self).__name__} was optimized for inference (weights folded): it cannot "
                "be trained; build a new model with build_model(cfg) and load the checkpoint"
            )
        return super().train(False)

    def forward(self, *args, **kwargs):
        if self.training:
            raise InferenceOnlyError(
                f"training forward on {type(self).__name__}, which was optimized for inference"
            )
        return super().forward(*args, **kwargs)

    def state_dict(self, *args, **kwargs):
        warnings.warn(NOT_A_CHECKPOINT, UserWarning, stacklevel=2)
        return super().state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        raise InferenceOnlyError(LOAD_REFUSED.format(name=type(self).__name__))

    def __reduce_ex__(self, protocol):
        warnings.warn(NOT_A_CHECKPOINT, UserWarning, stacklevel=2)
        reduced = super().__reduce_ex__(protocol)
        # rebuilt from the original class, so that another process can load it too
        base = _original_class(type(self))
        return (_new_optimized, (base,)) + tuple(reduced[2:])


_CLASSES: Dict[type, type] = {}


def _optimized_class(cls: type) -> type:
    if cls not in _CLASSES:
        name = f"Optimized{cls.__name__}"
        new = type(name, (OptimizedForInference, cls), {"__module__": __name__})
        new.__qualname__ = name
        setattr(sys.modules[__name__], name, new)  # importable by name: picklable
        _CLASSES[cls] = new
    return _CLASSES[cls]


def _original_class(cls: type) -> type:
    return next(c for c in cls.__mro__ if c is not cls and not issubclass(c, OptimizedForInference))


def _new_optimized(base: type):
    """Unpickling: an empty instance of the optimized subclass of `base`."""
    return object.__new__(_optimized_class(base))


def is_optimized(model: nn.Module) -> bool:
    return isinstance(model, OptimizedForInference)


def refuse_load(module: nn.Module, *args) -> None:
    """Load-state-dict pre-hook: `model.backbone.load_state_dict(...)` raises as well."""
    raise InferenceOnlyError(LOAD_REFUSED.format(name=type(module).__name__))


def mark_optimized(model: nn.Module) -> nn.Module:
    """Puts `model` (and all submodules) in eval mode and swaps in the guarded class."""
    model.eval()
    if not is_optimized(model):
        model.__class__ = _optimized_class(type(model))
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def guard_loading(model: nn.Module) -> nn.Module:
    """Every submodule of `model` refuses `load_state_dict` (call after the last module swap)."""
    for module in model.modules():
        if not getattr(module, "_densepose_refuses_load", False):
            module.register_load_state_dict_pre_hook(refuse_load)
            module._densepose_refuses_load = True
    return model
