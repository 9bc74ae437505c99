"""Builds a DensePose model from a config + checkpoint and writes TorchScript or ONNX artefacts.

TorchScript: `torch.jit.trace` of `DensePoseExportModule`, metadata in the `_extra_files` entry
`densepose_metadata.json`. ONNX: `torch.onnx.export` (TorchScript-based exporter, opset 18) of the
same module, metadata as the `metadata_props` entry of the same name. Both take the uint8 HxWx3
BGR image and run without detectron2 / densepose_ext (torch + torchvision ops, or onnxruntime).
"""

import logging
import os
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch
from detectron2.modeling import build_model

from ..config import clear_external_files
from ..modeling.checkpoint import CheckpointFileError, DensePoseCheckpointer
from ..utils.files import ExternalFileError, resolve_file
from .metadata import build_metadata, dumps
from .module import DensePoseExportModule
from .precision import DTYPES, cast_bodies

__all__ = [
    "ExportError",
    "ExportResult",
    "build_export_model",
    "example_image",
    "export_model",
    "export_module",
    "vertex_embeddings_of",
]

logger = logging.getLogger(__name__)


FORMATS = ("torchscript", "onnx")
ADJUSTABLE_BUFFERS = ("score_thresh", "min_size", "max_size")
TRACE_MIN_SIZE, TRACE_MAX_SIZE = 160, 256  # resize used while tracing: fast, also in fp16 on CPU
TRACE_DETECTIONS = 2  # boxes the DensePose branch runs on while tracing


class ExportError(ValueError):
    """An unsupported combination of format, precision and device, or a failed export."""


@dataclass
class ExportResult:
    path: str
    metadata: dict


def build_export_model(cfg, weights: str = "") -> torch.nn.Module:
    """`build_model(cfg)` in eval mode on CPU, loaded from `weights` (path or URL; "" = random).

    Embedder INIT_FILEs are not read (the checkpoint holds the embedder tensors), and the embedder's
    own checkpoint pre-load is skipped: the checkpointer loads the whole model once.
    """
    cfg = cfg.clone()
    cfg.defrost()
    clear_external_files(cfg)
    cfg.MODEL.DEVICE = "cpu"
    model = build_model(cfg).eval()
    if weights:
        local = resolve_file(
            weights, what="model weights", hint="(the MODEL argument: a path or URL)"
        )
        try:
            DensePoseCheckpointer(model).load(local)
        except CheckpointFileError as e:  # names the file already
            raise ExternalFileError(str(e)) from e
        except Exception as e:  # truncated file, not a checkpoint, ...
            raise ExternalFileError(f"cannot load checkpoint {weights!r}: {e}") from e
    return model


def vertex_embeddings_of(model: torch.nn.Module, mesh_names: List[str]) -> Dict[str, torch.Tensor]:
    """mesh name -> normalised vertex embeddings [V, D] (float32) from the model's embedder."""
    embedder = getattr(model.roi_heads, "embedder", None)
    if embedder is None:
        return {}
    with torch.no_grad():
        return {
            name: embedder(name).float().cpu()
            for name in mesh_names
            if embedder.has_embeddings(name)
        }


def example_image(height: int = 480, width: int = 640, seed: int = 0) -> torch.Tensor:
    """A deterministic uint8 [H, W, 3] image (smooth blobs + noise) used as the tracing input."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for _ in range(6):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = rng.uniform(0.1, 0.3) * min(height, width)
        blob = np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * radius**2))
        image += blob[..., None] * rng.uniform(0, 255, size=3)
    image += rng.normal(0, 10, size=image.shape)
    return torch.from_numpy(np.clip(image, 0, 255).astype(np.uint8))


def _choose_device(fmt: str, dtype_name: str, device: Optional[str]) -> torch.device:
    cuda = torch.cuda.is_available()
    if dtype_name == "bf16" and fmt == "onnx":
        raise ExportError(
            "bf16 is a TorchScript option (onnxruntime has no bf16 convolutions); "
            "use --fp16 (CUDA) or fp32 for ONNX"
        )
    if device is None:
        device = "cuda" if (cuda and dtype_name == "fp16") else "cpu"
    device = torch.device(device)
    if device.type == "cuda" and not cuda:
        raise ExportError("CUDA was requested but is not available")
    if dtype_name == "fp16" and fmt == "torchscript" and device.type != "cuda":
        raise ExportError(
            "--fp16 is a CUDA deployment path: a TorchScript fp16 model must be traced on "
            "a CUDA device. On CPU export with --bf16 or in fp32."
        )
    return device


def set_trace_time_values(module: DensePoseExportModule, example: torch.Tensor) -> None:
    """Buffer values used while tracing: a small resize, and a threshold keeping a few boxes.

    The traced graph does not depend on these values (it reads the buffers), only the cost of
    the example run that records it does: the DensePose head runs on TRACE_DETECTIONS boxes
    (not up to 100) and on a 160-pixel image. The real values are written back afterwards.
    """
    module.min_size.fill_(min(int(module.min_size), TRACE_MIN_SIZE))
    module.max_size.fill_(min(int(module.max_size), TRACE_MAX_SIZE))
    module.score_thresh.fill_(0.0)
    with torch.no_grad():
        scores = module.detection_scores(example).float().sort(descending=True).values
    if len(scores) == 0:
        raise ExportError("the tracing example gave no detection even with score threshold 0")
    if len(scores) > TRACE_DETECTIONS:
        threshold = float(scores[TRACE_DETECTIONS - 1] + scores[TRACE_DETECTIONS]) / 2
        if threshold < float(scores[TRACE_DETECTIONS - 1]):  # not a tie: keeps >= 1 box
            module.score_thresh.fill_(threshold)


def export_module(
    module: DensePoseExportModule, fmt: str, path: str, metadata: dict, example: torch.Tensor
) -> str:
    """Traces `module` on `example` (uint8 [H, W, 3], on the module's device) and writes `path`."""
    real = {name: getattr(module, name).item() for name in ADJUSTABLE_BUFFERS}
    try:
        set_trace_time_values(module, example)
        if fmt == "torchscript":
            from .torchscript_export import save_torchscript, trace_torchscript

            traced = trace_torchscript(module, example)
            for name, value in real.items():
                getattr(traced, name).fill_(value)
            save_torchscript(traced, path, dumps(metadata))
        elif fmt == "onnx":
            from .onnx_export import export_onnx

            export_onnx(module, example, path, dumps(metadata), initializer_values=real)
        else:
            raise ExportError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    finally:
        for name, value in real.items():
            getattr(module, name).fill_(value)
    return path


def export_model(
    cfg,
    weights: str,
    fmt: str,
    output: str,
    dtype_name: str = "fp32",
    device: Optional[str] = None,
    config_name: str = "",
    class_names: Optional[List[str]] = None,
    example: Optional[torch.Tensor] = None,
) -> ExportResult:
    """Exports the model of `cfg` with `weights` to `output` in `fmt` ("torchscript" | "onnx").

    dtype_name: "fp32", "fp16" (CUDA deployment; TorchScript needs a CUDA device) or "bf16"
    (TorchScript, CPU or CUDA). Returns the path written and the stored metadata.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if dtype_name not in DTYPES:
        raise ExportError(f"unknown precision {dtype_name!r}; expected one of {tuple(DTYPES)}")
    if not cfg.MODEL.DENSEPOSE_ON:
        raise ExportError("the config has MODEL.DENSEPOSE_ON False: nothing DensePose to export")
    torch_device = _choose_device(fmt, dtype_name, device)
    model = build_export_model(cfg, weights)
    mesh_names = list(cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.keys())
    embeddings = vertex_embeddings_of(model, mesh_names)
    model = cast_bodies(model, DTYPES[dtype_name])
    module = DensePoseExportModule(
        model, cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, cfg.INPUT.FORMAT, embeddings
    ).to(torch_device)
    metadata = build_metadata(
        cfg, module.output_names, list(embeddings), config_name, dtype_name, class_names
    )
    example = example_image() if example is None else example
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with torch.no_grad():
        export_module(module, fmt, output, metadata, example.to(torch_device))
    logger.info(f"Exported {fmt} ({dtype_name}) to {output}: outputs {metadata['output_names']}")
    return ExportResult(output, metadata)
