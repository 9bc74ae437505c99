"""Batch-norm folding: a frozen (or eval-mode) batch norm after a conv is an affine map per
channel, so it can be merged into the conv's weight and bias and skipped at run time.

A pair is folded only where the order is proven, never guessed from names: inside detectron2's
`Conv2d(norm=...)` (conv, then norm, by its type), in an `nn.Sequential` whose forward is its
type's (each child feeds the next), or where an FX trace of the forward of the module that owns
both shows the norm applied to the conv's output and that output used nowhere else. A module
whose forward cannot be traced keeps its batch norms (correct, only slower).
"""

import logging
from collections import Counter
from typing import Dict, Optional, Tuple

import torch
from detectron2.layers import Conv2d as D2Conv2d
from detectron2.layers import FrozenBatchNorm2d
from torch import fx, nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["fold_batch_norms", "is_foldable_norm"]

logger = logging.getLogger(__name__)

# forwards known to compute exactly conv(x) (plus detectron2's own norm / activation)
_CONV_FORWARDS = (nn.Conv2d.forward, nn.ConvTranspose2d.forward, D2Conv2d.forward)
_NORM_FORWARDS = (_BatchNorm.forward, FrozenBatchNorm2d.forward)


def is_foldable_norm(module: Optional[nn.Module]) -> bool:
    """Frozen batch norm, or a 2-d batch norm in eval mode that uses its running statistics (and
    no forward hooks)."""
    if module is None or type(module).forward not in _NORM_FORWARDS or _has_hooks(module):
        return False
    if isinstance(module, FrozenBatchNorm2d):
        return True
    return (
        isinstance(module, nn.BatchNorm2d)
        and not isinstance(module, nn.SyncBatchNorm)
        and not module.training
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


def _has_hooks(module: nn.Module) -> bool:
    """Forward hooks see (or change) the values that folding would change: left alone."""
    return bool(module._forward_hooks or module._forward_pre_hooks)


def _is_plain_conv(module: nn.Module) -> bool:
    """A conv whose forward is the plain convolution (no norm / activation of its own)."""
    if type(module).forward not in _CONV_FORWARDS or _has_hooks(module):
        return False
    if getattr(module, "norm", None) is not None or getattr(module, "activation", None) is not None:
        return False
    # a grouped transposed conv's weight is [in, out / groups, k, k]: not scaled per out channel
    return not isinstance(module, nn.ConvTranspose2d) or module.groups == 1


def _is_d2_conv_with_norm(module: nn.Module) -> bool:
    return type(module).forward is D2Conv2d.forward and is_foldable_norm(module.norm)


class _ChildrenAsLeaves(fx.Tracer):
    """Traces one module's own forward; every submodule call is one node."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return True


def _trace(owner: nn.Module) -> Optional[fx.Graph]:
    """The graph of `owner.forward`, or None where it has data-dependent control flow (or any
    other construct FX cannot trace). Attributes the forward sets are restored afterwards."""
    saved = {
        "__dict__": dict(owner.__dict__),
        "_parameters": dict(owner._parameters),
        "_buffers": dict(owner._buffers),
        "_modules": dict(owner._modules),
    }
    try:
        return _ChildrenAsLeaves(autowrap_modules=()).trace(owner)
    except Exception as e:  # TraceError, TypeError, NameError, ...: not readable, not folded
        logger.debug(f"batch norms of {type(owner).__name__} not folded (not traceable: {e})")
        return None
    finally:
        owner.__dict__.clear()
        owner.__dict__.update(saved["__dict__"])
        for key in ("_parameters", "_buffers", "_modules"):
            getattr(owner, key).clear()
            getattr(owner, key).update(saved[key])


def _proven_pairs(graph: fx.Graph) -> Dict[str, str]:
    """{conv child name: norm child name} where the norm's only input is the conv's output, the
    conv's output has no other user and both are called once."""
    calls = Counter(n.target for n in graph.nodes if n.op == "call_module")
    pairs = {}
    for node in graph.nodes:
        if node.op != "call_module" or node.kwargs or len(node.args) != 1:
            continue
        source = node.args[0]
        if not isinstance(source, fx.Node) or source.op != "call_module":
            continue
        conv, norm = source.target, node.target
        if "." in conv or "." in norm or calls[conv] != 1 or calls[norm] != 1:
            continue
        if len(source.users) == 1:
            pairs[conv] = norm
    return pairs


def _sequential_pairs(seq: nn.Sequential) -> Dict[str, str]:
    """nn.Sequential's own forward feeds each child's output to the next child only."""
    names = list(seq._modules)
    return dict(zip(names, names[1:]))


def _fold_traced_pairs(owner: nn.Module, shared: Counter) -> int:
    children = owner._modules
    convs = {n for n, m in children.items() if m is not None and _is_plain_conv(m)}
    norms = {n for n, m in children.items() if is_foldable_norm(m)}
    if not convs or not norms:
        return 0
    if type(owner).forward is nn.Sequential.forward:  # the data flow is the type's: no trace
        pairs = _sequential_pairs(owner)
    else:
        graph = _trace(owner)
        if graph is None:
            return 0
        pairs = _proven_pairs(graph)
    folded = 0
    for conv_name, norm_name in pairs.items():
        conv = children[conv_name]
        # a conv reached under a second name is used elsewhere too: its weights must stay
        if conv_name in convs and norm_name in norms and shared[id(conv)] == 1:
            _fold_into(conv, children[norm_name])
            children[norm_name] = nn.Identity()
            folded += 1
    return folded


def fold_batch_norms(model: nn.Module) -> int:
    """Folds every proven conv -> batch norm pair of `model` in place; returns the number folded.

    Proven pairs: detectron2 `Conv2d(norm=FrozenBatchNorm2d | BatchNorm2d)` (ResNet, FPN with
    BN), and a conv / transposed conv child followed by a batch-norm child of the same module in
    the FX trace of that module's forward (`nn.Sequential`, HRNet blocks and stem, a user's own
    blocks). Batch norms in training mode, GroupNorm (input-dependent), convs or norms of other
    types (their forward may not be the plain one) and modules with forward hooks are left alone.
    """
    shared = Counter(id(m) for _, m in model.named_modules(remove_duplicate=False))
    folded = 0
    for module in list(model.modules()):
        if _is_d2_conv_with_norm(module):
            _fold_into(module, module.norm)
            module.norm = None
            folded += 1
        else:
            folded += _fold_traced_pairs(module, shared)
    return folded
