"""`ImagePrediction`: one image's detections in the form visualizers and dump writers consume.

Chart results (labels + U/V per box) and CSE vertex maps are computed on first use and cached,
so several visualizers and writers share one conversion.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import torch

from ..structures.chart_result import DensePoseChartResultWithConfidences
from ..structures.cse_result import DensePoseEmbeddingResult
from ..structures.predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutput,
    PredictorOutput,
)
from .boxes import int_boxes_xywh
from .chart_result import chart_outputs_to_results
from .cse_vertices import cse_output_to_results

__all__ = ["CseContext", "ImagePrediction"]


class CseContext:
    """What CSE vertex assignment needs besides the outputs: the model's embedder and class->mesh.

    Normalised vertex embeddings [V, D] are computed once per mesh and kept on CPU.
    """

    def __init__(self, embedder: Any, class_to_mesh_name: Mapping[Any, str]):
        self.embedder = embedder
        self.class_to_mesh_name = dict(class_to_mesh_name)
        self._vertex_embeddings: Dict[str, torch.Tensor] = {}

    def vertex_embeddings(self, mesh_name: str) -> torch.Tensor:
        if mesh_name not in self._vertex_embeddings:
            with torch.no_grad():
                self._vertex_embeddings[mesh_name] = self.embedder(mesh_name).detach().float().cpu()
        return self._vertex_embeddings[mesh_name]


@dataclass
class ImagePrediction:
    """Detections of one image (all tensors on CPU).

    boxes_xyxy float [N, 4] absolute pixels; scores float [N]; classes int64 [N]; densepose the
    image's predictor output (len N) or None when the model produced none; image_hw (H, W).
    Models with mask / keypoint heads (e.g. the cascade) also give `masks` bool [N, H, W] and
    `keypoints` float [N, K, 3] (x, y in pixels, score); None otherwise. `track_ids` int64 [N]:
    the person's identity across a video's frames when a tracker set it (`densepose_ext.video`).
    """

    image_hw: tuple
    boxes_xyxy: torch.Tensor
    scores: torch.Tensor
    classes: torch.Tensor
    densepose: Optional[PredictorOutput] = None
    cse: Optional[CseContext] = None
    _chart_results: Optional[List[DensePoseChartResultWithConfidences]] = field(
        default=None, repr=False
    )
    _cse_results: Optional[List[DensePoseEmbeddingResult]] = field(default=None, repr=False)
    masks: Optional[torch.Tensor] = None
    keypoints: Optional[torch.Tensor] = None
    track_ids: Optional[torch.Tensor] = None

    @classmethod
    def from_instances(cls, instances, cse: Optional[CseContext] = None) -> "ImagePrediction":
        """From detectron2 `Instances` (fields pred_boxes, scores, pred_classes, pred_densepose)."""
        n = len(instances)
        boxes = (
            instances.pred_boxes.tensor.detach().cpu()
            if instances.has("pred_boxes")
            else torch.zeros((n, 4))
        )
        scores = instances.scores.detach().cpu() if instances.has("scores") else torch.ones(n)
        if instances.has("pred_classes"):
            classes = instances.pred_classes.detach().cpu().to(torch.int64)
        else:
            classes = torch.zeros(n, dtype=torch.int64)
        densepose = instances.pred_densepose.to("cpu") if instances.has("pred_densepose") else None
        prediction = cls(
            tuple(instances.image_size), boxes.float(), scores.float(), classes, densepose, cse
        )
        if instances.has("pred_masks"):
            prediction.masks = instances.pred_masks.detach().cpu().bool()
        if instances.has("pred_keypoints"):
            prediction.keypoints = instances.pred_keypoints.detach().cpu().float()
        return prediction

    @classmethod
    def from_results(
        cls, image_hw, boxes_xyxy, results: Optional[list], scores=None, classes=None
    ) -> "ImagePrediction":
        """From ready per-box results (chart results or `DensePoseEmbeddingResult`s), e.g. loaded
        from a dump, or boxes only (`results` None); `densepose` stays None."""
        boxes = torch.as_tensor(boxes_xyxy, dtype=torch.float32).reshape(-1, 4)
        n = len(boxes)
        if results is not None and len(results) != n:
            raise ValueError(f"{len(results)} results for {n} boxes")
        scores = torch.ones(n) if scores is None else torch.as_tensor(scores, dtype=torch.float32)
        classes = (
            torch.zeros(n, dtype=torch.int64)
            if classes is None
            else torch.as_tensor(classes).long()
        )
        prediction = cls(tuple(image_hw), boxes, scores, classes)
        if results is None:
            return prediction
        if any(isinstance(r, DensePoseEmbeddingResult) for r in results):
            prediction._cse_results = list(results)
        else:
            prediction._chart_results = list(results)
        return prediction

    def __len__(self) -> int:
        return len(self.boxes_xyxy)

    @property
    def int_boxes_xywh(self) -> np.ndarray:
        """int64 [N, 4] (x, y, w, h) truncated boxes, the frame of every per-box array."""
        return int_boxes_xywh(self.boxes_xyxy).numpy().astype(np.int64)

    @property
    def has_densepose(self) -> bool:
        """True when there is DensePose output (raw, or results given to `from_results`)."""
        return (
            self.densepose is not None
            or self._chart_results is not None
            or self._cse_results is not None
        )

    @property
    def is_chart(self) -> bool:
        if self.densepose is None:
            return self._chart_results is not None
        return isinstance(self.densepose, DensePoseChartPredictorOutput)

    @property
    def is_cse(self) -> bool:
        if self.densepose is None:
            return self._cse_results is not None
        return isinstance(self.densepose, DensePoseEmbeddingPredictorOutput)

    def chart_results(self) -> List[DensePoseChartResultWithConfidences]:
        """Per-box chart results (empty without DensePose output); KeyError for CSE outputs."""
        if self._chart_results is None:
            if self.densepose is None or len(self) == 0:
                self._chart_results = []
            else:
                self._chart_results = chart_outputs_to_results(self.densepose, self.boxes_xyxy)
        return self._chart_results

    def cse_results(self) -> List[DensePoseEmbeddingResult]:
        """Per-box closest-vertex maps (empty without DensePose output);
        KeyError for chart outputs."""
        if self._cse_results is None:
            if self.densepose is None or len(self) == 0:
                self._cse_results = []
            elif not self.is_cse:
                raise KeyError(
                    f"no vertex conversion for {type(self.densepose).__name__} (chart model)"
                )
            elif self.cse is None or self.cse.embedder is None:
                raise KeyError(
                    "vertex conversion needs the model's embedder (no CSE embedders in config)"
                )
            else:
                self._cse_results = cse_output_to_results(
                    self.densepose,
                    self.boxes_xyxy,
                    self.classes,
                    self.cse.vertex_embeddings,
                    self.cse.class_to_mesh_name,
                )
        return self._cse_results
