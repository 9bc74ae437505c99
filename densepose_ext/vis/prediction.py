"""Deprecated location of `ImagePrediction` / `CseContext`:
use `densepose_ext.converters.prediction`.

Kept for one release so that existing imports keep working.
"""

import warnings

from ..converters.prediction import CseContext, ImagePrediction

__all__ = ["CseContext", "ImagePrediction"]

warnings.warn(
    "densepose_ext.vis.prediction moved to densepose_ext.converters.prediction",
    DeprecationWarning,
    stacklevel=2,
)
