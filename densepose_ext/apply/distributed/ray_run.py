"""The driver of `apply_net dump --ray`: decoding actors feed a pool of model actors; each finished
work item is stored as a part; at the end the parts are replayed, in input order, through the
same writers as a one-process run, so the result files are the same.

Ray retries a task whose actor died (the actor is restarted and loads the model again); an item
that still fails is reported and left unstored, so a re-run retries it.
"""

import argparse
import logging
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from tqdm import tqdm

from ..runner import RunStats, close_writers, write_prediction
from .parts import PartStore
from .session import ClusterError, import_ray, one_line, ray_session
from .work_items import WorkItem
from .workers import Decoder, ModelWorker

__all__ = [
    "RayDumpProgress",
    "RayRunStats",
    "WorkerSpec",
    "WorkerStartError",
    "local_cpu_count",
    "resolve_worker_spec",
    "run_dump_on_ray",
    "worker_config",
]

logger = logging.getLogger(__name__)

TASK_RETRIES = 3  # Ray re-runs a task this many times when its worker dies
QUEUE_PER_WORKER = 2  # items queued per actor, so that decoding overlaps the model
MAX_DECODERS_PER_WORKER = 4  # decoding processes per model worker, at most (spare CPUs)


class WorkerStartError(ValueError):
    """A worker cannot build the model (unreadable checkpoint, missing runtime, bad option)."""


@dataclass
class RayRunStats(RunStats):
    """`RunStats` of the replay, plus how the distributed part went (seconds, MiB)."""

    items_total: int = 0
    items_resumed: int = 0
    items_computed: int = 0
    images_computed: int = 0
    compute_seconds: float = 0.0
    ray_startup_seconds: float = 0.0
    workers_ready_seconds: float = 0.0
    finalize_seconds: float = 0.0
    num_workers: int = 0
    worker_peak_rss_mb: List[float] = field(default_factory=list)
    parts_dir: str = ""

    @property
    def images_per_second(self) -> float:
        return self.images_computed / self.compute_seconds if self.compute_seconds > 0 else 0.0


@dataclass
class RayDumpProgress:
    """Passed to `on_part` after each stored item (tests kill workers or stop the run here)."""

    done_items: int
    total_items: int
    worker_pids: List[int]


@dataclass
class WorkerSpec:
    """How many model actors and what each one holds; `decoders`: CPU-only decoding actors."""

    num_workers: Optional[int]
    cpus: float
    gpus: Optional[float]
    decoders: int = 0


class _WorkerPool:
    """The model actors, and the decoding task with its worker processes warmed up (each one
    imports the package once; later tasks reuse them). A dead actor (beyond Ray's restarts)
    is replaced."""

    def __init__(self, ray, spec: WorkerSpec, args: argparse.Namespace, cfg, formats):
        self.ray = ray
        threads = max(1, int(spec.cpus))
        self.actor_class = ray.remote(
            num_cpus=spec.cpus,
            num_gpus=spec.gpus,
            max_restarts=TASK_RETRIES,
            max_task_retries=TASK_RETRIES,
        )(ModelWorker)
        self.init_args = (args, cfg, list(formats), threads)
        self.actors = [self.actor_class.remote(*self.init_args) for _ in range(spec.num_workers)]
        self.load = [0] * spec.num_workers
        # num_cpus=0: decoding is bounded by the number of decoders, not by Ray's CPU count,
        # so that it runs beside model workers that hold every CPU of a node
        decoder_class = ray.remote(
            num_cpus=0, max_restarts=TASK_RETRIES, max_task_retries=TASK_RETRIES
        )(Decoder)
        self.decoders = [decoder_class.remote() for _ in range(spec.decoders)]
        self.decoder_load = [0] * spec.decoders

    def check_ready(self) -> None:
        errors = self.ray.get([a.ready.remote() for a in self.actors])
        failed = [e for e in errors if e]
        if failed:
            raise WorkerStartError(f"a Ray worker cannot load the model: {failed[0]}")
        self.ray.get([d.pid.remote() for d in self.decoders])

    def pids(self) -> List[int]:
        return self.ray.get([a.pid.remote() for a in self.actors])

    def least_loaded(self) -> int:
        return min(range(len(self.actors)), key=lambda k: self.load[k])

    def replace(self, k: int) -> None:
        self.ray.kill(self.actors[k], no_restart=True)
        self.actors[k] = self.actor_class.remote(*self.init_args)

    def peak_rss_mb(self) -> List[float]:
        try:
            return self.ray.get([a.peak_rss_mb.remote() for a in self.actors], timeout=30)
        except Exception:  # a worker gone at the end: report none rather than fail the run
            return []

    def free_decoder(self) -> Optional[int]:
        k = min(range(len(self.decoders)), key=lambda d: self.decoder_load[d])
        return k if self.decoder_load[k] == 0 else None

    def shutdown(self) -> None:
        for actor in self.actors + self.decoders:
            self.ray.kill(actor, no_restart=True)


def _compute(
    ray,
    pool: _WorkerPool,
    todo: Sequence[WorkItem],
    store: PartStore,
    stats: RayRunStats,
    bar: tqdm,
    on_part: Optional[Callable[[RayDumpProgress], None]],
) -> None:
    """Decoders (one item each at a time, a worker's worth decoded ahead) feed the model
    actors (at most QUEUE_PER_WORKER items each); each result is stored as it arrives."""
    queue = deque(todo)
    decoding: Dict[object, tuple] = {}
    decoded: deque = deque()
    inflight: Dict[object, tuple] = {}
    pids = pool.pids() if on_part is not None else []
    while queue or decoding or decoded or inflight:
        while queue and len(decoded) < len(pool.actors) and pool.free_decoder() is not None:
            d = pool.free_decoder()
            item = queue.popleft()
            decoding[pool.decoders[d].decode.remote(item)] = (item, d)
            pool.decoder_load[d] += 1
        while decoded and pool.load[pool.least_loaded()] < QUEUE_PER_WORKER:
            k = pool.least_loaded()
            item, images = decoded.popleft()
            inflight[pool.actors[k].predict.remote(images)] = (item, k)
            pool.load[k] += 1
        ready, _ = ray.wait([*decoding, *inflight], num_returns=1)
        for ref in ready:
            if ref in decoding:  # errors surface in the model call that takes it
                item, d = decoding.pop(ref)
                pool.decoder_load[d] -= 1
                decoded.append((item, ref))
                continue
            item, k = inflight.pop(ref)
            pool.load[k] -= 1
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError as e:
                if isinstance(e, ray.exceptions.RayActorError):
                    pool.replace(k)
                stats.report_failure(
                    f"{item.describe()} failed after {TASK_RETRIES} retries (not stored, a "
                    f"re-run retries it): {one_line(getattr(e, 'cause', None) or e)}"
                )
                continue
            store.save(item, result["entries"], result["model_seconds"])
            stats.items_computed += 1
            stats.images_computed += sum(1 for e in result["entries"] if e[0] == "ok")
            stats.model_seconds += result["model_seconds"]
            bar.update(len(result["entries"]))
            if on_part is not None:
                counts = store.counts()
                on_part(RayDumpProgress(counts["done_items"], counts["total_items"], pids))


def _replay(items: Sequence[WorkItem], store: PartStore, writers: Sequence, stats: RunStats):
    """Feeds every stored entry, in input order, to `writers`; closes them in any case."""
    try:
        for item in items:
            if not store.is_done(item):
                continue  # reported when it failed
            for entry in store.load(item)["entries"]:
                if entry[0] == "failed":
                    stats.report_failure(entry[1])
                    continue
                _, meta, prediction = entry
                meta.index = item.index  # the position among this run's inputs
                write_prediction(writers, meta, prediction, stats)
    finally:
        close_writers(writers, stats)


def run_dump_on_ray(
    address: Optional[str],
    spec: WorkerSpec,
    args: argparse.Namespace,
    cfg,
    formats: Sequence[str],
    items: Sequence[WorkItem],
    store: PartStore,
    make_writers: Callable[[], list],
    expected_total: Optional[int] = None,
    progress: bool = True,
    on_part: Optional[Callable[[RayDumpProgress], None]] = None,
    local_cpus: Optional[int] = None,
) -> RayRunStats:
    """Computes the items that `store` lacks on Ray, then writes the outputs from all parts.

    Nothing is written before the workers have loaded the model; the outputs are written only
    once every item was tried, so an interrupted run leaves parts and no half output.

    Args:
        address: None (local Ray, `local_cpus` CPUs), "auto" or HOST:PORT.
        spec: model workers and their CPUs / GPUs (None: from the cluster).
        args, cfg, formats: the `dump` arguments, config and formats (sent to the workers).
        items: the work items in output order; store: their parts.
        make_writers: builds the dump writers (called once, for the replay).
        on_part: called after each stored item (tests kill workers or interrupt here).

    Returns:
        The replay's counts (processed images, failures and their messages, outputs) and the
        distributed run's (items resumed / computed, seconds, workers' peak memory).
    """
    start = time.perf_counter()
    store.check_compatible()
    stats = RayRunStats(items_total=len(items), parts_dir=store.directory)
    todo = [item for item in items if not store.is_done(item)]
    stats.items_resumed = len(items) - len(todo)
    if todo:
        with ray_session(address, local_cpus) as startup:
            stats.ray_startup_seconds = startup
            ray = import_ray()
            spec = resolve_worker_spec(ray, spec)
            stats.num_workers = spec.num_workers
            ready_start = time.perf_counter()
            pool = _WorkerPool(ray, spec, args, worker_config(cfg, spec.gpus), formats)
            try:
                pool.check_ready()
                stats.workers_ready_seconds = time.perf_counter() - ready_start
                store.open(items)
                resumed = store.counts()
                bar = tqdm(
                    total=expected_total,
                    initial=resumed["records"] + resumed["failed"],
                    unit="img",
                    desc="apply_net --ray",
                    disable=not progress,
                    dynamic_ncols=True,
                )
                compute_start = time.perf_counter()
                try:
                    _compute(ray, pool, todo, store, stats, bar, on_part)
                finally:
                    stats.compute_seconds = time.perf_counter() - compute_start
                    bar.close()
                    store.write_manifest()
                stats.worker_peak_rss_mb = pool.peak_rss_mb()
            finally:
                pool.shutdown()
    else:
        store.open(items)
    finalize_start = time.perf_counter()
    _replay(items, store, make_writers(), stats)
    stats.finalize_seconds = time.perf_counter() - finalize_start
    stats.total_seconds = time.perf_counter() - start
    return stats


def resolve_worker_spec(ray, spec: WorkerSpec) -> WorkerSpec:
    """Fills the defaults from the cluster (a worker per GPU when there are GPUs, else per
    `cpus`) and checks that the workers fit."""
    resources = ray.cluster_resources()
    cpus_there, gpus_there = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
    gpus = spec.gpus if spec.gpus is not None else (1.0 if gpus_there >= 1 else 0.0)
    num = spec.num_workers
    if num is None:
        num = int(gpus_there // gpus) if gpus > 0 else int(cpus_there // spec.cpus)
        num = max(num, 1)
    if num * spec.cpus > cpus_there + 1e-9 or num * gpus > gpus_there + 1e-9:
        raise ClusterError(
            f"{num} worker(s) x ({spec.cpus:g} CPU, {gpus:g} GPU) do not fit the Ray cluster "
            f"({cpus_there:g} CPU, {gpus_there:g} GPU); lower --num-workers, --cpus-per-worker "
            "or --gpus-per-worker"
        )
    spare_cpus = int(cpus_there - num * spec.cpus)
    decoders = spec.decoders or max(num, min(spare_cpus, MAX_DECODERS_PER_WORKER * num))
    return WorkerSpec(num, spec.cpus, gpus, decoders)


def local_cpu_count(spec: WorkerSpec) -> int:
    """CPUs a local Ray declares: this machine's, or more when the workers asked for need it."""
    wanted = (spec.num_workers or 0) * spec.cpus
    return max(os.cpu_count() or 1, int(math.ceil(wanted)))


def worker_config(cfg, gpus: float):
    """`cfg` on the workers' device: CUDA when they hold GPUs, else CPU (the driver's own
    device does not matter)."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = "cuda" if gpus > 0 else "cpu"
    cfg.freeze()
    return cfg
