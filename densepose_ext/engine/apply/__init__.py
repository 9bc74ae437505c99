"""Deprecated location of the apply_net tool: it moved to `densepose_ext.apply`.

Kept for one release: `densepose_ext.engine.apply` and its submodules (`.cli`, `.dump_writers`,
...) still import, with a DeprecationWarning. Only imported on request, never by the package.
"""

import importlib
import sys
import warnings

from ...apply import *  # noqa: F403
from ...apply import __all__  # noqa: F401

_SUBMODULES = ("cli", "dump_writers", "files", "inputs", "predictor", "runner", "show_writer")
for _name in _SUBMODULES:
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"densepose_ext.apply.{_name}")

warnings.warn(
    "densepose_ext.engine.apply moved to densepose_ext.apply", DeprecationWarning, stacklevel=2
)
