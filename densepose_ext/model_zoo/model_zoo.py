"""Ready-to-use model-zoo configs and models by name (the names: `model_catalog`)."""

from typing import Optional

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import CfgNode
from detectron2.modeling import build_model

from ..config import get_densepose_cfg
from ..model_catalog import get_checkpoint_url, get_config_file

__all__ = ["get", "get_config"]


def get_config(config_path: str, trained: bool = False) -> CfgNode:
    """The merged config; with ``trained=True`` MODEL.WEIGHTS points to the official checkpoint."""
    cfg = get_densepose_cfg()
    cfg.merge_from_file(get_config_file(config_path))
    if trained:
        cfg.MODEL.WEIGHTS = get_checkpoint_url(config_path)
    return cfg


def get(config_path: str, trained: bool = False, device: Optional[str] = None) -> torch.nn.Module:
    """Builds the model of a zoo config in eval mode; ``trained=True`` loads the official weights.

    Weights are read through detectron2's PathManager, so a URL is downloaded once into its cache
    (``$FVCORE_CACHE``, default ``~/.torch/iopath_cache``) and re-used afterwards.
    """
    cfg = get_config(config_path, trained)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg.MODEL.DEVICE = device
    if not trained:
        cfg.MODEL.WEIGHTS = ""  # like detectron2.model_zoo.get: random init, nothing downloaded
    model = build_model(cfg)
    if trained:
        DetectionCheckpointer(model).load(cfg.MODEL.WEIGHTS)
    model.eval()
    return model
