"""DensePose predictors; importing registers them in DENSEPOSE_PREDICTOR_REGISTRY."""

from .chart import DensePoseChartPredictor
from .chart_confidence import DensePoseChartWithConfidencePredictor
from .layers import make_deconv_layer, upsample_output
