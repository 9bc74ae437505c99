"""`DensePoseChartWithConfidencePredictor`: chart predictor plus UV and segmentation confidences."""

import torch
from torch.nn import functional as F

from ...structures.predictor_outputs import DensePoseChartPredictorOutputWithConfidences
from ..registry import DENSEPOSE_PREDICTOR_REGISTRY
from .chart import DensePoseChartPredictor
from .layers import make_deconv_layer

__all__ = ["DensePoseChartWithConfidencePredictor"]

UV_CONFIDENCE_TYPES = ("iid_iso", "indep_aniso")


@DENSEPOSE_PREDICTOR_REGISTRY.register()
class DensePoseChartWithConfidencePredictor(DensePoseChartPredictor):
    """Default chart predictor of every shipped config (also when no confidence is enabled).

    UV confidence `iid_iso` adds `sigma_2`, `indep_aniso` adds `sigma_2`, `kappa_u`, `kappa_v`
    (all raw, [N, C, S, S]). Segm confidence adds `fine_segm_confidence` / `coarse_segm_confidence`
    = softplus(raw) + eps ([N, 1, S, S]) and multiplies them into `fine_segm` / `coarse_segm`.
    `sigma_1` is always None.
    """

    def __init__(self, cfg, input_channels: int):
        super().__init__(cfg, input_channels)
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        num_parts = head_cfg.NUM_PATCHES + 1
        kernel = head_cfg.DECONV_KERNEL
        self.uv_confidence_on = head_cfg.UV_CONFIDENCE.ENABLED
        self.uv_confidence_type = head_cfg.UV_CONFIDENCE.TYPE
        self.segm_confidence_on = head_cfg.SEGM_CONFIDENCE.ENABLED
        self.segm_confidence_eps = head_cfg.SEGM_CONFIDENCE.EPSILON
        if self.uv_confidence_on:
            if self.uv_confidence_type not in UV_CONFIDENCE_TYPES:
                raise ValueError(
                    f"Unknown UV_CONFIDENCE.TYPE {self.uv_confidence_type!r}; "
                    f"expected one of {UV_CONFIDENCE_TYPES}"
                )
            self.sigma_2_lowres = make_deconv_layer(input_channels, num_parts, kernel)
            if self.uv_confidence_type == "indep_aniso":
                self.kappa_u_lowres = make_deconv_layer(input_channels, num_parts, kernel)
                self.kappa_v_lowres = make_deconv_layer(input_channels, num_parts, kernel)
        if self.segm_confidence_on:
            self.fine_segm_confidence_lowres = make_deconv_layer(input_channels, 1, kernel)
            self.coarse_segm_confidence_lowres = make_deconv_layer(input_channels, 1, kernel)

    def _segm_confidence(self, layer, head_outputs: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.interp2d(layer(head_outputs))) + self.segm_confidence_eps

    def forward(self, head_outputs: torch.Tensor) -> DensePoseChartPredictorOutputWithConfidences:
        fields = self.chart_fields(head_outputs)
        if self.uv_confidence_on:
            fields["sigma_2"] = self.interp2d(self.sigma_2_lowres(head_outputs))
            if self.uv_confidence_type == "indep_aniso":
                fields["kappa_u"] = self.interp2d(self.kappa_u_lowres(head_outputs))
                fields["kappa_v"] = self.interp2d(self.kappa_v_lowres(head_outputs))
        if self.segm_confidence_on:
            fine_conf = self._segm_confidence(self.fine_segm_confidence_lowres, head_outputs)
            coarse_conf = self._segm_confidence(self.coarse_segm_confidence_lowres, head_outputs)
            fields["fine_segm_confidence"] = fine_conf  # [N, 1, S, S]
            fields["coarse_segm_confidence"] = coarse_conf
            fields["fine_segm"] = fields["fine_segm"] * fine_conf  # broadcast over channels
            fields["coarse_segm"] = fields["coarse_segm"] * coarse_conf
        return DensePoseChartPredictorOutputWithConfidences(**fields)
