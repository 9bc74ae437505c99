"""The predictor interface of the tools, its typed errors, and the torch-model predictors.

- `InstancesPredictor` (interface): a list of BGR images -> one CPU `Instances` per image, with the
  time spent in the model and the CSE embedder; what the run loops (apply_net, texture, the
  distributed and video runs) call, whatever runs the model (this package's model, an exported
  file: `apply.backend.ExportedPredictor`).
- `Predictor`: detectron2's `DefaultPredictor` on the fast inference path. BGR uint8 `ndarray`
  in, `{"instances": Instances}` out (on the model's device); `batch(images)` runs several images
  in one forward pass. The model is optimized with `optimize_for_inference` unless
  `optimize=False`; `fp16=True` runs it under CUDA autocast (float16); `precision="int8"`
  quantizes it for the CPU (`engine/int8`, calibrated on `calibration`: a folder, a list of BGR
  images or None for a built-in synthetic set).
- `BatchPredictor`: `Predictor` behind the `InstancesPredictor` interface.

Errors: `PredictorError` for an option that cannot work here, `CheckpointError` for weights that
cannot be loaded (also an `ExternalFileError`: a file problem), `BackendError` for a runtime or
exported file that cannot be used.
"""

import abc
import contextlib
import time
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from detectron2.data import transforms as T
from detectron2.modeling import build_model
from detectron2.structures import Instances

from ..modeling.checkpoint import CheckpointFileError, DensePoseCheckpointer
from ..utils.files import ExternalFileError
from .int8 import CalibrationError, optimize_with_precision

__all__ = [
    "BackendError",
    "BatchPredictor",
    "CheckpointError",
    "InstancesPredictor",
    "Predictor",
    "PredictorError",
]


class PredictorError(ValueError):
    """A predictor option that cannot work here (e.g. fp16 without CUDA)."""


class CheckpointError(PredictorError, ExternalFileError):
    """The weights file cannot be loaded into the model; the message names the file."""


class BackendError(PredictorError):
    """The backend cannot run here (runtime not installed, exported file unusable)."""


class InstancesPredictor(abc.ABC):
    """`predictor(images_bgr) -> [Instances]`: the interface every run loop calls.

    `model_seconds` accumulates the time spent running the model; `embedder` is the CSE
    vertex embedder (mesh name -> [V, D]) of a CSE model, None otherwise.
    """

    model_seconds: float = 0.0

    @property
    def embedder(self) -> Optional[Callable]:
        return None

    @abc.abstractmethod
    def __call__(self, images_bgr: Sequence[np.ndarray]) -> List[Instances]:
        """Args: images_bgr: BGR uint8 [H, W, 3] each. Returns: one CPU `Instances` per image,
        boxes in the image's pixels."""


class Predictor:
    """`predictor(image_bgr) -> {"instances": ...}`; `predictor.batch([images]) -> [dicts]`.

    cfg: a DensePose config (MODEL.WEIGHTS loaded when set). device: defaults to
    MODEL.DEVICE. `model_seconds` accumulates the time spent in the model (synchronised on GPU).
    """

    def __init__(
        self,
        cfg,
        optimize: bool = True,
        fp16: bool = False,
        device: Optional[str] = None,
        precision: str = "fp32",
        calibration: Union[None, str, Sequence[np.ndarray]] = None,
    ):
        self.cfg = cfg.clone()
        self.device = torch.device(device or cfg.MODEL.DEVICE)
        if fp16 and self.device.type != "cuda":
            raise PredictorError(
                f"fp16 needs a CUDA device, got {str(self.device)!r} (on CPU use float32)"
            )
        self.cfg.defrost()
        self.cfg.MODEL.DEVICE = str(self.device)
        self.model = build_model(self.cfg).eval()
        if cfg.MODEL.WEIGHTS:
            try:
                DensePoseCheckpointer(self.model).load(cfg.MODEL.WEIGHTS)
            except CheckpointFileError as e:  # names the file already
                raise CheckpointError(str(e)) from e
            except Exception as e:  # truncated file, not a checkpoint, incompatible shapes
                raise CheckpointError(f"cannot load checkpoint {cfg.MODEL.WEIGHTS!r}: {e}") from e
        self.fp16 = fp16
        self.resize = T.ResizeShortestEdge(
            [cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MIN_SIZE_TEST], cfg.INPUT.MAX_SIZE_TEST
        )
        self.input_format = cfg.INPUT.FORMAT
        if self.input_format not in ("RGB", "BGR"):
            raise PredictorError(f"INPUT.FORMAT must be RGB or BGR, got {self.input_format!r}")
        if precision != "fp32" and not optimize:
            raise PredictorError(
                f"precision={precision!r} needs the optimized model (optimize=True)"
            )
        self.precision = "fp32"  # what the model runs in (int8 may fall back to fp32)
        if optimize:
            try:
                self.precision = optimize_with_precision(
                    self.model, self.cfg, precision, calibration, self.preprocess
                )
            except (CalibrationError, ValueError) as e:
                raise PredictorError(str(e)) from e
        self.model_seconds = 0.0

    def resize_transform(self, image: np.ndarray) -> T.Transform:
        """The test-time resize; a side it would round to 0 pixels (extreme aspect ratios such as
        3000x2) keeps 1 (PIL rejects 0)."""
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

    def preprocess(self, image_bgr: np.ndarray) -> Dict:
        """BGR uint8 [H, W, 3] -> model input dict (resized float CHW tensor, original size)."""
        if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            shape = getattr(image_bgr, "shape", type(image_bgr).__name__)
            raise PredictorError(f"expected a BGR image array [H, W, 3], got {shape}")
        height, width = image_bgr.shape[:2]
        image = image_bgr[:, :, ::-1] if self.input_format == "RGB" else image_bgr
        image = self.resize_transform(image).apply_image(image)
        tensor = torch.as_tensor(
            np.ascontiguousarray(image.transpose(2, 0, 1)), dtype=torch.float32
        )
        return {"image": tensor, "height": height, "width": width}

    def _autocast(self):
        if self.fp16:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def run_model(self, inputs: List[Dict]) -> List[Dict]:
        """The model on preprocessed inputs, timed (`model_seconds`)."""
        start = time.perf_counter()
        with torch.inference_mode(), self._autocast():
            outputs = self.model(inputs)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.model_seconds += time.perf_counter() - start
        return outputs

    def batch(self, images_bgr: Sequence[np.ndarray]) -> List[Dict]:
        """One `{"instances": ...}` per image, in one forward pass."""
        if len(images_bgr) == 0:
            return []
        return self.run_model([self.preprocess(image) for image in images_bgr])

    def __call__(self, image_bgr: np.ndarray) -> Dict:
        return self.batch([image_bgr])[0]


class BatchPredictor(Predictor, InstancesPredictor):
    """`Predictor` behind the `InstancesPredictor` interface: CPU `Instances`, one forward pass.

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
        super().__init__(
            cfg, optimize=optimize, fp16=fp16, precision=precision, calibration=calibration
        )

    @property
    def embedder(self) -> Optional[Callable]:
        return getattr(self.model.roi_heads, "embedder", None)

    def __call__(self, images_bgr: Sequence[np.ndarray]) -> List[Instances]:
        return [output["instances"].to("cpu") for output in self.batch(images_bgr)]
