#!/usr/bin/env python
"""Does cross-cascading help DensePose? Plain vs + mask vs + keypoints vs + both, on synthetic data.

Every row uses the same recipe (demo/configs/synthetic_R_18_chart.yaml and the cascade variants
synthetic_R_18_cascade_{mask,kp,mask_kp}.yaml), the same data, images and iteration budget; only
the ROI heads differ. Each (row, seed) run trains from scratch, evaluates on the synthetic val set
(bbox, DensePose GPS / GPSm / IOU AP, mask AP, keypoint AP) and writes
`<out>/<row>_seed<seed>/result.json`; finished runs are skipped, so several processes can share
the work (e.g. one per seed) and `--table` prints the mean +- std table over seeds.

    python demo/cascade_synthetic.py --out output/cascade_synth --iters 300 --seeds 0 1 2
    python demo/cascade_synthetic.py --out output/cascade_synth --table
"""

import argparse
import json
import logging
import os
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from detectron2.config import get_cfg  # noqa: E402
from detectron2.engine import HookBase  # noqa: E402
from detectron2.utils.logger import setup_logger  # noqa: E402
from overrides import schedule_overrides, size_overrides  # noqa: E402

from densepose_ext import add_densepose_config  # noqa: E402
from densepose_ext.data.synthetic import (  # noqa: E402
    generate_synthetic_dataset,
    register_synthetic_dataset,
)
from densepose_ext.engine import Trainer  # noqa: E402

CONFIGS = os.path.join(REPO, "demo", "configs")
ROWS = {
    "plain": "synthetic_R_18_chart.yaml",
    "mask": "synthetic_R_18_cascade_mask.yaml",
    "kp": "synthetic_R_18_cascade_kp.yaml",
    "both": "synthetic_R_18_cascade_mask_kp.yaml",
}
ROW_TITLES = {
    "plain": "plain DensePose R-CNN",
    "mask": "cascade + mask",
    "kp": "cascade + keypoints",
    "both": "cascade + mask + keypoints",
}
METRICS = {
    "bbox AP": ("bbox", "AP"),
    "GPS AP": ("densepose_gps", "AP"),
    "GPSm AP": ("densepose_gpsm", "AP"),
    "IOU AP": ("densepose_segm", "AP"),
    "mask AP": ("segm", "AP"),
    "kp AP": ("keypoints", "AP"),
}
TRAIN, VAL = "cascade_synth_train", "cascade_synth_val"


class StepTimer(HookBase):
    """Wall-clock time of every training iteration (data loading included)."""

    def __init__(self):
        self.stamps: List[float] = []

    def before_train(self):
        self.stamps = [time.perf_counter()]

    def after_step(self):
        self.stamps.append(time.perf_counter())

    def seconds_per_iteration(self, skip_fraction: float = 0.1) -> float:
        """Mean over the iterations after the first `skip_fraction` (warm-up, allocations)."""
        steps = np.diff(self.stamps)
        return float(steps[int(len(steps) * skip_fraction) :].mean()) if len(steps) else 0.0


def prepare_data(out: str, num_train: int, num_val: int, size: int, workers: int) -> None:
    data = generate_synthetic_dataset(
        os.path.join(out, "data"),
        num_images=num_train + num_val,
        size=size,
        seed=0,
        num_val=num_val,
        workers=workers,
    )
    register_synthetic_dataset(TRAIN, data.train_json, data.image_root, data.body)
    register_synthetic_dataset(VAL, data.val_json, data.image_root, data.body)


def make_cfg(row: str, seed: int, out_dir: str, args) -> "object":
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(os.path.join(CONFIGS, ROWS[row]))
    iters = args.iters
    cfg.merge_from_list(
        [
            "SEED",
            str(seed),
            "OUTPUT_DIR",
            out_dir,
            "DATASETS.TRAIN",
            f"('{TRAIN}',)",
            "DATASETS.TEST",
            f"('{VAL}',)",
            "DATALOADER.NUM_WORKERS",
            "0",
        ]
        + schedule_overrides(iters, warmup_cap=30, warmup_share=5, checkpoints=False)
        + size_overrides(args.size)
    )
    return cfg


def run_one(row: str, seed: int, args) -> Dict[str, object]:
    """Trains and evaluates one (row, seed); returns (and stores) its metrics."""
    out_dir = os.path.join(args.out, f"{row}_seed{seed}")
    result_file = os.path.join(out_dir, "result.json")
    if os.path.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    cfg = make_cfg(row, seed, out_dir, args)
    torch.manual_seed(seed)
    trainer = Trainer(cfg)
    timer = StepTimer()
    trainer.register_hooks([timer])
    trainer.resume_or_load(resume=False)
    start = time.perf_counter()
    trainer.train()  # detectron2's EvalHook evaluates DATASETS.TEST after the last iteration
    results = trainer._last_eval_results or {}
    row_result: Dict[str, object] = {
        "row": row,
        "seed": seed,
        "iters": args.iters,
        "size": args.size,
        "seconds_per_iter": round(timer.seconds_per_iteration(), 4),
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    for name, (task, key) in METRICS.items():
        if task in results and key in results[task]:
            row_result[name] = round(float(results[task][key]), 2)
    with open(result_file, "w") as f:
        json.dump(row_result, f, indent=1)
    print(json.dumps(row_result), flush=True)
    return row_result


def benchmark(args) -> Dict[str, float]:
    """Median seconds per training iteration of every row, measured round-robin in one process
    (iteration k of every row runs back to back), so that a varying machine load affects all
    rows alike. Data loading, forward, backward and the optimizer step are included."""
    from detectron2.utils.events import EventStorage

    states = {}
    for row in args.rows:
        cfg = make_cfg(row, 0, os.path.join(args.out, "benchmark"), args)
        torch.manual_seed(0)
        model = Trainer.build_model(cfg).train()
        optimizer = Trainer.build_optimizer(cfg, model)
        states[row] = (model, optimizer, iter(Trainer.build_train_loader(cfg)))
    times: Dict[str, List[float]] = {row: [] for row in states}
    with EventStorage():
        for _ in range(args.benchmark):
            for row, (model, optimizer, data) in states.items():
                start = time.perf_counter()
                losses = model(next(data))
                optimizer.zero_grad()
                sum(losses.values()).backward()
                optimizer.step()
                times[row].append(time.perf_counter() - start)
    skip = min(3, args.benchmark // 4)  # warm-up
    result = {row: round(float(np.median(t[skip:])), 4) for row, t in times.items()}
    with open(os.path.join(args.out, "benchmark.json"), "w") as f:
        json.dump({"iterations": args.benchmark, "seconds_per_iter": result}, f, indent=1)
    return result


def load_benchmark(out: str) -> Dict[str, float]:
    path = os.path.join(out, "benchmark.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)["seconds_per_iter"]


def load_results(out: str) -> List[Dict[str, object]]:
    results = []
    for name in sorted(os.listdir(out)) if os.path.isdir(out) else []:
        path = os.path.join(out, name, "result.json")
        if os.path.isfile(path):
            with open(path) as f:
                results.append(json.load(f))
    return results


def _cell(values: List[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


def table(results: List[Dict[str, object]], bench: Optional[Dict[str, float]] = None) -> str:
    """Markdown table: one line per row, mean ± sample std over seeds; "s / iter" is the mean
    over the runs (machine load varies between them), "bench s / iter" the interleaved median."""
    bench = bench or {}
    header = ["model", "seeds", "iters"] + list(METRICS) + ["s / iter", "bench s / iter"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in ROWS:
        runs = [r for r in results if r["row"] == row]
        if not runs:
            continue
        cells = [ROW_TITLES[row], str(len(runs)), "/".join(sorted({str(r["iters"]) for r in runs}))]
        for name in METRICS:
            cells.append(_cell([float(r[name]) for r in runs if name in r]))
        cells.append(f"{np.mean([float(r['seconds_per_iter']) for r in runs]):.2f}")
        cells.append(f"{bench[row]:.2f}" if row in bench else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LOSSES = ("loss_densepose_I", "loss_densepose_S", "loss_densepose_U", "loss_cls")


def final_losses(run_dir: str) -> Dict[str, float]:
    """Training losses at the last iteration (detectron2's median over the last 20 iterations)."""
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    training = [r for r in records if "loss_cls" in r]
    return (
        {k: float(v) for k, v in training[-1].items() if k.startswith("loss_")} if training else {}
    )


def loss_table(out: str, results: List[Dict[str, object]]) -> str:
    """Markdown table of the final DensePose / box training losses (final stage for the cascade;
    its stage-1 DensePose losses in the `stage 1` columns), mean ± std over seeds."""
    header = (
        ["model"] + [f"{n[5:]}" for n in LOSSES] + ["densepose_I stage 1", "densepose_S stage 1"]
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in ROWS:
        runs = [
            final_losses(os.path.join(out, f"{row}_seed{r['seed']}"))
            for r in results
            if r["row"] == row
        ]
        if not runs:
            continue
        names = list(LOSSES) + ["loss_densepose_I_stage1", "loss_densepose_S_stage1"]
        cells = [ROW_TITLES[row]]
        for name in names:
            values = [r[name] for r in runs if name in r]
            cells.append(
                f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default="output/cascade_synth")
    p.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--size", type=int, default=128, help="image side (generated and trained)")
    p.add_argument("--num-train", type=int, default=400)
    p.add_argument("--num-val", type=int, default=50)
    p.add_argument("--workers", type=int, default=1, help="data generation processes")
    p.add_argument("--table", action="store_true", help="only print the table of finished runs")
    p.add_argument(
        "--benchmark",
        type=int,
        default=0,
        metavar="N",
        help="only time N training iterations of every row, interleaved (no evaluation)",
    )
    p.add_argument(
        "--prepare-only", action="store_true", help="only generate the data (before parallel runs)"
    )
    args = p.parse_args(argv)
    if args.table:
        results = load_results(args.out)
        print(table(results, load_benchmark(args.out)))
        print()
        print(loss_table(args.out, results))
        return
    torch.set_num_threads(1)
    setup_logger(name="densepose_ext")
    logging.getLogger("d2.engine.train_loop").setLevel(logging.WARNING)
    prepare_data(args.out, args.num_train, args.num_val, args.size, args.workers)
    if args.prepare_only:
        return
    if args.benchmark:
        print(json.dumps(benchmark(args)))
        return
    for seed in args.seeds:
        for row in args.rows:
            run_one(row, seed, args)
    print(table(load_results(args.out), load_benchmark(args.out)))


if __name__ == "__main__":
    main()
