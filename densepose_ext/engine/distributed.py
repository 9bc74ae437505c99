"""Orderly end of a multi-process (`launch`) run."""

import torch.distributed as dist
from detectron2.utils import comm

__all__ = ["close_process_group"]


def close_process_group() -> None:
    """Waits for every process, then destroys the default process group (no-op when there is none).

    detectron2's `launch` leaves the group alive until interpreter exit, where gloo's threads can be
    torn down in the wrong order and abort a process that has finished its work (SIGABRT,
    "terminate called without an active exception"); destroying the group first avoids that.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    comm.synchronize()
    dist.destroy_process_group()
