"""Post-training static int8 quantization of a DensePose model for CPU inference.

Uses PyTorch's FX graph mode quantization (`torch.ao.quantization.quantize_fx`; quantized
kernels of the `x86` engine: fbgemm / oneDNN) with per-channel symmetric int8 weights and
per-tensor uint8 activations whose ranges are the min / max seen on the calibration images
(7-bit on CPUs without VNNI). The parts quantized, each float in / float out:

* the ResNet + FPN backbone (bottom-up, lateral and output convs, the p6 max pool);
* the DensePose decoder (4 FPN levels, 3x3 conv + ReLU + bilinear upsampling, no norm);
* the `DensePoseV1ConvXHead` conv stack.

The RPN, the box head, ROI pooling, the DensePose predictor (the transposed conv and the
upsampling that give labels and U/V) and the DeepLab head (GroupNorm, dilated ASPP, non-local)
stay in float32. Batch norms must have been folded first (`fold_batch_norms`).
"""

import copy
import logging
import warnings
from typing import Dict, List, Optional, Sequence, Union

import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling.backbone import FPN, Backbone, ResNet
from detectron2.modeling.backbone.fpn import LastLevelMaxPool
from detectron2.structures import Boxes, Instances
from torch import nn
from torch.nn import functional as F

__all__ = [
    "INT8_PARTS",
    "apply_int8",
    "check_int8",
    "Int8Backbone",
    "Int8Error",
    "Int8Module",
    "int8_state",
    "int8_refusal",
    "is_int8",
    "load_int8_state",
    "quantize_int8",
]

logger = logging.getLogger(__name__)

# attribute paths of the parts that can be quantized, in forward order
INT8_PARTS = ("backbone", "roi_heads.decoder", "roi_heads.densepose_head")
ENGINES = ("x86", "fbgemm", "onednn", "qnnpack")
# detections per calibration image: enough ROIs for the head's ranges, at a fraction of the time
CALIBRATION_DETECTIONS = 16


class Int8Error(ValueError):
    """int8 was requested where it cannot run (device, model family, no calibration data)."""


def _get(model: nn.Module, path: str) -> Optional[nn.Module]:
    for name in path.split("."):
        model = getattr(model, name, None)
        if model is None:
            return None
    return model


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    *parents, name = path.split(".")
    for parent in parents:
        model = getattr(model, parent)
    setattr(model, name, module)


def _device_type(model: nn.Module) -> str:
    param = next(model.parameters(), None)
    return "cpu" if param is None else param.device.type


def int8_refusal(model: nn.Module) -> Optional[str]:
    """Why the int8 path cannot run on `model` (one line), or None when it can."""
    device = _device_type(model)
    if device != "cpu":
        return f"int8 runs on the CPU only (quantized CPU kernels); the model is on {device!r}"
    engine = torch.backends.quantized.engine
    if engine not in ENGINES:
        return (
            f"int8 needs a quantized CPU engine ({', '.join(ENGINES)}); this torch has {engine!r}"
        )
    backbone = getattr(model, "backbone", None)
    if not _backbone_supported(backbone):
        name = type(backbone).__name__
        bottom_up = getattr(backbone, "bottom_up", None)
        if bottom_up is not None:
            name += f" over {type(bottom_up).__name__}"
        return (
            f"int8 covers ResNet + FPN backbones (R_50, R_101, DL, WC, CSE configs); this model's "
            f"backbone is {name}, which int8 does not cover: run it in float32"
        )
    return None


def _backbone_supported(backbone: Optional[nn.Module]) -> bool:
    if isinstance(backbone, Int8Backbone):
        return True
    return (
        type(backbone) is FPN
        and type(backbone.bottom_up) is ResNet
        and isinstance(backbone.top_block, (LastLevelMaxPool, type(None)))
        and backbone.top_block is not None
        and backbone.top_block.in_feature == backbone._out_features[-2]
    )


def is_int8(model: nn.Module) -> bool:
    return any(isinstance(m, (Int8Module, Int8Backbone)) for m in model.modules())


# ----------------------------------------------------------------------------------------------
# float modules FX can trace


def _plain_conv(conv: nn.Conv2d) -> nn.Module:
    """A detectron2 / Winograd conv without norm as `nn.Conv2d` (+ `nn.ReLU`): FX sees the
    pattern conv -> relu and fuses it."""
    if getattr(conv, "norm", None) is not None:
        raise Int8Error(
            f"int8: a {type(conv.norm).__name__} after a convolution is not folded (only batch "
            "norms are); this part stays in float32"
        )
    plain = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        bias=conv.bias is not None,
    )
    plain.weight = nn.Parameter(conv.weight.detach().contiguous(), requires_grad=False)
    if conv.bias is not None:
        plain.bias = nn.Parameter(conv.bias.detach().clone(), requires_grad=False)
    activation = getattr(conv, "activation", None)
    if activation is None:
        return plain
    if activation is F.relu or isinstance(activation, nn.ReLU):
        return nn.Sequential(plain, nn.ReLU())
    raise Int8Error(f"int8: unsupported conv activation {activation!r}")


def _with_plain_convs(module: nn.Module) -> nn.Module:
    """A deep copy of `module` with every conv made plain (lists of modules kept in step)."""
    module = copy.deepcopy(module)
    replaced: Dict[int, nn.Module] = {}
    for parent in list(module.modules()):
        for name, child in list(parent._modules.items()):
            if isinstance(child, nn.Conv2d) and type(child) is not nn.Conv2d:
                parent._modules[name] = replaced[id(child)] = _plain_conv(child)
    for parent in module.modules():  # FPN keeps python lists of its convs
        for name, value in list(vars(parent).items()):
            if isinstance(value, list) and any(id(v) in replaced for v in value):
                setattr(parent, name, [replaced.get(id(v), v) for v in value])
    return module


class _TraceableResNetFPN(nn.Module):
    """ResNet + FPN forward without the shape asserts and dict outputs FX cannot trace.

    Returns the FPN outputs (p2 ... p6) as a tuple in `_out_features` order.
    """

    def __init__(self, fpn: FPN):
        super().__init__()
        self.fpn = _with_plain_convs(fpn)

    def forward(self, x: torch.Tensor):
        fpn, resnet = self.fpn, self.fpn.bottom_up
        features = {}
        x = resnet.stem(x)
        for name, stage in zip(resnet.stage_names, resnet.stages):
            x = stage(x)
            features[name] = x
        previous = fpn.lateral_convs[0](features[fpn.in_features[-1]])
        results = [fpn.output_convs[0](previous)]
        for idx in range(1, len(fpn.lateral_convs)):
            lateral = fpn.lateral_convs[idx](features[fpn.in_features[-idx - 1]])
            previous = lateral + F.interpolate(previous, scale_factor=2.0, mode="nearest")
            if fpn._fuse_type == "avg":
                previous = previous / 2
            results.insert(0, fpn.output_convs[idx](previous))
        results.append(F.max_pool2d(results[-1], kernel_size=1, stride=2, padding=0))
        return tuple(results)


class _TraceableDecoder(nn.Module):
    """The decoder on 4 feature maps passed as separate arguments."""

    def __init__(self, decoder: nn.Module):
        super().__init__()
        self.decoder = _with_plain_convs(decoder)

    def forward(self, f0, f1, f2, f3):
        branches = self.decoder.scale_heads
        x = branches[0](f0) + branches[1](f1)
        x = x + branches[2](f2)
        x = x + branches[3](f3)
        return self.decoder.predictor(x)


class _TraceableHead(nn.Module):
    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = _with_plain_convs(head)

    def forward(self, x):
        return self.head(x)


# ----------------------------------------------------------------------------------------------
# int8 replacements (float in, float out)


class Int8Backbone(Backbone):
    """An FPN backbone run by a quantized graph: same outputs, strides and padding rule."""

    def __init__(self, net: nn.Module, fpn: Backbone):
        super().__init__()
        self.net = net
        self._out_features = list(fpn._out_features)
        self._out_feature_strides = dict(fpn._out_feature_strides)
        self._out_feature_channels = dict(fpn._out_feature_channels)
        self._size_divisibility = fpn.size_divisibility
        self._padding_constraints = dict(fpn.padding_constraints)

    @property
    def size_divisibility(self) -> int:
        return self._size_divisibility

    @property
    def padding_constraints(self) -> Dict[str, int]:
        return self._padding_constraints

    def output_shape(self) -> Dict[str, ShapeSpec]:
        return {
            name: ShapeSpec(
                channels=self._out_feature_channels[name], stride=self._out_feature_strides[name]
            )
            for name in self._out_features
        }

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        outputs = self.net(x.contiguous(memory_format=torch.channels_last))
        return dict(zip(self._out_features, outputs))


class Int8Module(nn.Module):
    """A decoder (list of 4 maps in) or conv head ([N, C, R, R] in) run by a quantized graph."""

    def __init__(self, net: nn.Module, original: nn.Module):
        super().__init__()
        self.net = net
        self.list_input = isinstance(net, _TraceableDecoder) or hasattr(original, "scale_heads")
        self.n_out_channels = getattr(original, "n_out_channels", None)

    def forward(self, x):
        if self.list_input:
            return self.net(*[f.contiguous(memory_format=torch.channels_last) for f in x])
        if x.shape[0] == 0:  # no ROI: quantized kernels reject empty batches
            return x.new_zeros((0, self.n_out_channels, x.shape[2], x.shape[3]))
        return self.net(x.contiguous(memory_format=torch.channels_last))


def _traceable(path: str, module: nn.Module) -> Optional[nn.Module]:
    """The float module FX traces for the part at `path`, or None if that part stays float32."""
    from ..heads.v1convx import DensePoseV1ConvXHead

    try:
        if path == "backbone":
            return _TraceableResNetFPN(module)
        if path == "roi_heads.decoder" and len(getattr(module, "scale_heads", ())) == 4:
            return _TraceableDecoder(module)
        if path == "roi_heads.densepose_head" and type(module) is DensePoseV1ConvXHead:
            return _TraceableHead(module)
    except Int8Error as e:
        logger.warning(f"{path} stays in float32: {e}")
    return None


def _wrap(path: str, net: nn.Module, original: nn.Module) -> nn.Module:
    return Int8Backbone(net, original) if path == "backbone" else Int8Module(net, original)


# ----------------------------------------------------------------------------------------------
# calibration and conversion


def has_vnni() -> bool:
    """Whether the CPU has VNNI (u8 x s8 dot products without 16-bit intermediate saturation)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx512_vnni" in flags or " avx_vnni" in flags


def activation_reduce_range() -> bool:
    """7-bit activations on x86 CPUs without VNNI, where 8-bit ones can saturate the 16-bit sums
    of the AVX2 int8 kernels (as PyTorch's own x86 qconfig does); 8-bit elsewhere."""
    return torch.backends.quantized.engine in ("x86", "fbgemm", "onednn") and not has_vnni()


def _qconfig_mapping():
    """The engine's default mapping with a min/max activation observer (measured: fewer flipped
    part labels than the default histogram observer, and faster) and per-channel int8 weights."""
    from torch.ao.quantization import QConfig, get_default_qconfig_mapping
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

    qconfig = QConfig(
        activation=MinMaxObserver.with_args(
            dtype=torch.quint8, reduce_range=activation_reduce_range()
        ),
        weight=PerChannelMinMaxObserver.with_args(
            dtype=torch.qint8, qscheme=torch.per_channel_symmetric
        ),
    )
    return get_default_qconfig_mapping(torch.backends.quantized.engine).set_global(qconfig)


def _counter(calls: List[int]):
    def hook(*_):
        calls[0] += 1

    return hook


def _calibrate(model: nn.Module, inputs: Sequence[Dict], head_calls: List[int]) -> None:
    """Runs detection on every calibration input (at most `CALIBRATION_DETECTIONS` kept); an
    image where nothing is detected is run once more with a box over its central part, so that
    the head's observers see ROIs too."""
    box_predictor = getattr(model.roi_heads, "box_predictor", None)  # a list in cascades
    topk = getattr(box_predictor, "test_topk_per_image", None)
    if topk is not None:
        box_predictor.test_topk_per_image = min(topk, CALIBRATION_DETECTIONS)
    try:
        _run_calibration(model, inputs, head_calls)
    finally:
        if topk is not None:
            box_predictor.test_topk_per_image = topk


def _run_calibration(model: nn.Module, inputs: Sequence[Dict], head_calls: List[int]) -> None:
    with torch.no_grad():
        for item in inputs:
            calls = head_calls[0]
            (output,) = model.inference([item])
            if head_calls[0] == calls or len(output["instances"]) == 0:
                height, width = item["image"].shape[-2:]
                box = [0.2 * width, 0.1 * height, 0.8 * width, 0.9 * height]
                given = Instances((height, width))
                given.pred_boxes = Boxes(torch.tensor([box]))
                given.pred_classes = torch.zeros(1, dtype=torch.int64)
                given.scores = torch.ones(1)
                model.inference([item], [given], do_postprocess=False)


def _prepare(model: nn.Module, example: torch.Tensor):
    """Observed (FX-prepared) copies of the supported parts, put into `model` in place.

    Returns {path: (original module, observed graph)}.
    """
    from torch.ao.quantization.quantize_fx import prepare_fx

    qconfig = _qconfig_mapping()
    prepared = {}
    for path in INT8_PARTS:
        module = _get(model, path)
        traceable = None if module is None else _traceable(path, module)
        if traceable is None:
            continue
        observed = prepare_fx(traceable.eval(), qconfig, _example_inputs(path, model, example))
        prepared[path] = (module, observed)
        _set(model, path, _wrap(path, observed, module))
    return prepared


def _convert(model: nn.Module, prepared) -> List[str]:
    from torch.ao.quantization.quantize_fx import convert_fx

    for path, (original, observed) in prepared.items():
        _set(model, path, _wrap(path, convert_fx(observed), original))
    return list(prepared)


def quantize_int8(model: nn.Module, calibration: Sequence[Dict]) -> List[str]:
    """Quantizes the supported parts of `model` (batch norms folded, eval mode) in place.

    calibration: model inputs (`{"image": [3, H, W] float tensor, "height", "width"}`, as the
    model takes them), run once each through the whole model to set the activation ranges.
    Returns the parts quantized (attribute paths). Raises `Int8Error` (see `int8_refusal`).
    """
    refusal = int8_refusal(model)
    if refusal:
        raise Int8Error(refusal)
    if len(calibration) == 0:
        raise Int8Error("int8 calibration needs at least one image")
    prepared = _prepare(model, calibration[0]["image"][None].float())
    head_calls = [0]
    hooks = [
        observed.register_forward_hook(_counter(head_calls))
        for path, (_, observed) in prepared.items()
        if path == "roi_heads.densepose_head"
    ]
    try:
        _calibrate(model, calibration, head_calls)
    finally:
        for hook in hooks:
            hook.remove()
    parts = _convert(model, prepared)
    logger.info(f"int8: quantized {', '.join(parts)} on {len(calibration)} calibration images")
    return parts


def _example_inputs(path: str, model: nn.Module, image: torch.Tensor) -> tuple:
    """Inputs of the right rank for FX's example_inputs (values do not matter)."""
    if path == "backbone":
        return (image,)
    if path == "roi_heads.decoder":
        return tuple(torch.zeros(1, c.in_channels, 8, 8) for c in _first_convs(_get(model, path)))
    head = _get(model, path)
    first = next(m for m in head.modules() if isinstance(m, nn.Conv2d))
    return (torch.zeros(1, first.in_channels, 14, 14),)


def _first_convs(decoder: nn.Module) -> List[nn.Conv2d]:
    return [next(m for m in b.modules() if isinstance(m, nn.Conv2d)) for b in decoder.scale_heads]


def int8_state(model: nn.Module) -> Dict[str, Dict[str, torch.Tensor]]:
    """The state dicts of the quantized parts of `model` by attribute path (quantized weights,
    activation scales and zero points): what `load_int8_state` takes back. (Quantized modules
    do not survive pickling in this torch; their state dicts do.)"""
    return {
        path: module.state_dict()
        for path in INT8_PARTS
        if isinstance(module := _get(model, path), (Int8Backbone, Int8Module))
    }


def load_int8_state(model: nn.Module, state: Dict[str, Dict[str, torch.Tensor]]) -> List[str]:
    """Quantizes `model` (the config and weights `state` was made from) without calibrating:
    the quantized graphs are rebuilt, then `state` fills in weights and activation ranges."""
    refusal = int8_refusal(model)
    if refusal:
        raise Int8Error(refusal)
    unknown = set(state) - set(INT8_PARTS)
    if unknown:
        raise Int8Error(f"unknown int8 parts {sorted(unknown)}")
    prepared = _prepare(model, torch.zeros(1, 3, 64, 64))
    if set(prepared) != set(state):
        raise Int8Error(f"int8 parts {sorted(state)} do not match this model's {sorted(prepared)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "run observer before calculate_qparams": state follows
        parts = _convert(model, prepared)
    for path in parts:
        _get(model, path).load_state_dict(state[path])
    return parts


Calibration = Union[Sequence[Dict], Dict[str, Dict[str, torch.Tensor]]]


def check_int8(model: nn.Module, calibration: Optional[Calibration]) -> None:
    """Raises `Int8Error` (one line) if int8 cannot run on `model` with `calibration`."""
    refusal = int8_refusal(model)
    if refusal:
        raise Int8Error(refusal)
    if calibration is None or len(calibration) == 0:
        raise Int8Error(
            "precision='int8' needs calibration: a few model inputs ({'image': tensor, ...}) or "
            "the parts saved from an earlier run; Predictor / apply_net provide a default set"
        )


def apply_int8(model: nn.Module, calibration: Optional[Calibration]) -> List[str]:
    """`quantize_int8` on calibration inputs, or `load_int8_state` on saved parts; nothing
    if `model` is quantized already."""
    if is_int8(model):
        return []
    check_int8(model, calibration)
    if isinstance(calibration, dict):
        return load_int8_state(model, calibration)
    return quantize_int8(model, calibration)
