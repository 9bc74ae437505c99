"""Batched inference for `apply_net`: `Predictor` (fast path by default) with CPU outputs.

Per image: BGR uint8 -> (RGB if INPUT.FORMAT is RGB) -> ResizeShortestEdge(MIN_SIZE_TEST,
MAX_SIZE_TEST) -> float CHW tensor; outputs are rescaled to the original size by the model.
"""

from typing import List, Optional

import numpy as np
from detectron2.structures import Instances

from ..engine.predictor import Predictor, PredictorError
from ..utils.files import ExternalFileError

__all__ = ["BatchPredictor"]


class BatchPredictor(Predictor):
    """`predictor(images_bgr)` -> one CPU `Instances` per image; times the model separately.

    `optimize` (default True) uses `optimize_for_inference`; `fp16` CUDA autocast; `precision`
    "int8" the CPU int8 path calibrated on the folder `calibration` (None: built-in set).
    """

    def __init__(
        self,
        cfg,
        optimize: bool = True,
        fp16: bool = False,
        precision: str = "fp32",
        calibration: Optional[str] = None,
    ):
        try:
            super().__init__(
                cfg, optimize=optimize, fp16=fp16, precision=precision, calibration=calibration
            )
        except PredictorError as e:
            if "checkpoint" in str(e):
                raise ExternalFileError(str(e)) from e
            raise

    def __call__(self, images_bgr: List[np.ndarray]) -> List[Instances]:
        return [output["instances"].to("cpu") for output in self.batch(images_bgr)]
