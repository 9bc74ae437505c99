"""Per-vertex embedders of a mesh: learned directly, or as a linear map of fixed vertex features."""

import pickle
from typing import Any, Dict

import numpy as np
import torch
from torch import nn

from ...utils.files import ExternalFileError, resolve_file

__all__ = [
    "VertexDirectEmbedder",
    "VertexFeatureEmbedder",
    "normalize_embeddings",
    "read_init_file",
]


def normalize_embeddings(embeddings: torch.Tensor, epsilon: float = 1e-6) -> torch.Tensor:
    """Divides each row of [V, D] by its L2 norm clamped below at `epsilon`."""
    return embeddings / torch.clamp(embeddings.norm(p=None, dim=1, keepdim=True), min=epsilon)


def read_init_file(path_or_url: str) -> Dict[str, Any]:
    """Reads an embedder init pickle (path or URL, cached):
    a dict with `features` / `embeddings`."""
    local = resolve_file(
        path_or_url, what="CSE embedder init file", hint="(CSE.EMBEDDERS.<mesh>.INIT_FILE)"
    )
    try:
        with open(local, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as e:
        raise ExternalFileError(f"cannot read CSE embedder init file {path_or_url!r}: {e}") from e
    if not isinstance(data, dict):
        raise ExternalFileError(
            f"CSE embedder init file {path_or_url!r} must hold a dict, got {type(data).__name__}"
        )
    return data


def _copy_into(target: torch.Tensor, value: Any, key: str, source: str) -> None:
    tensor = torch.as_tensor(np.asarray(value), dtype=target.dtype)
    if tuple(tensor.shape) != tuple(target.shape):
        raise ExternalFileError(
            f"{key!r} in {source!r} has shape {tuple(tensor.shape)}, expected {tuple(target.shape)}"
        )
    with torch.no_grad():
        target.copy_(tensor)


class VertexDirectEmbedder(nn.Module):
    """Learned vertex embeddings: `embeddings` Parameter [V, D]; output rows L2-normalised."""

    def __init__(self, num_vertices: int, embed_dim: int):
        super().__init__()
        self.embeddings = nn.Parameter(torch.zeros(num_vertices, embed_dim))

    def forward(self) -> torch.Tensor:
        return normalize_embeddings(self.embeddings)

    def load(self, path_or_url: str) -> None:
        """Copies `embeddings` from an init pickle if present."""
        data = read_init_file(path_or_url)
        if "embeddings" in data:
            _copy_into(self.embeddings, data["embeddings"], "embeddings", path_or_url)


class VertexFeatureEmbedder(nn.Module):
    """Vertex embeddings = L2-normalised rows of `features` [V, F] @ `embeddings` [F, D].

    `features` is a persistent buffer (in the state dict, after `embeddings`) unless
    `train_features`, in which case it is a Parameter registered first.
    """

    def __init__(
        self, num_vertices: int, feature_dim: int, embed_dim: int, train_features: bool = False
    ):
        super().__init__()
        features = torch.zeros(num_vertices, feature_dim)
        if train_features:
            self.features = nn.Parameter(features)
        else:
            self.register_buffer("features", features, persistent=True)
        self.embeddings = nn.Parameter(torch.zeros(feature_dim, embed_dim))

    def forward(self) -> torch.Tensor:
        return normalize_embeddings(self.features.matmul(self.embeddings))

    def load(self, path_or_url: str) -> None:
        """Copies `features` and / or `embeddings` from an init pickle if present."""
        data = read_init_file(path_or_url)
        for key in ("features", "embeddings"):
            if key in data:
                _copy_into(getattr(self, key), data[key], key, path_or_url)
