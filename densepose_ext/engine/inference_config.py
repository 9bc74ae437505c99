"""The config of a tool that runs a model: config file, overrides, thresholds, weights, device.

One set-up for every command line that loads a model (apply_net, the texture tools), so that
they resolve the checkpoint, the device and the thresholds alike.
"""

from typing import Optional, Sequence

import torch
from detectron2.config import CfgNode

from ..config import ConfigError, load_densepose_config
from ..utils.cli import UsageError
from ..utils.files import resolve_file

__all__ = ["inference_config", "pick_device"]


def inference_config(
    config_file: str,
    weights: str,
    opts: Optional[Sequence[str]] = None,
    min_score: Optional[float] = None,
    nms_thresh: Optional[float] = None,
    device: Optional[str] = None,
) -> CfgNode:
    """The frozen config to run `weights` with.

    Args:
        config_file: a YAML file or a model-zoo name.
        weights: checkpoint path or URL (downloaded once, cached); MODEL.WEIGHTS is the local file.
        opts: KEY VALUE overrides, as detectron2's `--opts`.
        min_score, nms_thresh: ROI_HEADS.SCORE_THRESH_TEST / NMS_THRESH_TEST when given.
        device: see `pick_device`.
    Raises:
        UsageError for a bad config, override or device; ExternalFileError for the weights file.
    """
    weights_path = resolve_file(weights, what="model checkpoint")
    try:
        cfg = load_densepose_config(config_file, opts)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    if min_score is not None:
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = min_score
    if nms_thresh is not None:
        cfg.MODEL.ROI_HEADS.NMS_THRESH_TEST = nms_thresh
    cfg.MODEL.WEIGHTS = weights_path
    cfg.MODEL.DEVICE = pick_device(device, cfg, opts)
    cfg.freeze()
    return cfg


def pick_device(device: Optional[str], cfg: CfgNode, opts: Optional[Sequence[str]] = None) -> str:
    """`device`, else MODEL.DEVICE when set with `opts`, else cuda if available, else cpu."""
    if device:
        chosen = device
    elif "MODEL.DEVICE" in list(opts or [])[::2]:
        chosen = cfg.MODEL.DEVICE
    else:
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    if chosen.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(
            f"device {chosen!r} requested but CUDA is not available (use --device cpu)"
        )
    return chosen
