"""Throughput of the synthetic DensePose generator (images/s), images + annotations written to disk.

    python benchmarks/synthetic.py --num-images 1000 --size 256 --workers 2

The body's files (geodesic distances etc., generated once per dataset directory) are timed
separately from the images. Besides wall-clock images/s the script reports the CPU seconds spent
per image (this process + its workers), which stays meaningful on a machine shared with other jobs:
`workers / cpu_per_image` is the rate on that many otherwise idle cores.
"""

import argparse
import os
import resource
import tempfile
import time

from densepose_ext.data.synthetic.body_files import write_body_files
from densepose_ext.data.synthetic.generate import body_template, generate_synthetic_dataset


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its terminated children (pool workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_body_files(os.path.join(out, "body"), body_template())
        body_s = time.perf_counter() - start
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        data = generate_synthetic_dataset(
            out, args.num_images, size=args.size, seed=args.seed, num_val=0, workers=args.workers
        )
        images_s = time.perf_counter() - start
        cpu_per_image = (_cpu_seconds() - cpu_start) / args.num_images
        json_mb = os.path.getsize(data.train_json) / 2**20
    print(f"body files (mesh, {body_template().num_vertices}^2 geodesics, tables): {body_s:.1f} s")
    print(
        f"{args.num_images} images of {args.size}x{args.size} with {args.workers} workers: "
        f"{images_s:.1f} s "
        f"= {args.num_images / images_s:.1f} images/s (annotations {json_mb:.1f} MiB)"
    )
    print(
        f"CPU per image: {1000 * cpu_per_image:.1f} ms -> {args.workers / cpu_per_image:.1f} "
        "images/s "
        f"on {args.workers} idle cores (load average now: {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
