"""`DensePoseExportModule`: a DensePose R-CNN as one tensor-in / tensors-out function for tracing.

Input: uint8 [H, W, 3] BGR image of any size. Outputs (a flat tuple, names in `output_names`):
`boxes` float32 [N, 4] XYXY in input-image pixels, `scores` float32 [N], `classes` int64 [N], the
predictor's S x S fields (chart: `coarse_segm`, `fine_segm`, `u`, `v` and any confidences; CSE:
`embedding`, `coarse_segm`, ...) as float32 [N, C, S, S] box-relative maps, then for CSE models one
`vertex_embeddings/<mesh>` float32 [V, D] (L2-normalised rows) per mesh, a constant of the graph.
"""

import dataclasses
from typing import Dict, List, Optional, Tuple

import torch
from detectron2.modeling.postprocessing import detector_postprocess
from detectron2.modeling.roi_heads.fast_rcnn import fast_rcnn_inference_single_image
from detectron2.structures import Instances
from torch import nn
from torch.nn import functional as F

from .preprocess import resize_image

__all__ = ["DensePoseExportModule", "VERTEX_EMBEDDINGS_PREFIX", "densepose_field_names"]

VERTEX_EMBEDDINGS_PREFIX = "vertex_embeddings/"
_DETECTION_OUTPUTS = ("boxes", "scores", "classes")


def densepose_field_names(model: nn.Module) -> List[str]:
    """Names of the non-None predictor output fields, found by running the predictor on zeros."""
    roi_heads = model.roi_heads
    predictor = roi_heads.densepose_predictor
    resolution = roi_heads.densepose_pooler.output_size[0]
    channels = _first_parameter(roi_heads.densepose_head).shape[1]
    param = _first_parameter(predictor)
    with torch.no_grad():
        probe = torch.zeros(
            1, channels, resolution, resolution, dtype=param.dtype, device=param.device
        )
        output = predictor(roi_heads.densepose_head(probe))
    return [f.name for f in dataclasses.fields(output) if getattr(output, f.name) is not None]


def _first_parameter(module: nn.Module) -> torch.Tensor:
    return next(module.parameters())


class DensePoseExportModule(nn.Module):
    """Wraps a detectron2 `GeneralizedRCNN` with `DensePoseROIHeads` (eval mode) for export.

    The DensePose branch always runs (also on zero boxes), so one traced graph serves every N.
    `vertex_embeddings`: mesh name -> [V, D] normalised embeddings, stored as buffers.
    The box score threshold and the test resize sizes are 0-dim buffers (`score_thresh`,
    `min_size`, `max_size`): the exporter traces with threshold 0 (so that the traced path has
    detections) and a small resize (fast tracing), then restores them; they stay adjustable in
    the artefact.
    """

    def __init__(
        self,
        model: nn.Module,
        min_size: int,
        max_size: int,
        input_format: str,
        vertex_embeddings: Optional[Dict[str, torch.Tensor]] = None,
    ):
        super().__init__()
        if input_format not in ("RGB", "BGR"):
            raise ValueError(f"INPUT.FORMAT must be RGB or BGR, got {input_format!r}")
        self.model = model.eval()
        self.register_buffer("min_size", torch.tensor(int(min_size)))
        self.register_buffer("max_size", torch.tensor(int(max_size)))
        self.to_rgb = input_format == "RGB"
        self.register_buffer(
            "score_thresh", torch.tensor(float(model.roi_heads.box_predictor.test_score_thresh))
        )
        self.field_names = densepose_field_names(model)
        self.mesh_names = list(vertex_embeddings or {})
        for i, name in enumerate(self.mesh_names):
            self.register_buffer(
                f"vertex_embeddings_{i}", vertex_embeddings[name].detach().float().clone()
            )
        self.eval()  # exporters restore the wrapper's mode afterwards: it must be eval too

    @property
    def output_names(self) -> List[str]:
        meshes = [VERTEX_EMBEDDINGS_PREFIX + m for m in self.mesh_names]
        return list(_DETECTION_OUTPUTS) + list(self.field_names) + meshes

    @property
    def dtype(self) -> torch.dtype:
        return self.model.pixel_mean.dtype

    def preprocess(self, image_bgr: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """uint8 [H, W, 3] -> (float [3, h, w] model input in the model's dtype, int64 [2] (H,
        W))."""
        chw, height_width = resize_image(image_bgr, self.min_size, self.max_size, self.to_rgb)
        return chw.to(self.dtype), height_width

    def _detect(self, features: Dict[str, torch.Tensor], proposals: Instances) -> Instances:
        """Box head + `fast_rcnn_inference` for one image, as `StandardROIHeads._forward_box`.

        Written for a single image because the batched version splits per image with Python
        ints, which tracing would freeze to the proposal count of the example.
        """
        roi_heads = self.model.roi_heads
        box_predictor = roi_heads.box_predictor
        box_features = roi_heads.box_pooler(
            [features[f] for f in roi_heads.box_in_features], [proposals.proposal_boxes]
        )
        logits, deltas = box_predictor(roi_heads.box_head(box_features))
        boxes = box_predictor.box2box_transform.apply_deltas(
            deltas, proposals.proposal_boxes.tensor
        )
        probs = logits.sigmoid() if box_predictor.use_sigmoid_ce else F.softmax(logits, dim=-1)
        instances, _ = fast_rcnn_inference_single_image(
            boxes,
            probs,
            proposals.image_size,
            self.score_thresh,
            box_predictor.test_nms_thresh,
            box_predictor.test_topk_per_image,
        )
        return instances

    def _densepose_fields(
        self, features: Dict[str, torch.Tensor], boxes
    ) -> Dict[str, torch.Tensor]:
        roi_heads = self.model.roi_heads
        features_list = [features[f] for f in roi_heads.in_features]
        output = roi_heads.densepose_outputs(features_list, [boxes])
        return {name: getattr(output, name) for name in self.field_names}

    def _features_and_detections(self, image_bgr: torch.Tensor):
        model = self.model
        chw, height_width = self.preprocess(image_bgr)
        images = model.preprocess_image([{"image": chw}])
        features = model.backbone(images.tensor)
        proposals, _ = model.proposal_generator(images, features, None)
        return features, self._detect(features, proposals[0]), height_width

    def detection_scores(self, image_bgr: torch.Tensor) -> torch.Tensor:
        """Scores [N] of the detections (>= `score_thresh`),
        without running the DensePose branch."""
        return self._features_and_detections(image_bgr)[1].scores

    def forward(self, image_bgr: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        features, instances, height_width = self._features_and_detections(image_bgr)
        for name, value in self._densepose_fields(features, instances.pred_boxes).items():
            instances.set(f"densepose_{name}", value)  # [N, C, S, S], filtered with the boxes below
        instances = detector_postprocess(instances, height_width[0], height_width[1])
        outputs = [
            instances.pred_boxes.tensor.float(),
            instances.scores.float(),
            instances.pred_classes.to(torch.int64),
        ]
        outputs += [instances.get(f"densepose_{name}").float() for name in self.field_names]
        outputs += [getattr(self, f"vertex_embeddings_{i}") for i in range(len(self.mesh_names))]
        return tuple(outputs)
