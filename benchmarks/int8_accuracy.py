#!/usr/bin/env python
"""Accuracy of the int8 path: GPS / GPSm AP of a model trained on synthetic people, int8 vs fp32.

Trains (once; cached in --out) the small chart model of demo/configs/synthetic_R_18_chart.yaml on
a synthetic train split, then evaluates on the synthetic val split with the plain float32 model,
the fast float32 path and the int8 path (calibrated on --calibration-images train images), and
reports AP (bbox, GPS, GPSm, segm) per path plus the int8-vs-fp32 agreement on the GT boxes of the
val people (part labels, U/V p99) and the calibration time.

    python benchmarks/int8_accuracy.py --out output/int8_synth --num-train 500 --num-val 60 \\
        --iters 600
"""

import argparse
import copy
import json
import os
import sys
import time

import cv2
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from detectron2.config import get_cfg  # noqa: E402
from detectron2.structures import Boxes, Instances  # noqa: E402
from detectron2.utils.logger import setup_logger  # noqa: E402

from densepose_ext import add_densepose_config, optimize_for_inference  # noqa: E402
from densepose_ext.converters import chart_outputs_to_results  # noqa: E402
from densepose_ext.data.synthetic import register_synthetic_datasets  # noqa: E402
from densepose_ext.engine import Trainer  # noqa: E402
from densepose_ext.modeling.checkpoint import DensePoseCheckpointer  # noqa: E402
from densepose_ext.modeling.inference_opt import chart_agreement  # noqa: E402

CONFIG = os.path.join(REPO, "demo", "configs", "synthetic_R_18_chart.yaml")
AP_TASKS = {
    "bbox": "bbox",
    "densepose_gps": "GPS",
    "densepose_gpsm": "GPSm",
    "densepose_segm": "IOU",
}


def build_cfg(args):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(CONFIG)
    cfg.SOLVER.MAX_ITER = args.iters
    cfg.SOLVER.STEPS = (int(args.iters * 0.8),)
    cfg.SOLVER.CHECKPOINT_PERIOD = 10**9
    cfg.OUTPUT_DIR = os.path.join(args.out, "train")
    return cfg


def train(cfg) -> str:
    final = os.path.join(cfg.OUTPUT_DIR, "model_final.pth")
    if not os.path.isfile(final):
        os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
        torch.manual_seed(0)
        trainer = Trainer(cfg)
        trainer.resume_or_load(resume=False)
        trainer.train()
    return final


def image_inputs(records, count=None):
    """Model inputs (BGR CHW float, at the image's own size) of dataset records."""
    inputs = []
    for record in records[:count]:
        image = cv2.imread(record["file_name"], cv2.IMREAD_COLOR)
        tensor = torch.as_tensor(image.transpose(2, 0, 1).copy()).float()
        inputs.append({"image": tensor, "height": image.shape[0], "width": image.shape[1]})
    return inputs


def gt_box_results(model, records, inputs):
    results = []
    with torch.no_grad():
        for record, item in zip(records, inputs):
            boxes = [a["bbox"] for a in record["annotations"]]
            if not boxes:
                continue
            inst = Instances(item["image"].shape[-2:])
            xyxy = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=torch.float32)
            inst.pred_boxes = Boxes(xyxy)
            inst.pred_classes = torch.zeros(len(boxes), dtype=torch.int64)
            out = model.inference([item], [inst], do_postprocess=False)[0]
            results += chart_outputs_to_results(out.pred_densepose, out.pred_boxes.tensor)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/int8_synth")
    parser.add_argument("--num-train", type=int, default=500)
    parser.add_argument("--num-val", type=int, default=60)
    parser.add_argument("--iters", type=int, default=600)
    parser.add_argument("--calibration-images", type=int, default=8)
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args()
    setup_logger(name="densepose_ext")
    data_root = os.path.join(args.out, "data")
    register_synthetic_datasets(data_root, args.num_train, args.num_val, workers=1)
    cfg = build_cfg(args)
    weights = train(cfg)
    if args.train_only:
        return
    from detectron2.data import DatasetCatalog

    cfg.MODEL.WEIGHTS = weights
    plain = Trainer.build_model(cfg).eval()
    DensePoseCheckpointer(plain).load(weights)
    fast = optimize_for_inference(copy.deepcopy(plain))
    train_records = DatasetCatalog.get(cfg.DATASETS.TRAIN[0])
    calibration = image_inputs(train_records, args.calibration_images)
    start = time.perf_counter()
    int8 = optimize_for_inference(copy.deepcopy(plain), precision="int8", calibration=calibration)
    calibration_s = time.perf_counter() - start
    report = {"calibration_s": round(calibration_s, 1), "iters": args.iters}
    for name, model in (("fp32_plain", plain), ("fp32_fast", fast), ("int8", int8)):
        results = Trainer.test(cfg, model)
        report[name] = {
            short: round(float(results[task]["AP"]), 2)
            for task, short in AP_TASKS.items()
            if task in results
        }
    val_records = DatasetCatalog.get(cfg.DATASETS.TEST[0])
    val_inputs = image_inputs(val_records)
    reference = gt_box_results(plain, val_records, val_inputs)
    for name, model in (("fp32_fast", fast), ("int8", int8)):
        agreement = chart_agreement(reference, gt_box_results(model, val_records, val_inputs))
        report[f"{name}_agreement"] = {
            "labels": round(agreement.label_fraction, 4),
            "uv_p99": round(agreement.uv_p99, 4),
        }
    print(json.dumps(report, indent=1))
    with open(os.path.join(args.out, "int8_accuracy.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
