"""Data types of densepose_ext. This layer imports nothing else of the package."""

from .chart_result import (
    DensePoseChartResult,
    DensePoseChartResultCompressed,
    DensePoseChartResultQuantized,
    DensePoseChartResultWithConfidences,
)
from .data_relative import DensePoseDataRelative
from .densepose_list import DensePoseList
from .predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
    PredictorOutput,
)


def _allow_in_torch_load() -> None:
    """Lets `torch.load(..., weights_only=True)` (the default) read apply_net dumps and evaluator
    predictions, which hold these dataclasses, once this package is imported."""
    import torch

    add = getattr(torch.serialization, "add_safe_globals", None)
    if add is not None:
        add(
            [
                DensePoseChartResult,
                DensePoseChartResultWithConfidences,
                DensePoseChartResultQuantized,
                DensePoseChartResultCompressed,
                DensePoseChartPredictorOutput,
                DensePoseChartPredictorOutputWithConfidences,
                DensePoseEmbeddingPredictorOutput,
                DensePoseEmbeddingPredictorOutputWithConfidences,
            ]
        )


_allow_in_torch_load()
