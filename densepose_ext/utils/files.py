"""The one way external files (checkpoints, meshes, flip tables, evaluation data) enter the package.

A name may be a local path, an http(s) URL or any detectron2 PathManager URI. Remote files are
downloaded once into detectron2's cache (``$FVCORE_CACHE`` / ``~/.torch/iopath_cache``).
"""

import os

from detectron2.utils.file_io import PathManager

__all__ = ["ExternalFileError", "resolve_file"]


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
