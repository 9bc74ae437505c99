"""`DensePoseChartPredictor`: head features -> coarse / fine segmentation logits and U,
V per part."""

import torch
from torch import nn

from ...structures.predictor_outputs import DensePoseChartPredictorOutput
from ..registry import DENSEPOSE_PREDICTOR_REGISTRY
from .layers import make_deconv_layer, upsample_output

__all__ = ["DensePoseChartPredictor"]


@DENSEPOSE_PREDICTOR_REGISTRY.register()
class DensePoseChartPredictor(nn.Module):
    """Four transposed-conv layers, each followed by bilinear upsampling.

    Input [N, H, R, R] -> outputs [N, *, S, S] with S = 2 * UP_SCALE * R. Channels: coarse K
    (`NUM_COARSE_SEGM_CHANNELS`), fine / U / V C = NUM_PATCHES + 1 (channel 0 = background).
    """

    def __init__(self, cfg, input_channels: int):
        super().__init__()
        head_cfg = cfg.MODEL.ROI_DENSEPOSE_HEAD
        num_parts = head_cfg.NUM_PATCHES + 1
        kernel = head_cfg.DECONV_KERNEL
        self.scale_factor = head_cfg.UP_SCALE
        # attribute names and order are the checkpoint keys
        self.ann_index_lowres = make_deconv_layer(
            input_channels, head_cfg.NUM_COARSE_SEGM_CHANNELS, kernel
        )
        self.index_uv_lowres = make_deconv_layer(input_channels, num_parts, kernel)
        self.u_lowres = make_deconv_layer(input_channels, num_parts, kernel)
        self.v_lowres = make_deconv_layer(input_channels, num_parts, kernel)

    def interp2d(self, tensor_nchw: torch.Tensor) -> torch.Tensor:
        return upsample_output(tensor_nchw, self.scale_factor)

    def chart_fields(self, head_outputs: torch.Tensor) -> dict:
        """The four chart fields, upsampled, as a dict of [N, *, S, S] tensors."""
        return {
            "coarse_segm": self.interp2d(self.ann_index_lowres(head_outputs)),
            "fine_segm": self.interp2d(self.index_uv_lowres(head_outputs)),
            "u": self.interp2d(self.u_lowres(head_outputs)),
            "v": self.interp2d(self.v_lowres(head_outputs)),
        }

    def forward(self, head_outputs: torch.Tensor) -> DensePoseChartPredictorOutput:
        return DensePoseChartPredictorOutput(**self.chart_fields(head_outputs))
