"""The one way external files (checkpoints, meshes, flip tables, evaluation data) enter the package.

A name may be a local path, an http(s) URL or any detectron2 PathManager URI. Remote files are
downloaded once into detectron2's cache (``$FVCORE_CACHE`` / ``~/.torch/iopath_cache``).
"""

import os
import tempfile

from detectron2.utils.file_io import PathManager

__all__ = [
    "ExternalFileError",
    "OutputPathError",
    "check_output_dir",
    "check_output_path",
    "resolve_file",
]


class ExternalFileError(RuntimeError):
    """An external file is missing, unreachable or malformed; the message names the file."""


def resolve_file(path_or_url: str, what: str = "file", hint: str = "") -> str:
    """Returns a local path for `path_or_url`, downloading (with cache) if it is remote.

    Raises `ExternalFileError` naming `what` and the location, plus `hint` (how to get it).
    """
    if not path_or_url:
        raise ExternalFileError(f"no {what} given (empty path). {hint}".strip())
    try:
        local = PathManager.get_local_path(path_or_url)
    except Exception as e:  # network errors, unknown schemes, ...
        raise ExternalFileError(
            f"cannot fetch {what} from {path_or_url!r}: {e}. {hint}".strip()
        ) from e
    if not os.path.isfile(local):
        raise ExternalFileError(f"{what} not found: {path_or_url!r}. {hint}".strip())
    if os.path.getsize(local) == 0:
        raise ExternalFileError(f"{what} is empty: {local!r}. {hint}".strip())
    return local


class OutputPathError(ExternalFileError):
    """An output path that cannot be written; found before a run starts, not after its work."""


def check_output_path(path: str, what: str = "output file") -> None:
    """Raises `OutputPathError` when the file `path` cannot be created: it is a directory, a
    folder on its way is a file, or the nearest existing folder does not take new entries (e.g.
    under /proc). Nothing is left behind by the check."""
    target = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(target):
        raise OutputPathError(f"cannot write {what} {path!r}: it is a directory")
    _check_creatable(os.path.dirname(target), path, what)


def check_output_dir(path: str, what: str = "output directory") -> None:
    """As `check_output_path` for a directory that the run creates (if needed) and fills."""
    target = os.path.abspath(os.path.expanduser(path))
    if os.path.exists(target) and not os.path.isdir(target):
        raise OutputPathError(f"cannot write {what} {path!r}: a file of that name exists")
    _check_creatable(target, path, what)


def _check_creatable(directory: str, path: str, what: str) -> None:
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise OutputPathError(f"cannot write {what} {path!r}: {existing!r} is a file, not a folder")
    try:  # a probe says more than os.access (which says yes to root, and under /proc)
        if existing == directory:
            fd, probe = tempfile.mkstemp(prefix=".write_check.", dir=directory)
            os.close(fd)
            os.remove(probe)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".write_check.", dir=existing))
    except OSError as e:
        raise OutputPathError(
            f"cannot write {what} {path!r}: cannot create entries in {existing!r} "
            f"({e.strerror or e})"
        ) from e
