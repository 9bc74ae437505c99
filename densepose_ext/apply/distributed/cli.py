"""The `--ray` options of `apply_net.py dump` and their entry point (docs/distributed.md).

`apply.cli` adds the options with `add_arguments` and hands a `dump` to `run_dump`, which
returns None when --ray is not given (the one-process run goes on).
"""

import argparse
import os
import sys
from typing import Callable, List, Optional

from ...engine.inputs import count_frames
from .parts import PartStore, check_writable, parts_directory
from .ray_run import RayRunStats, WorkerSpec, local_cpu_count, run_dump_on_ray
from .work_items import list_work_inputs, plan_work_items

__all__ = ["DEFAULT_FRAMES_PER_ITEM", "LOCAL", "add_arguments", "run_dump", "run_signature"]

LOCAL = "local"
DEFAULT_FRAMES_PER_ITEM = 32
_RAY_ONLY = ("num_workers", "gpus_per_worker", "cpus_per_worker", "frames_per_item")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--ray [ADDRESS], --num-workers, --gpus-per-worker, --cpus-per-worker, --frames-per-item."""
    group = parser.add_argument_group("distributed (Ray; docs/distributed.md)")
    group.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        default=None,
        metavar="ADDRESS",
        help="run on Ray: alone, a local Ray started and stopped here; auto or HOST:PORT joins "
        "a cluster (ray start --head). Resumable: parts in <output>.parts/",
    )
    group.add_argument(
        "--num-workers",
        dest="num_workers",
        type=int,
        default=None,
        help="model workers (default: one per GPU of the cluster, else per --cpus-per-worker)",
    )
    group.add_argument(
        "--gpus-per-worker",
        dest="gpus_per_worker",
        type=float,
        default=None,
        help="GPUs each worker holds (default: 1 if the cluster has GPUs, else 0)",
    )
    group.add_argument(
        "--cpus-per-worker",
        dest="cpus_per_worker",
        type=float,
        default=None,
        help="CPUs (and torch threads) each worker holds (default 1)",
    )
    group.add_argument(
        "--frames-per-item",
        dest="frames_per_item",
        type=int,
        default=None,
        help=f"video frames per work item (default {DEFAULT_FRAMES_PER_ITEM})",
    )


def _check_options(args: argparse.Namespace) -> None:
    for name in ("num_workers", "frames_per_item"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.cpus_per_worker is not None and args.cpus_per_worker <= 0:
        raise ValueError(f"--cpus-per-worker must be > 0, got {args.cpus_per_worker}")
    if args.gpus_per_worker is not None and args.gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be >= 0, got {args.gpus_per_worker}")


def run_signature(args: argparse.Namespace, cfg, formats: List[str]) -> dict:
    """The settings that decide the parts' content: a re-run must match them to resume."""
    config = cfg.clone()
    config.defrost()
    config.MODEL.DEVICE = ""  # CPU and GPU workers may share one run
    weights = cfg.MODEL.WEIGHTS
    stat = os.stat(weights)
    return {
        "config": config.dump(),
        "model": os.path.abspath(weights),
        "model_bytes": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "backend": args.backend,
        "optimize": bool(args.optimize),
        "batch_size": args.batch_size,
        "frames_per_item": args.frames_per_item or DEFAULT_FRAMES_PER_ITEM,
        "cse_vertices": "npz" in formats,
    }


def run_dump(
    args: argparse.Namespace, cfg, formats: List[str], make_writers: Callable[[], list]
) -> Optional[RayRunStats]:
    """`dump --ray`: None without --ray (unless a Ray-only option is given: ValueError).

    Args:
        args: the parsed `dump` command line; `args.on_part`, when set, is called after each
            stored item (see `RayDumpProgress`).
        cfg: the config from `apply.cli.setup_config` (MODEL.WEIGHTS a local file).
        formats: dump formats; make_writers: builds their writers, as a one-process run does.

    Returns:
        `RayRunStats` (a `RunStats`), after printing its summary line to stderr.
    """
    if getattr(args, "ray", None) is None:
        given = [n for n in _RAY_ONLY if getattr(args, n, None) is not None]
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} needs --ray")
        return None
    _check_options(args)
    paths = list_work_inputs(args.input)
    frames = args.frames_per_item or DEFAULT_FRAMES_PER_ITEM
    items = plan_work_items(paths, frames)
    directory = parts_directory(args.output)
    check_writable(directory)
    output_dir = args.output_dir or os.path.splitext(args.output)[0]
    if {"iuv_png", "npz"} & set(formats):
        check_writable(output_dir)
    store = PartStore(directory, run_signature(args, cfg, formats))
    spec = WorkerSpec(args.num_workers, args.cpus_per_worker or 1.0, args.gpus_per_worker)
    address = None if args.ray == LOCAL else args.ray
    worker_args = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "on_part"})
    stats = run_dump_on_ray(
        address,
        spec,
        worker_args,
        cfg,
        formats,
        items,
        store,
        make_writers,
        expected_total=count_frames(paths),
        progress=args.progress,
        on_part=getattr(args, "on_part", None),
        local_cpus=local_cpu_count(spec),
    )
    print(summary_line(stats), file=sys.stderr)
    return stats


def summary_line(stats: RayRunStats) -> str:
    """Items done / resumed, speed, start-up costs, where the parts and the bad items are."""
    line = (
        f"ray: {stats.items_total} work item(s): {stats.items_resumed} resumed, "
        f"{stats.items_computed} computed"
    )
    if stats.items_computed:
        line += (
            f" on {stats.num_workers} worker(s), {stats.images_computed} image(s) at "
            f"{stats.images_per_second:.2f} img/s; Ray start-up {stats.ray_startup_seconds:.1f}s, "
            f"model load {stats.workers_ready_seconds:.1f}s"
        )
    line += f"; parts and bad items: {os.path.join(stats.parts_dir, 'manifest.json')}"
    return line
