"""Ray for `dump --ray`: imported only when a run starts, a cluster address checked before
Ray's own connect (which waits a minute on an address that does not answer), and a local Ray
started and stopped around the run."""

import socket
import time
from contextlib import contextmanager
from typing import Iterator, Optional

__all__ = [
    "INSTALL_HINT",
    "ClusterError",
    "RayUnavailableError",
    "check_reachable",
    "import_ray",
    "one_line",
    "ray_session",
]

INSTALL_HINT = 'pip install "densepose_ext[ray]"'


class RayUnavailableError(ValueError):
    """--ray without Ray installed."""


class ClusterError(ValueError):
    """The Ray cluster cannot be reached or cannot host the workers."""


def import_ray():
    try:
        import ray
    except ImportError as e:
        raise RayUnavailableError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from e
    return ray


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """ClusterError unless something listens at HOST:PORT (Ray's own connect waits a minute)."""
    host, _, port = address.split("://")[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray address must be auto or HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {one_line(e)} (start it with "
            "`ray start --head`, or give --ray without an address to run on this machine)"
        ) from e


@contextmanager
def ray_session(address: Optional[str], num_cpus: Optional[int] = None) -> Iterator[float]:
    """Joins the cluster at `address` ("auto", HOST:PORT), or starts a local Ray (None) and
    stops it on exit; a Ray already initialised in this process is used as it is. Yields the
    start-up time (s)."""
    ray = import_ray()
    start = time.perf_counter()
    if address not in (None, "auto"):
        check_reachable(address)
    if ray.is_initialized():
        yield 0.0
        return
    options = dict(include_dashboard=False, configure_logging=False)
    try:
        if address is None:
            ray.init(num_cpus=num_cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = "a local Ray" if address is None else f"the Ray cluster at {address}"
        raise ClusterError(f"cannot start or join {where}: {one_line(e)}") from e
    try:
        yield time.perf_counter() - start
    finally:
        ray.shutdown()
