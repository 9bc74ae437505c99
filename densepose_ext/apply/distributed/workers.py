"""What runs inside Ray: the decoding and model actors (plain Python; wrapped by `ray.remote`
in `ray_run`, so that this module imports without Ray).

The actor builds the same predictor as a one-process `apply_net dump` (the fast path unless
--no-optimize, or --backend) once, and turns each work item's images into the entries the
writers replay: ("ok", InputItem without its image, ImagePrediction) or ("failed", message).
"""

import argparse
import os
import resource
import sys
from typing import List, Optional, Sequence

import torch

from ...converters.prediction import CseContext, ImagePrediction
from ...engine.inputs import InputItem
from ..runner import predict_batch
from .work_items import WorkItem, read_work_item

__all__ = ["Decoder", "ModelWorker", "compact_prediction", "peak_rss_mb"]


class Decoder:
    """A CPU-only Ray actor that decodes work items. Actors rather than plain tasks: Ray
    recycles idle task processes, and each new one pays this package's import (seconds)."""

    def decode(self, item: WorkItem) -> List[InputItem]:
        return read_work_item(item)

    def pid(self) -> int:
        return os.getpid()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def compact_prediction(prediction: ImagePrediction, need_vertices: bool) -> ImagePrediction:
    """What the writers need, without the model: chart results replace the raw chart outputs
    (~20x smaller); CSE vertex maps are computed here when a format needs them, and the
    embedder is dropped (it stays in the actor)."""
    if prediction.densepose is not None and prediction.is_chart:
        prediction.chart_results()
        prediction.densepose = None
    elif prediction.cse is not None:
        if need_vertices and prediction.is_cse:
            try:
                prediction.cse_results()
            except KeyError:  # reported by the writer that needs them, as in one process
                pass
        prediction.cse = CseContext(None, prediction.cse.class_to_mesh_name)
    return prediction


class ModelWorker:
    """One model on one device (a Ray actor); `predict(images)` returns a work item's entries.

    Construction never raises: `ready()` gives the error (one line) or None, so that the driver
    can stop the run with a clear message instead of Ray's restart loop.
    """

    def __init__(self, args: argparse.Namespace, cfg, formats: Sequence[str], threads: int):
        self.error: Optional[str] = None
        self.predictor = None
        self.cse = None
        self.need_vertices = "npz" in formats
        self.batch_size = max(1, int(args.batch_size))
        torch.set_num_threads(max(1, threads))
        try:
            from ..model_setup import build_predictor, cse_context, prepare_meshes

            prepare_meshes(args, cfg, set(formats))
            self.predictor = build_predictor(args, cfg)
            self.cse = cse_context(self.predictor, cfg)
        except Exception as e:  # unreadable checkpoint, missing runtime, bad option
            text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            self.error = " ".join(str(text).split()) or type(e).__name__

    def ready(self) -> Optional[str]:
        return self.error

    def pid(self) -> int:
        return os.getpid()

    def peak_rss_mb(self) -> float:
        return peak_rss_mb()

    def predict(self, images: List[InputItem]) -> dict:
        """{"entries": [...], "model_seconds": float} for the decoded `images` of one item."""
        if self.error is not None:
            raise RuntimeError(self.error)
        before = getattr(self.predictor, "model_seconds", 0.0)
        entries: list = []
        pending: List[InputItem] = []
        for image in images + [None]:
            if image is not None and image.error is None:
                pending.append(image)
            if pending and (
                image is None or image.error is not None or len(pending) == self.batch_size
            ):
                entries.extend(self._run(pending))
                pending = []
            if image is not None and image.error is not None:
                entries.append(("failed", image.error))
        seconds = getattr(self.predictor, "model_seconds", 0.0) - before
        return {"entries": entries, "model_seconds": seconds}

    def _run(self, batch: List[InputItem]) -> list:
        entries = []
        for item, result in predict_batch(self.predictor, batch):
            if isinstance(result, str):
                entries.append(("failed", result))
                continue
            try:
                prediction = ImagePrediction.from_instances(result, self.cse)
                prediction = compact_prediction(prediction, self.need_vertices)
            except (ValueError, KeyError, RuntimeError) as e:
                message = " ".join(str(e).split())
                entries.append(("failed", f"cannot process {item.name}: {message}"))
                continue
            meta = InputItem(item.index, item.path, item.frame_index, None, None, item.fps)
            entries.append(("ok", meta, prediction))
        return entries
