"""The model-zoo catalog: config names, their files and official checkpoints (no model code)."""

from .entries import MODEL_ZOO, ModelZooEntry
from .names import configs_root, get_checkpoint_url, get_config_file, list_configs

__all__ = [
    "MODEL_ZOO",
    "ModelZooEntry",
    "configs_root",
    "get_checkpoint_url",
    "get_config_file",
    "list_configs",
]
