"""Command line: generate a synthetic dataset.

python -m densepose_ext.data.synthetic --out DIR --num-images N [--split-val K] [--seed S]
"""

import argparse
import os
import time

from .generate import generate_synthetic_dataset


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.data.synthetic",
        description="Generate a synthetic DensePose-COCO dataset.",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--num-images", type=int, required=True, help="total number of images")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-val", type=int, default=0, help="the last K images form val.json")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--points-per-person",
        type=int,
        nargs=2,
        default=(80, 120),
        metavar=("MIN", "MAX"),
        help="DensePose points per annotated person, uniform in [MIN, MAX] "
        "(default: DensePose-COCO's ~100)",
    )
    parser.add_argument("--overwrite", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data = generate_synthetic_dataset(
        args.out,
        num_images=args.num_images,
        size=args.size,
        seed=args.seed,
        num_val=args.split_val,
        workers=args.workers,
        overwrite=args.overwrite,
        points_per_person=tuple(args.points_per_person),
    )
    print(f"wrote {data.train_json}" + (f" and {data.val_json}" if data.val_json else ""))
    print(f"images in {data.image_root}; body files in {os.path.dirname(data.body.mesh)}")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
