"""int8 inference for `Predictor` / apply_net: calibration images and the per-checkpoint cache.

The quantization itself is `densepose_ext.modeling.inference_opt.int8`.
"""

from .cache import Int8Cache, int8_cache_key
from .calibration import CalibrationError, builtin_calibration_images, load_calibration_images
from .setup import optimize_with_precision

__all__ = [
    "CalibrationError",
    "Int8Cache",
    "builtin_calibration_images",
    "int8_cache_key",
    "load_calibration_images",
    "optimize_with_precision",
]
