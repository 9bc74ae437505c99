"""Data types of densepose_ext. This layer imports nothing else of the package."""
from .predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
    PredictorOutput,
)
