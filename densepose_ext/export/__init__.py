"""Export of DensePose models to TorchScript and ONNX artefacts that run without detectron2.

`export_model(cfg, weights, "torchscript" | "onnx", path)` writes the artefact; `run.py`
(standalone, no import of this package) runs one on images / videos. See docs/export.md.
`export_interface(cfg, weights, "controlnet" | "densepose-torchscript", path)` writes files with
the calling conventions of other tools (docs/ecosystem.md).
"""

from .exporter import ExportError, ExportResult, build_export_model, export_model, export_module
from .interface_export import export_interface
from .metadata import METADATA_KEY
from .module import VERTEX_EMBEDDINGS_PREFIX, DensePoseExportModule

__all__ = [
    "DensePoseExportModule",
    "ExportError",
    "ExportResult",
    "METADATA_KEY",
    "VERTEX_EMBEDDINGS_PREFIX",
    "build_export_model",
    "export_interface",
    "export_model",
    "export_module",
]
