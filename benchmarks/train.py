"""Seconds per training iteration on CPU, split into data loading / forward / backward (+ step).

Runs the DensePose `Trainer`'s model, optimiser and train loader on the synthetic set (generated
under --data if absent) and times each part of each iteration after a warm-up. Example:

    python benchmarks/train.py --config demo/configs/synthetic_R_18_chart.yaml --iters 20 --threads
    2
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from detectron2.config import get_cfg  # noqa: E402
from detectron2.utils.events import EventStorage  # noqa: E402

from densepose_ext import add_densepose_config  # noqa: E402
from densepose_ext.engine import Trainer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register_synthetic(root: str, num_images: int) -> None:
    """Registers densepose_synth_train from `root`, generating the set first if it is absent."""
    from densepose_ext.data.synthetic import register_synthetic_dataset, register_synthetic_datasets

    train_json = os.path.join(root, "annotations", "train.json")
    if os.path.isfile(train_json):  # an existing set is used as it is (no re-split)
        register_synthetic_dataset(
            "densepose_synth_train", train_json, os.path.join(root, "images")
        )
        return
    register_synthetic_datasets(
        root, num_train=num_images - num_images // 10, num_val=num_images // 10
    )


def build(config: str, opts):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(config)
    cfg.merge_from_list(opts)
    torch.manual_seed(0)
    model = Trainer.build_model(cfg)
    model.train()
    optimizer = Trainer.build_optimizer(cfg, model)
    loader = Trainer.build_train_loader(cfg)
    return cfg, model, optimizer, loader


def time_iterations(model, optimizer, loader, warmup: int, iters: int):
    """Per-iteration seconds of data / forward / backward (incl. optimiser step)."""
    data_iter = iter(loader)
    rows = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        batch = next(data_iter)
        t1 = time.perf_counter()
        losses = model(batch)
        total = sum(losses.values())
        t2 = time.perf_counter()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        t3 = time.perf_counter()
        if i >= warmup:
            rows.append(
                {"data": t1 - t0, "forward": t2 - t1, "backward": t3 - t2, "total": t3 - t0}
            )
    return rows


def summarise(rows):
    return {
        k: {
            "mean": statistics.mean(r[k] for r in rows),
            "median": statistics.median(r[k] for r in rows),
        }
        for k in ("data", "forward", "backward", "total")
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", default=os.path.join(REPO, "demo/configs/synthetic_R_18_chart.yaml")
    )
    parser.add_argument("--data", default="datasets/synth", help="synthetic dataset root")
    parser.add_argument("--num-images", type=int, default=200, help="images to generate if absent")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", help="write the summary here")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides KEY VALUE ...")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    register_synthetic(args.data, args.num_images)
    cfg, model, optimizer, loader = build(args.config, args.opts + ["DATALOADER.NUM_WORKERS", "0"])
    with EventStorage(0):
        rows = time_iterations(model, optimizer, loader, args.warmup, args.iters)
    summary = {
        "config": os.path.relpath(args.config, REPO),
        "batch": cfg.SOLVER.IMS_PER_BATCH,
        "threads": args.threads,
        "iters": args.iters,
        "seconds_per_iter": summarise(rows),
    }
    for part, s in summary["seconds_per_iter"].items():
        print(f"{part:>9}: mean {s['mean']:.3f} s  median {s['median']:.3f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
