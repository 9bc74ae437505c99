"""Per-checkpoint cache of the quantized parts (`$DENSEPOSE_EXT_CACHE/int8/`, default
`~/.cache/densepose_ext/int8/`).

Key: the checkpoint's content hash, the config, the calibration images' identity, the torch and
densepose_ext versions and the quantized engine. Files are written atomically.
"""

import hashlib
import json
import logging
import os
from typing import Dict, Optional

import torch

__all__ = ["Int8Cache", "int8_cache_key"]

logger = logging.getLogger(__name__)


def _cache_root() -> str:
    root = os.environ.get("DENSEPOSE_EXT_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "densepose_ext"
    )
    return os.path.join(root, "int8")


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def int8_cache_key(cfg, calibration_id: str) -> Optional[str]:
    """The cache key of `cfg` (its MODEL.WEIGHTS file) calibrated on `calibration_id`, or None
    when the weights are not a local file (nothing stable to key on)."""
    from ... import __version__
    from ...modeling.inference_opt.int8 import activation_reduce_range

    weights = cfg.MODEL.WEIGHTS
    if not weights or not os.path.isfile(weights):
        return None
    key = json.dumps(
        [
            _file_sha256(weights),
            cfg.dump(),
            calibration_id,
            torch.__version__,
            __version__,
            torch.backends.quantized.engine,
            activation_reduce_range(),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class Int8Cache:
    """`load()` -> the quantized parts' state dicts or None; `save(state)` writes them
    (atomically)."""

    def __init__(self, key: str):
        self.path = os.path.join(_cache_root(), f"densepose_int8_{key}.pt")

    def load(self) -> Optional[Dict[str, Dict[str, torch.Tensor]]]:
        if not os.path.isfile(self.path):
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as e:  # truncated, other torch version
            logger.warning(f"ignoring unreadable int8 cache file {self.path}: {e}")
            return None
        if not isinstance(state, dict) or not all(isinstance(v, dict) for v in state.values()):
            logger.warning(f"ignoring int8 cache file {self.path}: not a dict of state dicts")
            return None
        logger.info(f"int8: using the cached quantized model {self.path}")
        return state

    def save(self, state: Dict[str, Dict[str, torch.Tensor]]) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            torch.save(state, tmp)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        logger.info(f"int8: quantized model cached in {self.path}")
