"""Fast inference path: batch-norm folding, Winograd 3x3 convolutions, channels-last, guards.

`optimize_for_inference(model)` is the entry point; `agreement` holds the output tolerances.
"""

from .agreement import (
    TOLERANCES,
    Agreement,
    AgreementTolerances,
    chart_agreement,
    cse_agreement,
    max_box_difference,
)
from .fold import fold_batch_norms
from .guards import InferenceOnlyError, is_optimized
from .optimize import optimize_for_inference
from .winograd import WinogradConv2d, replace_with_winograd

__all__ = [
    "TOLERANCES",
    "Agreement",
    "AgreementTolerances",
    "InferenceOnlyError",
    "WinogradConv2d",
    "chart_agreement",
    "cse_agreement",
    "fold_batch_norms",
    "is_optimized",
    "max_box_difference",
    "optimize_for_inference",
    "replace_with_winograd",
]
