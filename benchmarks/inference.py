"""Fast inference path vs the plain eager model, side by side in one run (CPU, random weights).

Prints, per config (default: R_50_FPN_s1x, R_50_FPN_DL_s1x, cse/R_50_FPN_s1x):
- given boxes: `model.inference` on an 800x1067 image with 3 given boxes + conversion to per-box
  results; plain model vs `optimize_for_inference`; ratio; agreement of the results;
- dump: `apply_net.py dump` on --dump-images synthetic 800x1067 photos with 5 detections each;
  plain path (`--no-optimize --no-overlap`) vs the default; ratio;
- RSS of the default `dump` over --rss-images small images (first config): resident memory after
  10 % of the images and at the end, and the peak;
- compute limit: direct-convolution FLOPs of the given-boxes forward / this machine's measured
  float32 matmul rate (same threads), and how far each path is from it.

Runs alternate plain / optimized and take the minimum of --repeats (robust to other processes on
a shared machine); the load average is printed. Example:

    OMP_NUM_THREADS=1 python benchmarks/inference.py --threads 1
"""

import argparse
import copy
import os
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from detectron2.modeling import build_model  # noqa: E402
from detectron2.structures import Instances  # noqa: E402
from int8_rows import int8_model  # noqa: E402
from random_checkpoints import save_detecting_checkpoint  # noqa: E402

from densepose_ext import optimize_for_inference  # noqa: E402
from densepose_ext.apply.cli import build_parser, execute  # noqa: E402
from densepose_ext.config import clear_external_files, get_densepose_cfg, is_cse  # noqa: E402
from densepose_ext.converters import chart_outputs_to_results, given_box_instances  # noqa: E402
from densepose_ext.converters.cse_vertices import cse_output_to_results  # noqa: E402
from densepose_ext.modeling.inference_opt import chart_agreement, cse_agreement  # noqa: E402

IMAGE_HW = (800, 1067)
BOXES_XYXY = [
    [100.0, 100.0, 400.0, 700.0],
    [500.0, 150.0, 750.0, 780.0],
    [800.0, 300.0, 1000.0, 600.0],
]
DEFAULT_CONFIGS = [
    "configs/densepose_rcnn_R_50_FPN_s1x.yaml",
    "configs/densepose_rcnn_R_50_FPN_DL_s1x.yaml",
    "configs/cse/densepose_rcnn_R_50_FPN_s1x.yaml",
]


def load_cfg(config: str):
    cfg = get_densepose_cfg()
    cfg.merge_from_file(config)
    cfg.MODEL.DEVICE = "cpu"
    return clear_external_files(cfg)


def _instances() -> List[Instances]:
    return [given_box_instances(IMAGE_HW, BOXES_XYXY)]


def _randomize(model) -> None:
    """Random CSE embedders (zero-initialised ones tie every distance); U/V layers scaled to
    outputs of order 1 (random weights give hundreds), so that the U/V agreement is meaningful."""
    with torch.no_grad():
        for name in ("u_lowres", "v_lowres"):
            layer = getattr(model.roi_heads.densepose_predictor, name, None)
            if layer is not None:
                layer.weight.mul_(1e-3)
    embedder = model.roi_heads.embedder
    if embedder is not None:
        with torch.no_grad():
            for tensor in list(embedder.parameters()) + list(embedder.buffers()):
                tensor.normal_()


def make_random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Random weights (no external file), box classifier biased to foreground so that every
    image keeps --detections boxes, coarse segmentation biased to foreground, random embedders."""
    torch.manual_seed(seed)
    model = build_model(load_cfg(config))
    _randomize(model)
    return save_detecting_checkpoint(model, path)


def offline_opts(config: str) -> List[str]:
    """--opts that empty every CSE embedder INIT_FILE (the checkpoint holds the embeddings)."""
    embedders = load_cfg(config).MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS
    return [
        x
        for mesh in embedders
        for x in (f"MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.{mesh}.INIT_FILE", "")
    ]


def given_boxes_runner(model, cfg) -> Callable[[], list]:
    image = torch.randint(0, 256, (3, *IMAGE_HW), generator=torch.Generator().manual_seed(0))
    inputs = [{"image": image.float(), "height": IMAGE_HW[0], "width": IMAGE_HW[1]}]

    def run():
        with torch.inference_mode():
            (out,) = model.inference(inputs, _instances())
            inst = out["instances"]
            if is_cse(cfg):
                return cse_output_to_results(
                    inst.pred_densepose,
                    inst.pred_boxes.tensor,
                    inst.pred_classes,
                    model.roi_heads.embedder,
                    cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING,
                )
            return chart_outputs_to_results(inst.pred_densepose, inst.pred_boxes.tensor)

    return run


def side_by_side(fns: Dict[str, Callable], repeats: int) -> Dict[str, float]:
    """Minimum seconds of each function, runs interleaved (one warm-up each)."""
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def conv_flops(model, run: Callable) -> float:
    """Multiply-adds x 2 of every conv / transposed conv / linear layer in one call of `run`."""
    total = [0.0]

    def hook(module, args, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels / module.groups
            total[0] += 2.0 * k * output.numel()
        elif isinstance(module, torch.nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.out_channels / module.groups
            total[0] += 2.0 * k * args[0].numel()
        elif isinstance(module, torch.nn.Linear):
            total[0] += 2.0 * module.in_features * output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    return total[0]


def matmul_rate(bursts: int = 8, seconds: float = 0.4) -> float:
    """Best measured float32 GEMM FLOP/s (2048^2 matrices, current threads) over short bursts:
    the best burst is the one least disturbed by other processes."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    best = 0.0
    for _ in range(bursts):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            a @ b
            n += 1
        best = max(best, n * 2.0 * 2048**3 / (time.perf_counter() - start))
    return best


def peak_rate(threads: int) -> float:
    """Theoretical float32 FLOP/s: AVX2 + FMA = 2 x 8-lane FMA per cycle = 32 FLOP/cycle/core."""
    mhz = 0.0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                mhz = max(mhz, float(line.split(":")[1]))
    return 32.0 * mhz * 1e6 * min(threads, os.cpu_count() or 1)


def make_photos(folder: str, count: int, seed: int = 0) -> str:
    """800x1067 BGR images: smooth background and a few filled ellipses (people-like blobs)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = IMAGE_HW
    for i in range(count):
        small = rng.integers(0, 255, (h // 32, w // 32, 3), dtype=np.uint8)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        for _ in range(5):
            center = (int(rng.integers(100, w - 100)), int(rng.integers(150, h - 150)))
            axes = (int(rng.integers(40, 150)), int(rng.integers(100, 300)))
            color = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.ellipse(image, center, axes, 0, 0, 360, color, -1)
        cv2.imwrite(os.path.join(folder, f"photo_{i:03d}.jpg"), image)
    return folder


def dump_seconds(config, weights, images, output, extra, opts) -> float:
    argv = ["dump", config, weights, images, "--output", output, "--no-progress", "--device"]
    args = build_parser().parse_args(argv + ["cpu", *extra, "--opts", *opts])
    stats = execute(args)
    if stats.processed == 0:
        raise RuntimeError(f"dump processed nothing: {stats.errors[:3]}")
    return stats.total_seconds


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_profile(config, weights, images, output, opts) -> Dict[str, float]:
    """RSS samples (every 0.2 s) during a default `dump`: after 10 % of the time, end, peak."""
    samples: List[float] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(_rss_mb())
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        dump_seconds(config, weights, images, output, [], opts)
    finally:
        done.set()
        thread.join()
    return {
        "rss_at_10pct_mb": samples[len(samples) // 10],
        "rss_end_mb": samples[-1],
        "rss_peak_mb": max(samples),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", action="append", help="config YAML (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dump-images", type=int, default=10)
    parser.add_argument("--detections", type=int, default=5)
    parser.add_argument("--rss-images", type=int, default=200, help="0: skip the RSS run")
    parser.add_argument("--rss-size", type=int, default=256, help="image side of the RSS run")
    parser.add_argument("--rss-detections", type=int, default=1)
    parser.add_argument("--skip-dump", action="store_true")
    parser.add_argument("--int8", action="store_true", help="add the int8 path (int8_rows.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = args.config or DEFAULT_CONFIGS
    work = tempfile.mkdtemp(prefix="bench_inference_")
    load = os.getloadavg()
    print(
        f"CPU {args.threads} thread(s), RANDOM WEIGHTS, min of {args.repeats} interleaved runs; "
        f"load average at start {load[0]:.1f} ({os.cpu_count()} cores)"
    )
    rate = matmul_rate()
    peak = peak_rate(args.threads)
    print(
        f"float32 GEMM rate: best measured {rate / 1e9:.1f} GFLOP/s, theoretical peak "
        f"{peak / 1e9:.1f} GFLOP/s at the nominal clock (AVX2 FMA; turbo can exceed it)"
    )
    rows = []
    for config in configs:
        name = config.split("configs/")[-1]
        cfg = load_cfg(config)
        torch.manual_seed(0)
        plain = build_model(cfg).eval()
        _randomize(plain)
        fast = optimize_for_inference(copy.deepcopy(plain))
        run_plain, run_fast = given_boxes_runner(plain, cfg), given_boxes_runner(fast, cfg)
        agreement = (cse_agreement if is_cse(cfg) else chart_agreement)(run_plain(), run_fast())
        flops = conv_flops(plain, run_plain)
        runs = {"plain": run_plain, "fast": run_fast}
        if args.int8:
            int8, int8_info = int8_model(plain, cfg)
            runs["int8"] = given_boxes_runner(int8, cfg)
            compare = cse_agreement if is_cse(cfg) else chart_agreement
            int8_info["int8_agreement"] = compare(run_plain(), runs["int8"]())
        t = side_by_side(runs, args.repeats)
        row = {
            "config": name,
            "given_plain_s": t["plain"],
            "given_fast_s": t["fast"],
            "given_ratio": t["fast"] / t["plain"],
            "gflop": flops / 1e9,
            "limit_s": flops / rate,
            "limit_peak_s": flops / peak,
            "agreement": agreement,
        }
        if args.int8:
            row.update(int8_given_s=t["int8"], int8_ratio=t["int8"] / t["plain"], **int8_info)
            del int8
        del plain, fast
        if not args.skip_dump:
            weights = make_random_checkpoint(config, os.path.join(work, f"w{len(rows)}.pth"))
            images = make_photos(os.path.join(work, "photos"), args.dump_images)
            opts = ["TEST.DETECTIONS_PER_IMAGE", str(args.detections), *offline_opts(config)]
            out = os.path.join(work, "dump.pkl")
            slow = ["--no-optimize", "--no-overlap"]
            d = {"plain": [], "fast": []}
            for _ in range(max(1, args.repeats - 1)):
                d["plain"].append(dump_seconds(config, weights, images, out, slow, opts))
                d["fast"].append(dump_seconds(config, weights, images, out, [], opts))
            row["dump_plain_s"] = min(d["plain"]) / args.dump_images
            row["dump_fast_s"] = min(d["fast"]) / args.dump_images
            row["dump_ratio"] = row["dump_fast_s"] / row["dump_plain_s"]
            if args.int8:  # first run calibrates and caches (not timed: outside the run loop)
                int8_opts = ["--precision", "int8"]
                os.environ.setdefault("DENSEPOSE_EXT_CACHE", os.path.join(work, "cache"))
                t8 = [
                    dump_seconds(config, weights, images, out, int8_opts, opts) for _ in d["fast"]
                ]
                row["dump_int8_s"] = min(t8) / args.dump_images
                row["dump_int8_ratio"] = row["dump_int8_s"] / row["dump_plain_s"]
            if args.rss_images and not rows:
                small = os.path.join(work, "small")
                os.makedirs(small, exist_ok=True)
                photo = cv2.imread(os.path.join(images, "photo_000.jpg"))
                photo = cv2.resize(photo, (args.rss_size * 4 // 3, args.rss_size))
                for i in range(args.rss_images):
                    cv2.imwrite(os.path.join(small, f"s{i:04d}.jpg"), np.roll(photo, i, axis=1))
                rss_opts = [
                    "INPUT.MIN_SIZE_TEST",
                    str(args.rss_size),
                    "TEST.DETECTIONS_PER_IMAGE",
                    str(args.rss_detections),
                    *offline_opts(config),
                ]
                row.update(rss_profile(config, weights, small, out, rss_opts))
        rows.append(row)
        print_row(row)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


def print_row(row: dict) -> None:
    a = row["agreement"]
    print(f"\n{row['config']}")
    print(
        f"  given boxes (3 boxes, 800x1067): plain {row['given_plain_s']:.2f} s, fast "
        f"{row['given_fast_s']:.2f} s, ratio {row['given_ratio']:.2f}; agreement: labels/mask "
        f"{a.label_fraction:.5f}, U/V p99 {a.uv_p99:.2e}, vertices {a.vertex_fraction:.4f}"
    )
    print(
        f"  compute: {row['gflop']:.0f} GFLOP (direct convolution) -> limit {row['limit_s']:.2f} s "
        f"at the measured GEMM rate ({row['limit_peak_s']:.2f} s at the nominal peak); plain "
        f"{row['given_plain_s'] / row['limit_s']:.2f}x, fast "
        f"{row['given_fast_s'] / row['limit_s']:.2f}x"
        " the measured-rate limit (Winograd computes fewer multiplications than the direct count)"
    )
    if "dump_ratio" in row:
        print(
            f"  dump (s/image): plain {row['dump_plain_s']:.2f}, default {row['dump_fast_s']:.2f},"
            f" ratio {row['dump_ratio']:.2f}"
        )
    if "int8_ratio" in row:
        b = row["int8_agreement"]
        print(
            f"  int8 given boxes: {row['int8_given_s']:.2f} s, int8 / plain {row['int8_ratio']:.2f}"
            f"; agreement with plain: labels/mask {b.label_fraction:.4f}, U/V p99 "
            f"{b.uv_p99:.3f}, vertices {b.vertex_fraction:.4f}; calibration "
            f"{row['calibration_s']:.1f} s on {row['images']} images, cached "
            f"{row['cached_mb']:.1f} MB"
        )
    if "dump_int8_ratio" in row:
        print(
            f"  dump int8 (s/image): {row['dump_int8_s']:.2f}, ratio {row['dump_int8_ratio']:.2f}"
        )
    if "rss_end_mb" in row:
        print(
            f"  dump RSS: {row['rss_at_10pct_mb']:.0f} MB after 10 % of the run, "
            f"{row['rss_end_mb']:.0f} MB at the end, peak {row['rss_peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
