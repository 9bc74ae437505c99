"""TorchScript artefacts: trace the export module, save with metadata in `_extra_files`."""

import warnings

import torch

from .metadata import METADATA_KEY

__all__ = ["trace_torchscript", "save_torchscript", "load_torchscript"]


def trace_torchscript(module: torch.nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """`torch.jit.trace` of `module` on the uint8 [H, W, 3] `example` (tracer warnings silenced).

    The traced graph follows the input size (shapes are computed with traced tensor ops) and the
    number of detections (data-dependent ops such as nonzero / NMS are recorded, not their values).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        return torch.jit.trace(module, (example,), check_trace=False)


def save_torchscript(traced: torch.jit.ScriptModule, path: str, metadata_json: str) -> None:
    torch.jit.save(traced, path, _extra_files={METADATA_KEY: metadata_json})


def load_torchscript(path: str, device: str = "cpu"):
    """(module, metadata JSON string) of a saved artefact."""
    extra = {METADATA_KEY: ""}
    module = torch.jit.load(path, map_location=device, _extra_files=extra)
    return module, extra[METADATA_KEY]
