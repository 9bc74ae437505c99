"""Converters between DensePose structures: predictor outputs -> results, masks, IUV images."""

from .boxes import given_box_instances, int_boxes_xywh
from .chart_result import (
    ToChartResultConverter,
    ToChartResultConverterWithConfidences,
    chart_outputs_to_results,
    resample_labels,
)
from .hflip import HFlipConverter, hflip_chart_predictor_output
from .iuv_image import make_iuv_image
from .prediction import CseContext, ImagePrediction
from .to_mask import ToMaskConverter
