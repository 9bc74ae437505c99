"""`Embedder`: one vertex embedder per mesh (`roi_heads.embedder.embedder_<mesh>.*`)."""

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


def create_vertex_embedder(spec: Any, embed_dim: int) -> nn.Module:
    """Builds one vertex embedder from a CSE.EMBEDDERS.<mesh> spec (TYPE, NUM_VERTICES, ...)."""
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
    if spec.get("INIT_FILE", ""):
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


class Embedder(nn.Module):
    """Container of per-mesh vertex embedders; `embedder(mesh_name)` -> normalised [V, D]."""

    def __init__(self, cfg):
        super().__init__()
        self.mesh_names = set()
        embed_dim = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_SIZE
        for mesh_name, spec in cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.items():
            logger.info(f"Adding embedder embedder_{mesh_name} with spec {dict(spec)}")
            self.add_module(f"embedder_{mesh_name}", create_vertex_embedder(spec, embed_dim))
            self.mesh_names.add(mesh_name)
        if cfg.MODEL.WEIGHTS:
            self.load_from_checkpoint(cfg.MODEL.WEIGHTS)

    def load_from_checkpoint(self, path_or_url: str) -> None:
        """Loads `roi_heads.embedder.*` entries of a checkpoint non-strictly.

        Failing to read the file only logs a warning: the model checkpointer loads it later anyway.
        """
        try:
            model = _read_checkpoint_model(path_or_url)
        except Exception as e:
            logger.warning(f"Embedder: could not pre-load embeddings from {path_or_url!r}: {e}")
            return
        own = self.state_dict()
        state = {}
        for key, value in model.items():
            if not key.startswith(EMBEDDER_PREFIX):
                continue
            name = key[len(EMBEDDER_PREFIX) :]
            value = (
                torch.as_tensor(np.asarray(value)) if not isinstance(value, torch.Tensor) else value
            )
            if name in own and tuple(own[name].shape) != tuple(value.shape):
                logger.warning(
                    f"Embedder: skipping {key} from {path_or_url!r}: shape {tuple(value.shape)} "
                    f"!= {tuple(own[name].shape)}"
                )
                continue
            state[name] = value
        if state:
            self.load_state_dict(state, strict=False)

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
