"""What every command line of the package shares: its error type, the one-line error, the run.

A tool's `main` parses its arguments, then hands the work to `run_cli`, which routes our logs
to stderr for the duration (`cli_logging.logging_to_stderr`) and turns an expected error into
`<prog>: error: <one line>` and exit status 1 instead of a traceback.
"""

import argparse
import sys
from typing import Callable, List, Optional, Sequence, Tuple, Type

from .cli_logging import DEFAULT_LOGGERS, logging_to_stderr

__all__ = ["UsageError", "one_line", "parse_command", "print_error", "run_cli"]


class UsageError(ValueError):
    """A bad argument or argument combination of a command line, reported in one line."""


def one_line(error: BaseException) -> str:
    """The error's message on one line (a KeyError's without the quotes `str` adds)."""
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())


def print_error(prog: str, error: BaseException) -> None:
    """`<prog>: error: <message>` on stderr, argparse's form."""
    print(f"{prog}: error: {one_line(error)}", file=sys.stderr)


def parse_command(
    parser: argparse.ArgumentParser, argv: Optional[List[str]] = None
) -> Optional[argparse.Namespace]:
    """The arguments of a tool with sub-commands; None (after printing the help) without one."""
    args = parser.parse_args(argv)
    if getattr(args, "command", None) is None:
        parser.print_help()
        return None
    return args


def run_cli(
    prog: str,
    body: Callable[[], int],
    verbosity: int = 0,
    errors: Tuple[Type[BaseException], ...] = (),
    loggers: Sequence[str] = DEFAULT_LOGGERS,
    log_format: str = "%(levelname)s %(name)s: %(message)s",
) -> int:
    """Runs a tool's work and returns its exit status.

    Args:
        prog: the command as the user typed it (e.g. "apply_net.py dump"), the error's prefix.
        body: the work; returns the exit status.
        verbosity: 0 warnings, 1 info, 2+ debug (of `loggers`).
        errors: exception types besides `UsageError` that are the user's input, not a bug.
    Returns:
        `body()`'s status, or 1 after printing an expected error in one line.
    """
    try:
        with logging_to_stderr(verbosity, names=loggers, fmt=log_format):
            return body()
    except (UsageError, *errors) as e:
        print_error(prog, e)
        return 1
