"""CSE predictors: head features -> coarse segmentation logits and per-pixel embeddings."""

import torch
from torch import nn
from torch.nn import functional as F

from ...structures.predictor_outputs import (
    DensePoseEmbeddingPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
)
from ..predictors.layers import make_deconv_layer, upsample_output
from ..registry import DENSEPOSE_PREDICTOR_REGISTRY

__all__ = ["DensePoseEmbeddingPredictor", "DensePoseEmbeddingWithConfidencePredictor"]


@DENSEPOSE_PREDICTOR_REGISTRY.register()
class DensePoseEmbeddingPredictor(nn.Module):
    """Two transposed-conv layers, each followed by bilinear upsampling.

    Input [N, H, R, R] -> `coarse_segm` [N, K, S, S] logits and un-normalised `embedding`
    [N, D, S, S] with S = 2 * UP_SCALE * R, K = NUM_COARSE_SEGM_CHANNELS, D = CSE.EMBED_SIZE.
    """

    def __init__(self, cfg, input_channels: int):
        super().__init__()
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        kernel = head_cfg.DECONV_KERNEL
        self.scale_factor = head_cfg.UP_SCALE
        # attribute names and order are the checkpoint keys
        self.coarse_segm_lowres = make_deconv_layer(
            input_channels, head_cfg.NUM_COARSE_SEGM_CHANNELS, kernel
        )
        self.embed_lowres = make_deconv_layer(input_channels, head_cfg.CSE.EMBED_SIZE, kernel)

    def interp2d(self, tensor_nchw: torch.Tensor) -> torch.Tensor:
        return upsample_output(tensor_nchw, self.scale_factor)

    def forward(self, head_outputs: torch.Tensor) -> DensePoseEmbeddingPredictorOutput:
        return DensePoseEmbeddingPredictorOutput(
            embedding=self.interp2d(self.embed_lowres(head_outputs)),
            coarse_segm=self.interp2d(self.coarse_segm_lowres(head_outputs)),
        )


@DENSEPOSE_PREDICTOR_REGISTRY.register()
class DensePoseEmbeddingWithConfidencePredictor(DensePoseEmbeddingPredictor):
    """Adds, with SEGM_CONFIDENCE.ENABLED, `coarse_segm_confidence` [N, 1, S, S] = softplus + eps,
    by which the returned `coarse_segm` is already multiplied."""

    def __init__(self, cfg, input_channels: int):
        super().__init__(cfg, input_channels)
        confidence_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD.SEGM_CONFIDENCE
        self.segm_confidence_enabled = confidence_cfg.ENABLED
        self.segm_confidence_epsilon = confidence_cfg.EPSILON
        if self.segm_confidence_enabled:
            kernel = cfg.MODEL.ROI_DENSEPOSE_HEAD.DECONV_KERNEL
            self.coarse_segm_confidence_lowres = make_deconv_layer(input_channels, 1, kernel)

    def forward(
        self, head_outputs: torch.Tensor
    ) -> DensePoseEmbeddingPredictorOutputWithConfidences:
        base = super().forward(head_outputs)
        coarse_segm, confidence = base.coarse_segm, None
        if self.segm_confidence_enabled:
            raw = self.interp2d(self.coarse_segm_confidence_lowres(head_outputs))
            confidence = F.softplus(raw) + self.segm_confidence_epsilon
            coarse_segm = coarse_segm * confidence  # [N, K, S, S] * [N, 1, S, S]
        return DensePoseEmbeddingPredictorOutputWithConfidences(
            embedding=base.embedding, coarse_segm=coarse_segm, coarse_segm_confidence=confidence
        )
