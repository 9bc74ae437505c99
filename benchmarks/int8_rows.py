"""int8 rows of benchmarks/inference.py and benchmarks/apply_net.py (`--int8`): the int8 model
next to the plain and fast float32 ones, its calibration time and cached size."""

import copy
import os
import tempfile
import time
from typing import Dict, List, Tuple

import torch
from detectron2.data import transforms as T

from densepose_ext import optimize_for_inference
from densepose_ext.engine.int8 import builtin_calibration_images
from densepose_ext.modeling.inference_opt.int8 import int8_state


def calibration_inputs(cfg) -> List[Dict]:
    """The built-in calibration images as the predictor feeds them (resized, BGR CHW float)."""
    resize = T.ResizeShortestEdge([cfg.INPUT.MIN_SIZE_TEST] * 2, cfg.INPUT.MAX_SIZE_TEST)
    inputs = []
    for image in builtin_calibration_images()[0]:
        resized = resize.get_transform(image).apply_image(image)
        tensor = torch.as_tensor(resized.transpose(2, 0, 1).copy()).float()
        inputs.append({"image": tensor, "height": image.shape[0], "width": image.shape[1]})
    return inputs


def int8_model(plain, cfg) -> Tuple[torch.nn.Module, Dict[str, float]]:
    """The int8 copy of `plain`; calibration + conversion seconds and the cached size (MB)."""
    inputs = calibration_inputs(cfg)
    start = time.perf_counter()
    model = optimize_for_inference(copy.deepcopy(plain), precision="int8", calibration=inputs)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "int8.pt")
        torch.save(int8_state(model), path)
        size_mb = os.path.getsize(path) / 2**20
    return model, {"calibration_s": seconds, "cached_mb": size_mb, "images": len(inputs)}
