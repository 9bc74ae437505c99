"""`optimize_with_precision`: the predictor's model on the fast float32 path or the int8 path."""

import logging
import time
from typing import Callable, Dict, Sequence, Union

import numpy as np
from torch import nn

from ...modeling.inference_opt import optimize_for_inference
from ...modeling.inference_opt.int8 import int8_refusal, int8_state
from .cache import Int8Cache, int8_cache_key
from .calibration import builtin_calibration_images, load_calibration_images

__all__ = ["PRECISIONS", "optimize_with_precision"]

logger = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
CalibrationSource = Union[None, str, Sequence[np.ndarray]]


def _calibration_images(calibration: CalibrationSource):
    """(BGR images, identity for the cache key) of a folder, a list of images or the default."""
    if calibration is None:
        return builtin_calibration_images()
    if isinstance(calibration, str):
        return load_calibration_images(calibration)
    images = list(calibration)
    return images, None  # images in memory: not cached


def optimize_with_precision(
    model: nn.Module,
    cfg,
    precision: str,
    calibration: CalibrationSource,
    preprocess: Callable[[np.ndarray], Dict],
) -> str:
    """Optimizes `model` in place for `precision`; returns the precision it runs in.

    int8 where it cannot run (GPU device, HRNet backbone) falls back to float32 with a warning
    that says why. calibration: a folder of images, a list of BGR images or None (built-in
    synthetic people). Quantized parts are cached per checkpoint when it is a local file.
    Raises `CalibrationError` for a folder without a readable image.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        optimize_for_inference(model)
        return "fp32"
    refusal = int8_refusal(model)
    if refusal:
        logger.warning(f"{refusal}: running in float32 instead")
        optimize_for_inference(model)
        return "fp32"
    images, identity = _calibration_images(calibration)
    key = int8_cache_key(cfg, identity) if identity else None
    cache = Int8Cache(key) if key else None
    state = cache.load() if cache else None
    if state is not None:
        try:
            optimize_for_inference(model, precision="int8", calibration=state)
            return "int8"
        except Exception as e:  # a file from another layout: calibrate again
            logger.warning(f"int8: cannot use the cached {cache.path} ({e}); calibrating again")
    start = time.perf_counter()
    inputs = [preprocess(image) for image in images]
    optimize_for_inference(model, precision="int8", calibration=inputs)
    logger.info(f"int8 calibration on {len(inputs)} images: {time.perf_counter() - start:.1f} s")
    if cache:
        cache.save(int8_state(model))
    return "int8"
