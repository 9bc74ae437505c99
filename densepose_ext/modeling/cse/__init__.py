"""Continuous surface embeddings: predictors (registered on import) and mesh vertex embedders."""

from .embedder import Embedder, build_densepose_embedder, create_vertex_embedder
from .predictors import DensePoseEmbeddingPredictor, DensePoseEmbeddingWithConfidencePredictor
from .vertex_embedders import VertexDirectEmbedder, VertexFeatureEmbedder, normalize_embeddings

__all__ = [
    "DensePoseEmbeddingPredictor",
    "DensePoseEmbeddingWithConfidencePredictor",
    "Embedder",
    "VertexDirectEmbedder",
    "VertexFeatureEmbedder",
    "build_densepose_embedder",
    "create_vertex_embedder",
    "normalize_embeddings",
]
