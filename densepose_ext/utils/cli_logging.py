"""Logging of the command-line tools: our and detectron2's logs on stderr during one command."""

import contextlib
import logging
import sys
from typing import Iterator, Sequence

__all__ = ["DEFAULT_LOGGERS", "StderrHandler", "logging_to_stderr"]

DEFAULT_LOGGERS = ("densepose_ext", "detectron2")


class StderrHandler(logging.StreamHandler):
    """Writes to the current `sys.stderr` (which may be replaced after setup, e.g. by pytest)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


@contextlib.contextmanager
def logging_to_stderr(
    verbosity: int,
    names: Sequence[str] = DEFAULT_LOGGERS,
    fmt: str = "%(levelname)s %(name)s: %(message)s",
    propagate: bool = False,
) -> Iterator[None]:
    """Routes the loggers `names` to stderr (WARNING; INFO with verbosity 1, DEBUG above) for the
    duration of a command, then restores them, so that calling a tool's `main` from Python leaves
    logging as it was. `propagate`: also pass records on to the root logger's handlers."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = StderrHandler()
    handler.setFormatter(logging.Formatter(fmt))
    saved = {}
    for name in names:
        named = logging.getLogger(name)
        saved[name] = (named.handlers[:], named.level, named.propagate)
        named.handlers[:] = [handler]
        named.setLevel(level)
        named.propagate = propagate
    try:
        yield
    finally:
        for name, (handlers, old_level, propagate) in saved.items():
            named = logging.getLogger(name)
            named.handlers[:] = handlers
            named.setLevel(old_level)
            named.propagate = propagate
