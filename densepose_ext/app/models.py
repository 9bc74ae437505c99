"""Which models the app can offer: one given on the command line, else those already on disk.

Nothing is downloaded: with no `--config/--model`, the app lists the model that
`scripts/run_demo.sh` trains (`$DEMO_OUT`, default `output/demo`) and the model-zoo entries whose
official checkpoint is already in detectron2's download cache.
"""

import os
from dataclasses import dataclass, field
from typing import List, Optional, Tuple
from urllib.parse import urlparse

from ..model_zoo import MODEL_ZOO, get_config_file

__all__ = [
    "DEMO_CONFIG",
    "ModelSpec",
    "cached_checkpoint_path",
    "demo_model",
    "find_models",
    "no_model_message",
]

DEMO_CONFIG = os.path.join("demo", "configs", "synthetic_R_18_chart.yaml")
DEMO_MIN_SCORE = 0.5  # what run_demo.sh passes to apply_net.py show


@dataclass(frozen=True)
class ModelSpec:
    """A config and a checkpoint to load; `min_score` is the detection threshold (apply_net show's
    --min_score), `opts` config overrides KEY VALUE ..."""

    name: str
    config: str
    weights: str
    min_score: float = 0.8
    opts: Tuple[str, ...] = field(default_factory=tuple)


def cached_checkpoint_path(url: str, cache_dir: Optional[str] = None) -> str:
    """Where detectron2's PathManager (iopath) keeps the download of `url`."""
    from iopath.common.file_io import get_cache_dir

    parsed = urlparse(url)
    directory = os.path.join(get_cache_dir(cache_dir), os.path.dirname(parsed.path.lstrip("/")))
    return os.path.join(directory, url.split("/")[-1].split("?")[0])


def demo_model(repo_root: str = ".", demo_out: Optional[str] = None) -> Optional[ModelSpec]:
    """The model of `scripts/run_demo.sh` when it has been trained, else None."""
    out = demo_out or os.environ.get("DEMO_OUT") or os.path.join(repo_root, "output", "demo")
    weights = os.path.join(out, "train", "model_final.pth")
    config = os.path.join(repo_root, DEMO_CONFIG)
    if not (os.path.isfile(weights) and os.path.isfile(config)):
        return None
    return ModelSpec("demo: synthetic_R_18_chart", config, weights, min_score=DEMO_MIN_SCORE)


def find_models(
    repo_root: str = ".", demo_out: Optional[str] = None, cache_dir: Optional[str] = None
) -> List[ModelSpec]:
    """The demo model (if trained) then every zoo model whose checkpoint is cached."""
    found = [m for m in (demo_model(repo_root, demo_out),) if m is not None]
    for entry in MODEL_ZOO:
        weights = cached_checkpoint_path(entry.url, cache_dir)
        if os.path.isfile(weights) and os.path.getsize(weights) > 0:
            name = entry.config[: -len(".yaml")]
            found.append(ModelSpec(name, get_config_file(entry.config), weights))
    return found


def no_model_message() -> str:
    """What to do when `find_models` finds nothing (shown in the page and on the console)."""
    return (
        "No model available: train the demo model with `scripts/run_demo.sh` (it appears as "
        "output/demo/train/model_final.pth), download a model-zoo checkpoint (e.g. "
        "`scripts/run_demo.sh densepose_rcnn_R_50_FPN_s1x`), or start the app with "
        "`--config CONFIG --model CHECKPOINT`."
    )
