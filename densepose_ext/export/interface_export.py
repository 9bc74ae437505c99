"""Writes TorchScript files with the calling conventions of other tools (see `interfaces`).

One file = a scripted front + traced `ChartMapsCore` graphs for fp32 / fp16 on CPU and, when
CUDA is available at export time, on CUDA; the graphs share one set of weights (stored once,
float32, or float16 with `fp16=True`). Metadata goes into the `_extra_files` entry
`densepose_metadata.json`, as for our own format.
"""

import copy
import logging
import os
import re
from typing import Dict, Optional

import torch
from torch import nn

from ..config import is_cse
from ..utils.third_party_noise import torchscript_deprecation_silenced
from .exporter import (
    ExportError,
    ExportResult,
    build_export_model,
    example_image,
    set_trace_time_values,
)
from .interfaces import (
    CHART_FIELDS,
    FOREIGN_INTERFACES,
    GRAPH_NAMES,
    ChartMapsCore,
    MissingGraph,
    flips_channels,
    front_class,
    graph_state,
    half_precision_model,
)
from .metadata import build_metadata, dumps
from .torchscript_export import save_torchscript, trace_torchscript

__all__ = ["default_interface_output", "export_interface", "share_state"]

logger = logging.getLogger(__name__)

EXTENSIONS = {"densepose-torchscript": ".pt", "controlnet": ".torchscript"}
OUTPUT_NAMES = {
    "densepose-torchscript": [
        "pred_boxes",
        "scores",
        "pred_classes",
        *(f"pred_densepose_{f}" for f in CHART_FIELDS),
    ],
    "controlnet": ["pred_boxes", *CHART_FIELDS],
}


def default_interface_output(config_name: str, interface: str, fp16: bool = False) -> str:
    """File name the tools look for: densepose_rcnn_R_50_FPN_DL_s1x -> densepose_r50_fpn_dl."""
    base = config_name.lower()
    base = re.sub(r"^densepose_rcnn_", "densepose_", base)
    base = re.sub(r"(^|_)r_(\d+)(?=_|$)", r"\1r\2", base)
    base = re.sub(r"_s1x$", "", base)
    return base + ("_fp16" if fp16 else "") + EXTENSIONS[interface]


def share_state(traced: torch.jit.ScriptModule, state: Dict[str, torch.Tensor]) -> None:
    """Points every parameter / buffer slot of `traced` at the tensor of the same name in `state`,
    so that graphs traced separately hold (and save) the same tensors."""
    names = {name for name, _ in graph_state(traced)}
    if names != set(state):
        raise ExportError(
            f"traced graphs differ in their weights: {sorted(names ^ set(state))[:5]}"
        )
    for name, tensor in state.items():
        *path, leaf = name.split(".")
        owner = traced
        for part in path:
            owner = getattr(owner, part)
        owner._c.setattr(leaf, tensor)


TRACE_MIN_SIZE, TRACE_MAX_SIZE = 96, 160  # tracing resize: float16 convolutions are slow on CPU


def _trace(core: ChartMapsCore, example: torch.Tensor) -> torch.jit.ScriptModule:
    """Traces `core` on `example` with a small resize (the graph does not depend on it; the
    buffers get their real values from the shared state afterwards)."""
    core.min_size.fill_(min(int(core.min_size), TRACE_MIN_SIZE))
    core.max_size.fill_(min(int(core.max_size), TRACE_MAX_SIZE))
    set_trace_time_values(core, example)
    with torch.no_grad():
        return trace_torchscript(core, example)


def _check_exportable(cfg, interface: str, dtype_name: str) -> None:
    if interface not in FOREIGN_INTERFACES:
        raise ExportError(f"unknown interface {interface!r}; expected one of {FOREIGN_INTERFACES}")
    if not cfg.MODEL.DENSEPOSE_ON:
        raise ExportError("the config has MODEL.DENSEPOSE_ON False: nothing DensePose to export")
    if is_cse(cfg):
        raise ExportError(
            f"--interface {interface} carries chart outputs (coarse/fine segmentation, U, V); this "
            f"is a CSE model ({cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME}) and no tool with "
            "that convention reads CSE embeddings: use --interface densepose_ext"
        )
    if dtype_name not in ("fp32", "fp16"):
        raise ExportError(
            f"--interface {interface} is exported in fp32 or --fp16, not {dtype_name}"
        )


def export_interface(
    cfg,
    weights: str,
    interface: str,
    output: str,
    dtype_name: str = "fp32",
    config_name: str = "",
    class_names=None,
    example: Optional[torch.Tensor] = None,
    cuda: Optional[bool] = None,
) -> ExportResult:
    """Exports the chart model of `cfg` + `weights` with the convention `interface` to `output`.

    dtype_name "fp16" stores the weights in float16 (the file then runs in fp16 until `.float()`).
    `cuda`: also trace CUDA graphs (default: when CUDA is available).
    """
    _check_exportable(cfg, interface, dtype_name)
    cuda = torch.cuda.is_available() if cuda is None else cuda
    model = build_export_model(cfg, weights)
    flip = flips_channels(interface, cfg.INPUT.FORMAT)
    sizes = (cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, cfg.INPUT.FORMAT)

    def core_of(m: nn.Module) -> ChartMapsCore:
        try:
            return ChartMapsCore(copy.deepcopy(m), *sizes, flip_channels=flip)
        except ValueError as e:
            raise ExportError(str(e)) from e

    storage = torch.float16 if dtype_name == "fp16" else torch.float32
    state = {
        name: t.detach().clone().to(storage if t.is_floating_point() else t.dtype)
        for name, t in graph_state(core_of(model))
    }
    try:
        models = {"fp32": model, "fp16": half_precision_model(model)}
    except ValueError as e:
        raise ExportError(str(e)) from e
    example = example_image() if example is None else example
    graphs: Dict[str, nn.Module] = {}
    for graph_name in GRAPH_NAMES:
        precision, device = graph_name.split("_")
        if device == "cuda" and not cuda:
            graphs[graph_name] = MissingGraph(graph_name)
            continue
        core = core_of(models[precision]).to(device)
        try:
            traced = _trace(core, example.to(device))
        except RuntimeError as e:
            if graph_name == "fp32_cpu":
                raise
            # e.g. a float16 kernel this torch build lacks on CPU: the other graphs still work
            logger.warning(f"no {graph_name} graph in {output}: tracing failed: {e}")
            graphs[graph_name] = MissingGraph(graph_name, f"tracing it failed at export ({e})")
            continue
        share_state(traced, state)
        graphs[graph_name] = traced
    with torchscript_deprecation_silenced():
        front = torch.jit.script(front_class(interface)(graphs, storage))
    metadata = build_metadata(
        cfg, OUTPUT_NAMES[interface], [], config_name, dtype_name, class_names
    )
    metadata["interface"] = interface
    metadata["graphs"] = [n for n in GRAPH_NAMES if not isinstance(graphs[n], MissingGraph)]
    metadata["input"].update(
        layout="HWC or CHW" if interface == "densepose-torchscript" else "CHW",
        channel_order="BGR" if interface == "densepose-torchscript" else cfg.INPUT.FORMAT,
    )
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    save_torchscript(front, output, dumps(metadata))
    logger.info(f"Exported {interface} ({dtype_name}, graphs {metadata['graphs']}) to {output}")
    return ExportResult(output, metadata)
