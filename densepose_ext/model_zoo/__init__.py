"""Official DensePose configs and checkpoints by name (mirrors `detectron2.model_zoo`)."""

from .catalog import MODEL_ZOO, ModelZooEntry
from .model_zoo import (
    configs_root,
    get,
    get_checkpoint_url,
    get_config,
    get_config_file,
    list_configs,
)

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
