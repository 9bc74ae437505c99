"""Throughput of `apply_net show` and `dump` on a folder of synthetic images, on CPU.

Reports images/s and the share of the wall time spent outside the model's forward pass
(reading images, preprocessing, result conversion, drawing, writing). Model building and
checkpoint loading are not timed. Example:

    python benchmarks/apply_net.py --config configs/densepose_rcnn_R_50_FPN_s1x.yaml \
        --weights path/to/model.pth --num-images 20 --size 512 --threads 2

Without --weights a random-weight checkpoint is made from the config, with the box classifier
biased so that every image keeps --detections boxes (timings then reflect the architecture and
the per-box work, not a trained model's detections).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from random_checkpoints import save_detecting_checkpoint  # noqa: E402

from densepose_ext.apply.cli import build_parser, execute  # noqa: E402


def make_random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Random weights; box classifier biased to foreground so that detections exist."""
    from detectron2.modeling import build_model

    from densepose_ext.config import get_densepose_cfg

    cfg = get_densepose_cfg()
    cfg.merge_from_file(config)
    cfg.MODEL.DEVICE = "cpu"
    torch.manual_seed(seed)
    return save_detecting_checkpoint(build_model(cfg), path)


def make_images(folder: str, num_images: int, size: int, seed: int) -> str:
    from densepose_ext.data.synthetic import generate_synthetic_dataset

    dataset = generate_synthetic_dataset(folder, num_images, size=size, seed=seed)
    return dataset.image_root


def run_once(argv) -> dict:
    args = build_parser().parse_args(argv)
    stats = execute(args)
    return {
        "images": stats.processed,
        "failed": stats.failed,
        "seconds": round(stats.total_seconds, 3),
        "images_per_s": round(stats.processed / stats.total_seconds, 3),
        "model_seconds": round(stats.model_seconds, 3),
        "overhead_share": round(stats.overhead_share, 4),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="configs/densepose_rcnn_R_50_FPN_s1x.yaml")
    parser.add_argument("--weights", default=None, help="checkpoint (default: random weights)")
    parser.add_argument("--images", default=None, help="folder of images (default: synthetic)")
    parser.add_argument("--num-images", type=int, default=20)
    parser.add_argument("--size", type=int, default=512, help="synthetic image side")
    parser.add_argument(
        "--detections", type=int, default=5, help="boxes per image (random weights)"
    )
    parser.add_argument("--visualizations", default="bbox,dp_segm")
    parser.add_argument("--formats", default="pkl")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", help="fp32 or int8 (calibrated, cached)")
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="bench_apply_net_")
    images = args.images or make_images(
        os.path.join(work, "synth"), args.num_images, args.size, seed=0
    )
    opts = list(args.opts)
    weights = args.weights
    if weights is None:
        weights = make_random_checkpoint(args.config, os.path.join(work, "model_random.pth"))
        opts += ["TEST.DETECTIONS_PER_IMAGE", str(args.detections)]
    common = [args.config, weights, images]
    run = ["--batch-size", str(args.batch_size), "--device", args.device]
    run += ["--precision", args.precision]
    report = {
        "config": args.config,
        "weights": args.weights or "random",
        "threads": args.threads,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "image_folder": images,
    }
    start = time.perf_counter()
    report["show"] = run_once(
        [
            "show",
            *common,
            args.visualizations,
            "--output",
            os.path.join(work, "show", "out.png"),
            *run,
            "--no-progress",
            "--opts",
            *opts,
        ]
    )
    report["dump"] = run_once(
        [
            "dump",
            *common,
            "--format",
            args.formats,
            "--output",
            os.path.join(work, "dump", "results.pkl"),
            *run,
            "--no-progress",
            "--opts",
            *opts,
        ]
    )
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
