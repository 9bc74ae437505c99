"""Images per second of a one-process `apply_net dump` against `dump --ray` with 1 and 2 workers
(one torch thread each), in one run on this machine; Ray's start-up, the workers' model-load
time and peak memory, and the overhead per item and where it goes (docs/distributed.md).

    python benchmarks/distributed.py                      # 40 synthetic 256 px images, R_50_FPN
    python benchmarks/distributed.py --num-images 20 \
        --config tests/apply/tiny_densepose_rcnn_R_18_FPN.yaml

Random weights biased to keep --detections boxes per image (see benchmarks/apply_net.py). The
local Ray is started once (its start-up is reported) and shared by the two --ray runs, as a
user's cluster would be; each run still loads the model in its workers (reported apart from the
steady rate). The --ray outputs are checked against the one-process file.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apply_net import make_images, make_random_checkpoint  # noqa: E402
from densepose_ext.apply.cli import build_parser, execute  # noqa: E402


def _same_records(a: str, b: str) -> bool:
    def flatten(x):
        if isinstance(x, torch.Tensor):
            return [x]
        if isinstance(x, dict):
            return [t for k in x for t in [k, *flatten(x[k])]]
        if isinstance(x, (list, tuple)):
            return [t for v in x for t in flatten(v)]
        if hasattr(x, "__dict__"):
            return flatten(vars(x))
        return [x]

    left = flatten(torch.load(a, weights_only=False))
    right = flatten(torch.load(b, weights_only=False))
    return len(left) == len(right) and all(
        torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y for x, y in zip(left, right)
    )


def one_process(common, output) -> dict:
    stats = execute(
        build_parser().parse_args(["dump", *common[:3], "--output", output, *common[3:]])
    )
    return {
        "images": stats.processed,
        "seconds": round(stats.total_seconds, 2),
        "images_per_s": round(stats.processed / stats.total_seconds, 3),
        "model_s_per_image": round(stats.model_seconds / max(stats.processed, 1), 4),
    }


def on_ray(common, output, workers: int) -> dict:
    argv = ["dump", *common[:3], "--output", output, "--ray", "--num-workers", str(workers)]
    start = time.perf_counter()
    stats = execute(build_parser().parse_args([*argv, "--cpus-per-worker", "1", *common[3:]]))
    wall = time.perf_counter() - start
    n = max(stats.images_computed, 1)
    return {
        "workers": workers,
        "images": stats.images_computed,
        "images_per_s": round(stats.images_per_second, 3),
        "compute_seconds": round(stats.compute_seconds, 2),
        "workers_ready_seconds": round(stats.workers_ready_seconds, 2),
        "finalize_seconds": round(stats.finalize_seconds, 2),
        "command_seconds": round(wall, 2),
        "model_s_per_image": round(stats.model_seconds / n, 4),
        "worker_peak_rss_mb": [round(m) for m in stats.worker_peak_rss_mb],
    }


def decode_rate(folder: str, count: int = 10) -> float:
    """Images per second one core decodes (`read_work_item`) of 1280 x 720 JPEGs (quality 90):
    the CPU side of the projection for GPU workers."""
    import cv2
    import numpy as np

    from densepose_ext.apply.distributed.work_items import WorkItem, read_work_item

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for k in range(count):
        image = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (9, 9), 3)
        paths.append(os.path.join(folder, f"{k}.jpg"))
        cv2.imwrite(paths[-1], image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    read_work_item(WorkItem(1, paths[0]))  # warm-up
    start = time.perf_counter()
    for k, path in enumerate(paths):
        read_work_item(WorkItem(k + 1, path))
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="configs/densepose_rcnn_R_50_FPN_s1x.yaml")
    parser.add_argument("--num-images", type=int, default=40)
    parser.add_argument("--size", type=int, default=256, help="synthetic image side")
    parser.add_argument("--detections", type=int, default=3)
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    work = tempfile.mkdtemp(prefix="bench_distributed_")
    images = make_images(os.path.join(work, "synth"), args.num_images, args.size, seed=0)
    weights = make_random_checkpoint(args.config, os.path.join(work, "model_random.pth"))
    opts = ["--opts", "TEST.DETECTIONS_PER_IMAGE", str(args.detections)]
    common = [args.config, weights, images, "--no-progress", "--device", "cpu", *opts]
    report = {"config": args.config, "images": args.num_images, "size": args.size, "threads": 1}
    report["load_average_before"] = os.getloadavg()
    report["one_process"] = one_process(common, os.path.join(work, "one", "results.pkl"))

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=args.ray_cpus, include_dashboard=False, configure_logging=False)
    report["ray_init_seconds"] = round(time.perf_counter() - start, 2)
    try:
        for workers in (1, 2):
            output = os.path.join(work, f"ray{workers}", "results.pkl")
            report[f"ray_{workers}"] = on_ray(common, output, workers)
            report[f"ray_{workers}"]["same_records_as_one_process"] = _same_records(
                os.path.join(work, "one", "results.pkl"), output
            )
    finally:
        ray.shutdown()
    one, r1, r2 = report["one_process"], report["ray_1"], report["ray_2"]
    report["speedup_2_vs_1_workers"] = round(r2["images_per_s"] / r1["images_per_s"], 3)
    report["overhead_s_per_image_ray1_vs_one_process"] = round(
        1 / r1["images_per_s"] - 1 / one["images_per_s"], 4
    )
    report["decode_720p_jpeg_images_per_s_one_core"] = round(
        decode_rate(os.path.join(work, "jpeg")), 1
    )
    report["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
