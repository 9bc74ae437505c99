"""`apply_net.py dump --ray`: the dump on a Ray cluster, resumable, with the one-process outputs.

Sits on top of `apply`: the same predictor, conversion and writers, with decoding in CPU-only
Ray actors, the model in a pool of Ray actors and finished items stored as parts
(docs/distributed.md).
Ray is imported only when a run starts (`pip install "densepose_ext[ray]"`).
"""

from .cli import add_arguments, run_dump
from .parts import PartsError, PartStore, parts_directory
from .ray_run import RayDumpProgress, RayRunStats, WorkerStartError, run_dump_on_ray
from .session import ClusterError, RayUnavailableError
from .work_items import WorkItem, list_work_inputs, plan_work_items, read_work_item

__all__ = [
    "ClusterError",
    "PartStore",
    "PartsError",
    "RayDumpProgress",
    "RayRunStats",
    "RayUnavailableError",
    "WorkItem",
    "WorkerStartError",
    "add_arguments",
    "list_work_inputs",
    "parts_directory",
    "plan_work_items",
    "read_work_item",
    "run_dump",
    "run_dump_on_ray",
]
