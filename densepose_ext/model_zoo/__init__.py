"""Official DensePose configs and checkpoints by name (mirrors `detectron2.model_zoo`)."""

from ..model_catalog import (
    MODEL_ZOO,
    ModelZooEntry,
    configs_root,
    get_checkpoint_url,
    get_config_file,
    list_configs,
)
from .model_zoo import get, get_config

__all__ = [
    "MODEL_ZOO",
    "ModelZooEntry",
    "configs_root",
    "get",
    "get_checkpoint_url",
    "get_config",
    "get_config_file",
    "list_configs",
]
