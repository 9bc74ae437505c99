"""Official DensePose config files and checkpoints by name, with nothing else of the package.

Below `config` (which resolves zoo names in `load_densepose_config`); `model_zoo` builds models
on top. Names may be given with or without ``.yaml`` and with their sub-directory, e.g.
``"densepose_rcnn_R_50_FPN_s1x"``, ``"cse/densepose_rcnn_R_50_FPN_soft_s1x.yaml"``.
"""

import os
from typing import List, Optional

from .entries import MODEL_ZOO, ModelZooEntry

__all__ = ["configs_root", "get_checkpoint_url", "get_config_file", "list_configs"]

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGED = os.path.join(_PACKAGE_ROOT, "model_zoo", "configs")  # setup.py copies configs/ there
_SOURCE_TREE = os.path.join(_PACKAGE_ROOT, "..", "configs")


def configs_root() -> str:
    """Directory holding the config files: inside the installed wheel, else the source tree."""
    for candidate in (_PACKAGED, _SOURCE_TREE):
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    raise RuntimeError(
        f"densepose_ext configs not found in {_PACKAGED} nor {os.path.normpath(_SOURCE_TREE)}; "
        "reinstall the package (`pip install .`)"
    )


def list_configs() -> List[str]:
    """Relative paths (with ``.yaml``) of every shipped config."""
    root = configs_root()
    found = []
    for dirpath, _, files in os.walk(root):
        found += [
            os.path.relpath(os.path.join(dirpath, f), root) for f in files if f.endswith(".yaml")
        ]
    return sorted(p.replace(os.sep, "/") for p in found)


def _normalize(name: str) -> str:
    name = name.strip().replace("\\", "/")
    if name.startswith("configs/"):
        name = name[len("configs/") :]
    return name if name.endswith(".yaml") else name + ".yaml"


def get_config_file(config_path: str) -> str:
    """Absolute path of a shipped config,
    e.g. ``get_config_file("densepose_rcnn_R_50_FPN_s1x")``."""
    rel = _normalize(config_path)
    path = os.path.join(configs_root(), rel)
    if not os.path.isfile(path):
        close = [c for c in list_configs() if os.path.basename(rel)[:-5] in c]
        hint = f" Did you mean: {', '.join(close[:5])}?" if close else ""
        raise RuntimeError(f"{config_path!r} is not a densepose_ext model-zoo config.{hint}")
    return path


def _zoo_entry(config_path: str) -> Optional[ModelZooEntry]:
    rel = _normalize(config_path)
    return next((e for e in MODEL_ZOO if e.config == rel), None)


def get_checkpoint_url(config_path: str) -> str:
    """URL of the official checkpoint trained with this config."""
    entry = _zoo_entry(config_path)
    if entry is None:
        get_config_file(config_path)  # raises for unknown names
        raise RuntimeError(
            f"{config_path!r} has no official trained checkpoint (base, HRNet, quick-schedule and "
            "some "
            "animal finetuning configs have none); train it with train_net.py."
        )
    return entry.url
