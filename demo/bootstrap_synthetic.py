#!/usr/bin/env python
"""Bootstrapping demo on synthetic data: master on a source style,
student on an unlabelled target style.

Source style: the synthetic generator's images (seed 0). Target style: images of another seed
re-rendered in a "grey, low-contrast, noisy camera" look (`stylise`),
same geometry and ground truth.
Steps (each on CPU, sizes from the command line):
  1. master  = synthetic_R_18_chart.yaml trained on source-style images (full DensePose GT);
  2. student = master weights + training on source GT mixed 1:1 with the master's pseudo-GT on the
     unlabelled target-style images (synthetic_R_18_chart_bootstrap.yaml);
  3. control = master weights + the same number of iterations on source GT only;
  all evaluated (bbox AP, DensePose GPS / GPSm AP) on annotated target-style validation images.

    python demo/bootstrap_synthetic.py --out output/bootstrap_synth --master-iters 450
    --student-iters 80
"""

import argparse
import json
import logging
import os
import sys
import time
import zlib

import cv2
import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from detectron2.config import get_cfg  # noqa: E402
from detectron2.utils.logger import setup_logger  # noqa: E402
from overrides import schedule_overrides, size_overrides  # noqa: E402

from densepose_ext import add_densepose_config  # noqa: E402
from densepose_ext.data.bootstrap import register_image_list_dataset  # noqa: E402
from densepose_ext.data.synthetic import generate_synthetic_dataset, register_synthetic_dataset  # noqa: E402
from densepose_ext.engine import Trainer  # noqa: E402

CONFIGS = os.path.join(REPO, "demo", "configs")


def stylise(image_bgr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Target style: grey, half contrast, Gaussian noise (sigma 10 grey levels)."""
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey = 128 + 0.5 * (grey - 128) + rng.normal(0, 10, grey.shape)
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def prepare_data(out: str, num_source: int, num_target: int, num_val: int, size: int, workers: int):
    source = generate_synthetic_dataset(
        os.path.join(out, "source"),
        num_images=num_source + num_val,
        size=size,
        seed=0,
        num_val=num_val,
        workers=workers,
    )
    target = generate_synthetic_dataset(
        os.path.join(out, "target"),
        num_images=num_target + num_val,
        size=size,
        seed=1,
        num_val=num_val,
        workers=workers,
    )
    styled_root = os.path.join(out, "target", "images_styled")
    os.makedirs(styled_root, exist_ok=True)
    names = sorted(os.listdir(target.image_root))
    for name in names:
        dst = os.path.join(styled_root, name)
        if not os.path.isfile(dst):
            rng = np.random.default_rng(zlib.crc32(name.encode()))  # hash() differs per process
            cv2.imwrite(dst, stylise(cv2.imread(os.path.join(target.image_root, name)), rng))
    register_synthetic_dataset(
        "densepose_synth_source_train", source.train_json, source.image_root, source.body
    )
    register_synthetic_dataset(
        "densepose_synth_source_val", source.val_json, source.image_root, source.body
    )
    register_synthetic_dataset(
        "densepose_synth_target_val", target.val_json, styled_root, target.body
    )
    with open(target.train_json) as f:
        unlabelled = [
            img["file_name"] for img in json.load(f)["images"]
        ]  # annotations are not used
    register_image_list_dataset(
        "densepose_synth_target_unlabelled", unlabelled, styled_root, category="person"
    )


def make_cfg(config: str, out_dir: str, opts):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(os.path.join(CONFIGS, config))
    cfg.merge_from_list(opts)
    cfg.OUTPUT_DIR = out_dir
    cfg.DATASETS.TRAIN = ("densepose_synth_source_train",)
    cfg.DATASETS.TEST = ("densepose_synth_target_val",)
    cfg.DATALOADER.NUM_WORKERS = 0
    return cfg


def train(cfg, init_weights: str = ""):
    os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
    cfg.MODEL.WEIGHTS = init_weights
    torch.manual_seed(cfg.SEED if cfg.SEED >= 0 else 0)
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=False)
    start = time.perf_counter()
    trainer.train()  # detectron2's EvalHook evaluates on DATASETS.TEST after the last iteration
    seconds = time.perf_counter() - start
    torch.save({"model": trainer.model.state_dict()}, os.path.join(cfg.OUTPUT_DIR, "final.pth"))
    return trainer._last_eval_results, seconds


def evaluate(cfg, weights: str, dataset: str):
    from densepose_ext.modeling import DensePoseCheckpointer

    model = Trainer.build_model(cfg)
    DensePoseCheckpointer(model).load(weights)
    one = cfg.clone()
    one.DATASETS.TEST = (dataset,)
    return Trainer.test(one, model)


def summary(results) -> dict:
    row = {}
    if results and "bbox" in results:  # a single test set
        results = {"densepose_synth_target_val": results}
    for dataset, res in results.items():
        for task in ("bbox", "densepose_gps", "densepose_gpsm", "densepose_segm"):
            if task in res:
                row[f"{dataset}/{task}/AP"] = round(float(res[task]["AP"]), 2)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default="output/bootstrap_synth")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--num-source", type=int, default=200)
    p.add_argument("--num-target", type=int, default=100)
    p.add_argument("--num-val", type=int, default=25)
    p.add_argument("--master-iters", type=int, default=450)
    p.add_argument(
        "--master-weights", default="", help="use this source-style master instead of training one"
    )
    p.add_argument("--student-iters", type=int, default=80)
    p.add_argument("--sampler", default="densepose_uniform")
    p.add_argument("--min-score", type=float, default=0.7)
    p.add_argument("--skip-control", action="store_true")
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    setup_logger(name="densepose_ext")
    logging.getLogger("d2.engine.train_loop").setLevel(logging.WARNING)
    prepare_data(args.out, args.num_source, args.num_target, args.num_val, args.size, args.workers)
    size_opts = size_overrides(args.size)
    report = {"args": vars(args)}

    def schedule(iters):
        return schedule_overrides(iters, warmup_cap=100, warmup_share=4, checkpoints=False)

    master_cfg = make_cfg(
        "synthetic_R_18_chart.yaml",
        os.path.join(args.out, "master"),
        size_opts + schedule(args.master_iters),
    )
    if args.master_weights:
        master_weights = args.master_weights
        report["master"] = summary(
            {name: evaluate(master_cfg, master_weights, name) for name in master_cfg.DATASETS.TEST}
        )
    else:
        results, seconds = train(master_cfg)
        master_weights = os.path.join(master_cfg.OUTPUT_DIR, "final.pth")
        report["master"] = dict(summary(results), train_seconds=round(seconds))
    print(json.dumps(report["master"]), flush=True)

    student_opts = (
        size_opts
        + schedule(args.student_iters)
        + [
            "BOOTSTRAP_MODEL.WEIGHTS",
            master_weights,
            "SOLVER.BASE_LR",
            "0.0005",
            "SOLVER.WARMUP_ITERS",
            "10",
        ]
    )  # AdamW: half the master's rate
    student_cfg = make_cfg(
        "synthetic_R_18_chart_bootstrap.yaml", os.path.join(args.out, "student"), student_opts
    )
    student_cfg.BOOTSTRAP_DATASETS[0]["DATA_SAMPLER"]["TYPE"] = args.sampler
    student_cfg.BOOTSTRAP_DATASETS[0]["FILTER"]["MIN_VALUE"] = args.min_score
    results, seconds = train(student_cfg, master_weights)
    report["student"] = dict(summary(results), train_seconds=round(seconds))
    print(json.dumps(report["student"]), flush=True)

    if not args.skip_control:
        control_cfg = make_cfg(
            "synthetic_R_18_chart.yaml", os.path.join(args.out, "control"), student_opts
        )
        results, seconds = train(control_cfg, master_weights)
        report["control"] = dict(summary(results), train_seconds=round(seconds))
        print(json.dumps(report["control"]), flush=True)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
