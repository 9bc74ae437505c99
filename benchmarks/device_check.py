"""GPU check of the fast path (run by `benchmarks/device_check.sh` on a lent GPU; < 5 minutes).

Prints seconds per image end to end (preprocessing, model, conversion of the DensePose outputs
to per-box results) for R_50_FPN_s1x and R_50_FPN_DL_s1x at 800 px, batch 1 and 8, fp32 and
fp16 (`Predictor(..., fp16=True)`: CUDA autocast), the plain fp32 model for comparison, and the
fp16-vs-fp32 agreement of the part labels on the fp32 boxes. Random weights (nothing can be
downloaded there), box classifier biased so that every image has --detections boxes.

    python benchmarks/device_check.py [--device cuda] [--iters 5]
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch
from detectron2.structures import Boxes, Instances

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inference import make_photos  # noqa: E402  (benchmarks/inference.py)

from apply_net import make_random_checkpoint  # noqa: E402  (benchmarks/apply_net.py)
from densepose_ext.config import clear_external_files, get_densepose_cfg  # noqa: E402
from densepose_ext.converters import chart_outputs_to_results  # noqa: E402
from densepose_ext.engine import Predictor  # noqa: E402
from densepose_ext.modeling.inference_opt import chart_agreement  # noqa: E402

CONFIGS = [
    "configs/densepose_rcnn_R_50_FPN_s1x.yaml",
    "configs/densepose_rcnn_R_50_FPN_DL_s1x.yaml",
]


def _cfg(config: str, weights: str, device: str, detections: int, size: int):
    cfg = clear_external_files(get_densepose_cfg())
    cfg.merge_from_file(config)
    cfg.MODEL.WEIGHTS = weights
    cfg.MODEL.DEVICE = device
    cfg.TEST.DETECTIONS_PER_IMAGE = detections
    cfg.INPUT.MIN_SIZE_TEST = size
    return cfg


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def seconds_per_image(predictor: Predictor, images, batch: int, iters: int, device: str) -> float:
    """End to end: `predictor.batch` + conversion of every image's outputs, min over iters."""
    chunk = (images * ((batch + len(images) - 1) // len(images)))[:batch]

    def run():
        for out in predictor.batch(chunk):
            inst = out["instances"]
            if inst.has("pred_densepose"):
                chart_outputs_to_results(inst.pred_densepose, inst.pred_boxes.tensor)
        _sync(device)

    run()  # warm-up (cuDNN autotuning, allocator)
    best = float("inf")
    for _ in range(iters):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / batch


def fp16_label_agreement(fp32: Predictor, fp16: Predictor, images) -> float:
    """Part labels of fp16 vs fp32 on the boxes fp32 found (the same boxes for both)."""
    fractions = []
    for image in images:
        inputs = [fp32.preprocess(image)]
        with torch.inference_mode():
            (ref,) = fp32.model(inputs)
            found = ref["instances"]
            if len(found) == 0:
                continue
            # the given-boxes path takes boxes in model-input coordinates
            height, width = inputs[0]["image"].shape[1:]
            boxes = found.pred_boxes.tensor.clone()
            boxes[:, 0::2] *= width / image.shape[1]
            boxes[:, 1::2] *= height / image.shape[0]
            given = Instances((height, width))
            given.pred_boxes = Boxes(boxes)
            given.pred_classes = found.pred_classes
            given.scores = found.scores
            a = fp32.model.inference(inputs, [given.to(fp32.device)])[0]["instances"]
            with fp16._autocast():
                b = fp16.model.inference(inputs, [given.to(fp16.device)])[0]["instances"]
        ra = chart_outputs_to_results(a.pred_densepose, a.pred_boxes.tensor)
        rb = chart_outputs_to_results(b.pred_densepose.to("cpu"), b.pred_boxes.tensor.cpu())
        ra = [r.to("cpu") for r in ra]
        fractions.append(chart_agreement(ra, rb).label_fraction)
    return float(np.mean(fractions)) if fractions else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--size", type=int, default=800, help="MIN_SIZE_TEST (short side)")
    parser.add_argument("--detections", type=int, default=5)
    parser.add_argument("--batches", default="1,8")
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit("device_check: CUDA is not available here (use --device cpu for a dry run)")
    if cuda:
        torch.backends.cudnn.benchmark = True
        print(f"GPU: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    work = tempfile.mkdtemp(prefix="device_check_")
    photos = make_photos(os.path.join(work, "photos"), 8)
    import cv2

    images = [cv2.imread(os.path.join(photos, f)) for f in sorted(os.listdir(photos))]
    batches = [int(b) for b in args.batches.split(",")]
    print("seconds per image, end to end (RANDOM WEIGHTS, min of --iters)")
    print(f"{'config':<34}{'variant':<18}" + "".join(f"{'batch ' + str(b):>10}" for b in batches))
    for config in CONFIGS:
        weights = make_random_checkpoint(config, os.path.join(work, "w.pth"))
        cfg = _cfg(config, weights, args.device, args.detections, args.size)
        name = os.path.basename(config).replace(".yaml", "")
        variants = [("plain fp32", dict(optimize=False)), ("fast fp32", dict(optimize=True))]
        if cuda:
            variants.append(("fast fp16", dict(optimize=True, fp16=True)))
        predictors = {}
        for label, kwargs in variants:
            predictor = Predictor(cfg, **kwargs)
            predictors[label] = predictor
            cells = [
                seconds_per_image(predictor, images, b, args.iters, args.device) for b in batches
            ]
            print(f"{name:<34}{label:<18}" + "".join(f"{c:>10.4f}" for c in cells), flush=True)
        if cuda:
            agreement = fp16_label_agreement(
                predictors["fast fp32"], predictors["fast fp16"], images
            )
            print(
                f"{name:<34}fp16 vs fp32 part labels equal on {agreement * 100:.3f} % of box pixels"
            )
        del predictors
        if cuda:
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
