import numpy as np
import pytest
import torch

from densepose_ext.evaluation.geodesics import DenseGeodesics
from densepose_ext.evaluation.mesh_alignment import evaluate_mesh_alignment, load_key_vertices
from densepose_ext.utils.files import ExternalFileError

KEYS = {"a": {"nose": 0, "tail": 3}, "b": {"nose": 1, "tail": 2, "ear": 0}}


def _embedder(name):
    eye = torch.eye(4)
    # mesh b: vertex 1 looks like a's vertex 0 (nose), vertex 3 like a's vertex 3 (a's tail)
    return eye if name == "a" else eye[[2, 0, 1, 3]]


def _geodesics(name):
    pos = np.arange(4) * 0.1
    return DenseGeodesics(np.abs(pos[:, None] - pos[None]))


def test_mesh_alignment_metrics_by_hand():
    metrics = evaluate_mesh_alignment(_embedder, ["a", "b"], _geodesics, key_vertices=KEYS)
    # a -> b: nose 0 -> b vertex 1 (exact, 0), tail 3 -> b vertex 3 vs key 2 (0.1)
    # b -> a: nose 1 -> a vertex 0 (exact), tail 2 -> a vertex 1 vs key 3 (0.2); "ear" not on a
    kernel = lambda d: np.exp(-(d**2) / (2 * 0.255**2))  # noqa: E731
    assert metrics["GE-a"] == pytest.approx(100 * 0.05)
    assert metrics["GE-b"] == pytest.approx(100 * 0.1)
    assert metrics["GPS-a"] == pytest.approx(100 * (1 + kernel(0.1)) / 2)
    assert metrics["GE"] == pytest.approx(100 * 0.075)
    assert metrics["GPS"] == pytest.approx((metrics["GPS-a"] + metrics["GPS-b"]) / 2)


def test_missing_key_vertices_file(tmp_path):
    with pytest.raises(ExternalFileError, match="mesh_keyvertices_v0.json"):
        load_key_vertices(str(tmp_path / "mesh_keyvertices_v0.json"))
