"""`Embedder`: one vertex embedder per mesh (`roi_heads.embedder.embedder_<mesh>.*`).

A mesh's `INIT_FILE` is read only when MODEL.WEIGHTS lacks that embedder's tensors (training from
ImageNet or detection weights): a trained CSE checkpoint already holds them, so applying,
evaluating or fine-tuning it needs no download.
"""

import logging
import pickle
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from ...utils.files import resolve_file
from .vertex_embedders import VertexDirectEmbedder, VertexFeatureEmbedder

__all__ = ["Embedder", "build_densepose_embedder", "create_vertex_embedder"]

logger = logging.getLogger(__name__)

EMBEDDER_PREFIX = "roi_heads.embedder."


def create_vertex_embedder(spec: Any, embed_dim: int, read_init_file: bool = True) -> nn.Module:
    """Builds one vertex embedder from a CSE.EMBEDDERS.<mesh> spec (TYPE, NUM_VERTICES, ...).

    `read_init_file=False` skips the spec's INIT_FILE (the caller has the values elsewhere).
    """
    kind = spec.TYPE
    if kind == "vertex_direct":
        embedder = VertexDirectEmbedder(num_vertices=spec.NUM_VERTICES, embed_dim=embed_dim)
    elif kind == "vertex_feature":
        embedder = VertexFeatureEmbedder(
            num_vertices=spec.NUM_VERTICES,
            feature_dim=spec.FEATURE_DIM,
            embed_dim=embed_dim,
            train_features=spec.get("FEATURES_TRAINABLE", False),
        )
    else:
        raise ValueError(
            f"unknown embedder TYPE {kind!r}; expected 'vertex_direct' or 'vertex_feature'"
        )
    if read_init_file and spec.get("INIT_FILE", ""):
        embedder.load(spec.INIT_FILE)
    if not spec.get("IS_TRAINABLE", True):
        embedder.requires_grad_(False)
    return embedder


def _read_checkpoint_model(path_or_url: str) -> Dict[str, Any]:
    """The `model` dict of a detectron2 checkpoint (.pkl via pickle latin1, else torch.load)."""
    local = resolve_file(path_or_url, what="model weights (MODEL.WEIGHTS)")
    if local.endswith(".pkl"):
        with open(local, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    else:
        data = torch.load(local, map_location="cpu", weights_only=False)
    return data["model"] if isinstance(data, dict) and "model" in data else data


def _read_embedder_state(path_or_url: str) -> Dict[str, torch.Tensor]:
    """`roi_heads.embedder.*` tensors of a checkpoint, prefix removed; {} (warned) if unreadable."""
    try:
        model = _read_checkpoint_model(path_or_url)
    except Exception as e:
        logger.warning(f"Embedder: could not pre-load embeddings from {path_or_url!r}: {e}")
        return {}
    return {
        key[len(EMBEDDER_PREFIX) :]: (
            value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        )
        for key, value in model.items()
        if key.startswith(EMBEDDER_PREFIX)
    }


def _holds_all(state: Dict[str, torch.Tensor], module: nn.Module, prefix: str) -> bool:
    """Whether `state` has every tensor of `module` (under `prefix`) with the right shape."""
    own = module.state_dict()
    return bool(own) and all(
        prefix + name in state and tuple(state[prefix + name].shape) == tuple(value.shape)
        for name, value in own.items()
    )


class Embedder(nn.Module):
    """Container of per-mesh vertex embedders; `embedder(mesh_name)` -> normalised [V, D]."""

    def __init__(self, cfg):
        super().__init__()
        self.mesh_names = set()
        embed_dim = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_SIZE
        weights = cfg.MODEL.WEIGHTS
        state = _read_embedder_state(weights) if weights else {}
        for mesh_name, spec in cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.items():
            logger.info(f"Adding embedder embedder_{mesh_name} with spec {dict(spec)}")
            module = create_vertex_embedder(spec, embed_dim, read_init_file=False)
            prefix = f"embedder_{mesh_name}."
            held = _holds_all(state, module, prefix)
            if spec.get("INIT_FILE", "") and held:
                logger.info(
                    f"Embedder {mesh_name}: not reading INIT_FILE, {weights!r} holds its tensors"
                )
            elif spec.get("INIT_FILE", ""):
                module.load(spec.INIT_FILE)
            self.add_module(f"embedder_{mesh_name}", module)
            self.mesh_names.add(mesh_name)
        state = self._compatible(state, weights)
        if state:
            self.load_state_dict(state, strict=False)

    def load_from_checkpoint(self, path_or_url: str) -> None:
        """Loads `roi_heads.embedder.*` entries of a checkpoint non-strictly.

        Failing to read the file only logs a warning: the model checkpointer loads it later anyway.
        """
        state = self._compatible(_read_embedder_state(path_or_url), path_or_url)
        if state:
            self.load_state_dict(state, strict=False)

    def _compatible(self, state: Dict[str, torch.Tensor], source: str) -> Dict[str, torch.Tensor]:
        """`state` without the entries whose shape differs from this container's (warned)."""
        own = self.state_dict()
        kept = {}
        for name, value in state.items():
            if name in own and tuple(own[name].shape) != tuple(value.shape):
                logger.warning(
                    f"Embedder: skipping {EMBEDDER_PREFIX}{name} from {source!r}: shape "
                    f"{tuple(value.shape)} != {tuple(own[name].shape)}"
                )
                continue
            kept[name] = value
        return kept

    def forward(self, mesh_name: str) -> torch.Tensor:
        """L2-normalised vertex embeddings [V, D] of `mesh_name`."""
        if mesh_name not in self.mesh_names:
            raise KeyError(
                f"no embedder for mesh {mesh_name!r}; available: {sorted(self.mesh_names)}"
            )
        return getattr(self, f"embedder_{mesh_name}")()

    def has_embeddings(self, mesh_name: str) -> bool:
        return mesh_name in self.mesh_names


def build_densepose_embedder(cfg) -> Optional[Embedder]:
    """Returns the Embedder for `MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS`, or None when empty."""
    if len(cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS) == 0:
        return None
    return Embedder(cfg)
