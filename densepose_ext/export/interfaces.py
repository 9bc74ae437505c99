"""Calling conventions of the tools that already consume DensePose TorchScript files.

- ``densepose-torchscript`` (the standalone DensePose-TorchScript runner): ``model(image)`` with a
  uint8 ``[H, W, 3]`` BGR image (or ``[3, H, W]``), returning a dict ``pred_boxes``, ``scores``,
  ``pred_classes``, ``pred_densepose_coarse_segm``, ``pred_densepose_fine_segm``,
  ``pred_densepose_u``, ``pred_densepose_v``;
- ``controlnet`` (ControlNet DensePose preprocessors of ComfyUI and the Stable Diffusion web UI):
  ``model(image)`` with a uint8 ``[3, H, W]`` image taken in the config's input channel order,
  returning the tuple ``(pred_boxes, coarse_segm, fine_segm, u, v)``.

Those tools call ``.half()``, ``.float()``, ``.cuda()`` / ``.to(device)`` on the loaded file, which
a single traced graph does not survive (tracing fixes dtypes and devices). So a file holds one
traced graph per (precision, device) over one set of weights, and a scripted front
(`InterfaceFront`) picks the graph matching the current dtype and device of the weights.
"""

import copy
import dataclasses
from typing import Any, Dict, List, Tuple

import torch
from torch import Tensor, nn

from .module import DensePoseExportModule
from .precision import _cast_tensors, low_precision_modules
from .preprocess import resize_image

__all__ = [
    "CHART_FIELDS",
    "FOREIGN_INTERFACES",
    "GRAPH_NAMES",
    "INTERFACES",
    "ChartMapsCore",
    "ControlNetFront",
    "DensePoseTorchScriptFront",
    "MissingGraph",
    "half_precision_model",
]

INTERFACES = ("densepose_ext", "densepose-torchscript", "controlnet")
FOREIGN_INTERFACES = ("densepose-torchscript", "controlnet")
CHART_FIELDS = ("coarse_segm", "fine_segm", "u", "v")
GRAPH_NAMES = ("fp32_cpu", "fp16_cpu", "fp32_cuda", "fp16_cuda")

ChartTuple = Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]


class ChartMapsCore(DensePoseExportModule):
    """uint8 [H, W, 3] -> (boxes, scores, classes, coarse_segm, fine_segm, u, v), all float32.

    The model being traced: `DensePoseExportModule` (resize inside, boxes in input pixels) reduced
    to the chart maps. `flip_channels`: reverse the channel order before the model (BGR input to
    an RGB model); False when the caller already gives the model's channel order. The image is
    normalised in float32 whatever the weights' precision.
    """

    def __init__(
        self,
        model: nn.Module,
        min_size: int,
        max_size: int,
        input_format: str,
        flip_channels: bool,
    ):
        super().__init__(model, min_size, max_size, input_format)
        missing = [f for f in CHART_FIELDS if f not in self.field_names]
        if missing:
            raise ValueError(
                f"the model's DensePose predictor has no {', '.join(missing)} "
                f"(outputs: {', '.join(self.field_names)}): not a chart model"
            )
        self.to_rgb = bool(flip_channels)

    def preprocess(self, image_bgr: Tensor) -> Tuple[Tensor, Tensor]:
        return resize_image(image_bgr, self.min_size, self.max_size, self.to_rgb)

    def forward(self, image: Tensor) -> Tuple[Tensor, ...]:
        named = dict(zip(self.output_names, super().forward(image)))
        return tuple(named[name] for name in ("boxes", "scores", "classes") + CHART_FIELDS)


def _float_outputs(_module: nn.Module, _args: Any, output: Any) -> Any:
    if dataclasses.is_dataclass(output):
        values = {
            f.name: getattr(output, f.name)
            for f in dataclasses.fields(output)
            if isinstance(getattr(output, f.name), Tensor)
        }
        return dataclasses.replace(output, **_cast_tensors(values, torch.float32))
    return _cast_tensors(output, torch.float32)


def _half_inputs(_module: nn.Module, args: Any) -> Any:
    return _cast_tensors(args, torch.float16)


def half_precision_model(model: nn.Module) -> nn.Module:
    """A copy of `model` whose every weight is float16 (what `.half()` on the file gives).

    The modules holding weights (backbone, RPN head, box head and predictor, decoder, DensePose
    head and predictor) take float16 inputs and return float32 outputs, so that pooling, box
    decoding, thresholds and NMS run in float32. Raises ValueError if some other module holds
    floating weights (it would run with mismatched dtypes).
    """
    model = copy.deepcopy(model).half()
    bodies = dict(low_precision_modules(model))
    bodies["proposal_generator.rpn_head"] = model.proposal_generator.rpn_head
    bodies["roi_heads.box_predictor"] = model.roi_heads.box_predictor
    for module in bodies.values():
        module.register_forward_pre_hook(_half_inputs)
        module.register_forward_hook(_float_outputs)
    prefixes = tuple(name + "." for name in bodies)
    unhandled = [
        name
        for name, p in model.named_parameters()
        if p.is_floating_point() and not name.startswith(prefixes)
    ]
    if unhandled:
        raise ValueError(f"no float16 path for the weights {', '.join(unhandled[:5])}")
    return model


class MissingGraph(nn.Module):
    """Stands for a (precision, device) graph the file does not hold: says how to get one."""

    def __init__(self, graph_name: str, reason: str = ""):
        super().__init__()
        self.message = f"this DensePose file holds no {graph_name} graph: " + (
            reason
            or "it was exported on a machine without that device; export it again "
            "(python -m densepose_ext.export ... --interface ...) on a machine with CUDA"
        )

    def forward(self, image: Tensor) -> ChartTuple:
        raise RuntimeError(self.message)


class InterfaceFront(nn.Module):
    """Scripted front of a file: picks the traced graph for the weights' dtype and device.

    `graphs`: GRAPH_NAME -> traced `ChartMapsCore` (or `MissingGraph`). `probe` is a one-element
    buffer that `.half()` / `.float()` / `.to(device)` convert along with the weights.
    """

    def __init__(self, graphs: Dict[str, nn.Module], probe_dtype: torch.dtype):
        super().__init__()
        self.fp32_cpu = graphs["fp32_cpu"]
        self.fp16_cpu = graphs["fp16_cpu"]
        self.fp32_cuda = graphs["fp32_cuda"]
        self.fp16_cuda = graphs["fp16_cuda"]
        self.register_buffer("probe", torch.zeros(1, dtype=probe_dtype))

    def run_graph(self, image: Tensor) -> ChartTuple:
        """uint8 [H, W, 3] in the graph's channel convention -> the 7 chart tensors (float32)."""
        image = image.to(self.probe.device)
        half = self.probe.dtype == torch.float16
        if self.probe.device.type == "cuda":
            if half:
                return self.fp16_cuda(image)
            return self.fp32_cuda(image)
        if half:
            return self.fp16_cpu(image)
        return self.fp32_cpu(image)


class DensePoseTorchScriptFront(InterfaceFront):
    """``model(image)`` -> dict, the DensePose-TorchScript runner's convention (module doc)."""

    def forward(self, image: Tensor) -> Dict[str, Tensor]:
        if image.dim() != 3 or (image.shape[2] != 3 and image.shape[0] != 3):
            raise ValueError("expected a uint8 image [H, W, 3] (BGR) or [3, H, W]")
        if image.shape[2] != 3:  # [3, H, W]
            image = image.permute(1, 2, 0)
        boxes, scores, classes, coarse, fine, u, v = self.run_graph(image)
        return {
            "pred_boxes": boxes,
            "scores": scores,
            "pred_classes": classes,
            "pred_densepose_coarse_segm": coarse,
            "pred_densepose_fine_segm": fine,
            "pred_densepose_u": u,
            "pred_densepose_v": v,
        }


class ControlNetFront(InterfaceFront):
    """``model(image)`` -> (pred_boxes, coarse_segm, fine_segm, u, v), the ControlNet convention.

    `image` is uint8 [3, H, W] already in the model's channel order (the graphs do not flip).
    """

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError("expected a uint8 image [3, H, W] in the model's channel order")
        boxes, _scores, _classes, coarse, fine, u, v = self.run_graph(image.permute(1, 2, 0))
        return boxes, coarse, fine, u, v


FRONTS = {"densepose-torchscript": DensePoseTorchScriptFront, "controlnet": ControlNetFront}


def front_class(interface: str) -> type:
    if interface not in FRONTS:
        raise ValueError(f"unknown interface {interface!r}; expected one of {INTERFACES}")
    return FRONTS[interface]


def flips_channels(interface: str, input_format: str) -> bool:
    """Whether the graphs of `interface` reverse channels: the runner gives BGR; ControlNet
    tools give the model's own order."""
    return interface == "densepose-torchscript" and input_format == "RGB"


def graph_state(module: nn.Module) -> List[Tuple[str, Tensor]]:
    """(name, tensor) of every parameter and buffer: the weights the graphs share."""
    return list(module.named_parameters()) + list(module.named_buffers())
