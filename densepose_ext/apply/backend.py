"""`apply_net --backend torchscript|onnxruntime`: the model as a `densepose_ext.export` file.

Without `--exported-model` the file is exported on the fly from the config and checkpoint and
cached (`$DENSEPOSE_EXT_CACHE/exported/`, default `~/.cache/densepose_ext/exported/`), keyed by
the config, the checkpoint (path, size, modification time), the format and the versions of
densepose_ext, torch and torchvision, so later runs load it at once and an upgrade exports anew.
"""

import hashlib
import json
import logging
import os
import time
from typing import List, Optional

import numpy as np
import torch
from detectron2.structures import Boxes, Instances

from ..engine.predictor import BackendError, InstancesPredictor
from ..structures.predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
)

__all__ = ["BACKENDS", "BackendError", "ExportedPredictor", "cached_export_path"]

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "torchscript", "onnxruntime")
_FORMATS = {"torchscript": ("torchscript", ".pt"), "onnxruntime": ("onnx", ".onnx")}


def _cache_dir() -> str:
    root = os.environ.get("DENSEPOSE_EXT_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "densepose_ext"
    )
    return os.path.join(root, "exported")


def _versions() -> dict:
    """What the exported graph depends on besides the config and weights: an upgrade of any of
    these re-exports instead of reusing a file traced by the old code."""
    import torchvision

    from .. import __version__

    return {
        "densepose_ext": __version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


def cached_export_path(cfg, backend: str) -> str:
    """Where the on-the-fly export of `cfg` (its MODEL.WEIGHTS) for `backend` is cached."""
    fmt, extension = _FORMATS[backend]
    weights = cfg.MODEL.WEIGHTS
    stat = os.stat(weights) if weights and os.path.isfile(weights) else None
    key = json.dumps(
        [
            cfg.dump(),
            os.path.abspath(weights) if weights else "",
            stat and stat.st_size,
            stat and stat.st_mtime_ns,
            fmt,
            _versions(),
        ],
        default=str,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return os.path.join(_cache_dir(), f"densepose_{digest}{extension}")


def _export_if_needed(cfg, backend: str) -> str:
    from ..export import export_model  # heavy: only when exporting

    path = cached_export_path(cfg, backend)
    if os.path.isfile(path):
        logger.info(f"using the cached exported model {path}")
        return path
    fmt, _ = _FORMATS[backend]
    tmp = f"{path}.{os.getpid()}.tmp{os.path.splitext(path)[1]}"
    logger.warning(f"exporting the model to {fmt} (once; cached in {path})")
    export_model(cfg, cfg.MODEL.WEIGHTS, fmt, tmp, device="cpu")
    os.replace(tmp, path)
    return path


def _check_file_format(path: str, backend: str) -> None:
    """The file's format (from its content) must be the one `backend` runs."""
    from ..export.run import file_format

    if not os.path.isfile(path):
        raise BackendError(f"--exported-model {path!r}: no such file")
    found = file_format(path)
    if found != _FORMATS[backend][0]:
        other = next(b for b, (fmt, _) in _FORMATS.items() if fmt == found)
        raise BackendError(
            f"--exported-model {path!r} is a {found} file, which --backend {backend} does not "
            f"run: use --backend {other}"
        )


def _output_class(names: List[str], is_cse: bool):
    if is_cse:
        extra = "coarse_segm_confidence" in names
        return (
            DensePoseEmbeddingPredictorOutputWithConfidences
            if extra
            else DensePoseEmbeddingPredictorOutput
        )
    chart = {"coarse_segm", "fine_segm", "u", "v"}
    if set(names) - chart:
        return DensePoseChartPredictorOutputWithConfidences
    return DensePoseChartPredictorOutput


class _VertexEmbeddings:
    """`embedder(mesh_name)` for `CseContext`: the vertex embeddings stored in the exported file."""

    def __init__(self):
        self.by_mesh = {}

    def __call__(self, mesh_name: str) -> torch.Tensor:
        if mesh_name not in self.by_mesh:
            raise KeyError(f"the exported model has no vertex embeddings for mesh {mesh_name!r}")
        return self.by_mesh[mesh_name]


class ExportedPredictor(InstancesPredictor):
    """`predictor(images_bgr)` -> one CPU `Instances` per image, from an exported model file."""

    def __init__(self, cfg, backend: str, path: Optional[str] = None, device: str = "cpu"):
        if backend not in _FORMATS:
            raise BackendError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        if backend == "onnxruntime":
            try:
                import onnxruntime  # noqa: F401
            except ImportError as e:
                raise BackendError(
                    "--backend onnxruntime needs the onnxruntime package (pip install onnxruntime)"
                ) from e
        from ..export.run import ExportedDensePose

        self.path = path or _export_if_needed(cfg, backend)
        _check_file_format(self.path, backend)
        try:
            self.runner = ExportedDensePose(self.path, device=device)
        except Exception as e:  # not an exported model, truncated, wrong runtime
            raise BackendError(f"cannot load exported model {self.path!r}: {e}") from e
        names = self.runner.output_names
        self.field_names = [n for n in names[3:] if not n.startswith("vertex_embeddings/")]
        self.output_class = _output_class(self.field_names, self.runner.is_cse)
        self._embedder = _VertexEmbeddings() if self.runner.is_cse else None
        self.model_seconds = 0.0

    @property
    def embedder(self) -> Optional[_VertexEmbeddings]:
        """The vertex embeddings stored in the file (filled by the first call)."""
        return self._embedder

    def _instances(self, image_bgr: np.ndarray, outputs: dict) -> Instances:
        inst = Instances(image_bgr.shape[:2])
        inst.pred_boxes = Boxes(torch.from_numpy(np.asarray(outputs["boxes"], np.float32)))
        inst.scores = torch.from_numpy(np.asarray(outputs["scores"], np.float32))
        inst.pred_classes = torch.from_numpy(np.asarray(outputs["classes"], np.int64))
        fields = {n: torch.from_numpy(np.asarray(outputs[n], np.float32)) for n in self.field_names}
        if len(inst) > 0:
            inst.pred_densepose = self.output_class(**fields)
        if self._embedder is not None:
            for mesh in self.runner.mesh_names:
                key = "vertex_embeddings/" + mesh
                self._embedder.by_mesh[mesh] = torch.from_numpy(np.asarray(outputs[key]))
        return inst

    def __call__(self, images_bgr: List[np.ndarray]) -> List[Instances]:
        results = []
        for image in images_bgr:
            start = time.perf_counter()
            outputs = self.runner(image)
            self.model_seconds += time.perf_counter() - start
            results.append(self._instances(image, outputs))
        return results
