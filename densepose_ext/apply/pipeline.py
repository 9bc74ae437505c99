"""Former home of the overlapped run loop, now `runner.run_apply(..., overlap=True)`
(re-exported here while code written against this path moves over)."""

from .runner import run_apply_overlapped  # noqa: F401
