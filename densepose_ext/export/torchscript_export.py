"""TorchScript artefacts: trace the export module, save with metadata in `_extra_files`."""

import contextlib
import warnings
from typing import Iterator, Optional

import torch

from ..utils.third_party_noise import torchscript_deprecation_silenced
from .metadata import METADATA_KEY

__all__ = ["trace_torchscript", "save_torchscript", "load_torchscript"]


@contextlib.contextmanager
def _meshgrid_indexing_explicit() -> Iterator[None]:
    """detectron2's anchor grid calls `torch.meshgrid` without `indexing`; traced like that, the
    file warns each time it runs. While tracing, the call gets `indexing="ij"` (the default it
    stands for: the same grid)."""
    original = torch.meshgrid

    def meshgrid(*tensors, indexing: Optional[str] = None):
        return original(*tensors, indexing=indexing or "ij")

    torch.meshgrid = meshgrid
    try:
        yield
    finally:
        torch.meshgrid = original


def trace_torchscript(module: torch.nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """`torch.jit.trace` of `module` on the uint8 [H, W, 3] `example` (tracer warnings silenced).

    The traced graph follows the input size (shapes are computed with traced tensor ops) and the
    number of detections (data-dependent ops such as nonzero / NMS are recorded, not their values).
    """
    with (
        warnings.catch_warnings(),
        torchscript_deprecation_silenced(),
        _meshgrid_indexing_explicit(),
    ):
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        return torch.jit.trace(module, (example,), check_trace=False)


def save_torchscript(traced: torch.jit.ScriptModule, path: str, metadata_json: str) -> None:
    with torchscript_deprecation_silenced():
        torch.jit.save(traced, path, _extra_files={METADATA_KEY: metadata_json})


def load_torchscript(path: str, device: str = "cpu"):
    """(module, metadata JSON string) of a saved artefact."""
    extra = {METADATA_KEY: ""}
    with torchscript_deprecation_silenced():
        module = torch.jit.load(path, map_location=device, _extra_files=extra)
    return module, extra[METADATA_KEY]
