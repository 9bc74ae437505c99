"""Batched inference with a model built from a config, as detectron2's `DefaultPredictor` does.

Per image: BGR uint8 -> (RGB if INPUT.FORMAT is RGB) -> ResizeShortestEdge(MIN_SIZE_TEST,
MAX_SIZE_TEST) -> float CHW tensor; outputs are rescaled to the original size by the model.
A side that the resize would round to 0 pixels (extreme aspect ratios such as 3000x2) keeps 1.
"""

import time
from typing import List

import numpy as np
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import transforms as T
from detectron2.modeling import build_model
from detectron2.structures import Instances

from ..utils.files import ExternalFileError

__all__ = ["BatchPredictor"]


class BatchPredictor:
    """`predictor(images_bgr)` -> one CPU `Instances` per image; times the model separately.

    `model_seconds` accumulates the time spent in the model's forward (synchronised on GPU).
    """

    def __init__(self, cfg):
        self.cfg = cfg.clone()
        self.model = build_model(self.cfg)
        self.model.eval()
        try:
            DetectionCheckpointer(self.model).load(cfg.MODEL.WEIGHTS)
        except Exception as e:  # truncated file, not a checkpoint, incompatible shapes
            raise ExternalFileError(f"cannot load checkpoint {cfg.MODEL.WEIGHTS!r}: {e}") from e
        self.resize = T.ResizeShortestEdge(
            [cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MIN_SIZE_TEST], cfg.INPUT.MAX_SIZE_TEST
        )
        self.input_format = cfg.INPUT.FORMAT
        if self.input_format not in ("RGB", "BGR"):
            raise ValueError(f"INPUT.FORMAT must be RGB or BGR, got {self.input_format!r}")
        self.device = torch.device(cfg.MODEL.DEVICE)
        self.model_seconds = 0.0

    def resize_transform(self, image: np.ndarray) -> T.Transform:
        """The test-time resize; never shrinks a side below 1 pixel (PIL rejects 0)."""
        transform = self.resize.get_transform(image)
        if isinstance(transform, T.ResizeTransform) and min(transform.new_h, transform.new_w) < 1:
            transform = T.ResizeTransform(
                transform.h,
                transform.w,
                max(transform.new_h, 1),
                max(transform.new_w, 1),
                transform.interp,
            )
        return transform

    def preprocess(self, image_bgr: np.ndarray) -> dict:
        height, width = image_bgr.shape[:2]
        image = image_bgr[:, :, ::-1] if self.input_format == "RGB" else image_bgr
        image = self.resize_transform(image).apply_image(image)
        tensor = torch.as_tensor(
            np.ascontiguousarray(image.transpose(2, 0, 1)), dtype=torch.float32
        )
        return {"image": tensor, "height": height, "width": width}

    def __call__(self, images_bgr: List[np.ndarray]) -> List[Instances]:
        inputs = [self.preprocess(image) for image in images_bgr]
        start = time.perf_counter()
        with torch.no_grad():
            outputs = self.model(inputs)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.model_seconds += time.perf_counter() - start
        return [output["instances"].to("cpu") for output in outputs]
