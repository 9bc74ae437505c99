"""Embedder container and vertex embedders: key layout, normalisation, INIT_FILE, MODEL.WEIGHTS."""

import logging
import pickle

import numpy as np
import pytest
import torch
from detectron2.config import CfgNode

from densepose_ext.config import get_densepose_cfg
from densepose_ext.modeling.cse import (
    Embedder,
    VertexDirectEmbedder,
    VertexFeatureEmbedder,
    build_densepose_embedder,
    normalize_embeddings,
)
from densepose_ext.utils.files import ExternalFileError


def cse_cfg(**embedders):
    cfg = get_densepose_cfg()
    for name, spec in embedders.items():
        cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS[name] = CfgNode(spec)
    return cfg


FEATURE_SPEC = {
    "TYPE": "vertex_feature",
    "NUM_VERTICES": 7,
    "FEATURE_DIM": 5,
    "FEATURES_TRAINABLE": False,
    "IS_TRAINABLE": True,
    "INIT_FILE": "",
}
DIRECT_SPEC = {"TYPE": "vertex_direct", "NUM_VERTICES": 4, "IS_TRAINABLE": True, "INIT_FILE": ""}


def test_no_embedders_gives_none():
    assert build_densepose_embedder(get_densepose_cfg()) is None


def test_key_layout_in_config_order():
    embedder = build_densepose_embedder(cse_cfg(zebra_5002=FEATURE_SPEC, horse_5004=DIRECT_SPEC))
    keys = [(k, tuple(v.shape)) for k, v in embedder.state_dict().items()]
    assert keys == [
        ("embedder_zebra_5002.embeddings", (5, 16)),
        ("embedder_zebra_5002.features", (7, 5)),
        ("embedder_horse_5004.embeddings", (4, 16)),
    ]
    assert embedder.mesh_names == {"zebra_5002", "horse_5004"}
    assert embedder.has_embeddings("horse_5004") and not embedder.has_embeddings("cat_5001")
    with pytest.raises(KeyError, match="cat_5001"):
        embedder("cat_5001")


def test_feature_buffer_vs_parameter():
    frozen = VertexFeatureEmbedder(7, 5, 16, train_features=False)
    assert "features" in dict(frozen.named_buffers()) and "features" not in dict(
        frozen.named_parameters()
    )
    assert list(frozen.state_dict()) == ["embeddings", "features"]
    trainable = VertexFeatureEmbedder(7, 5, 16, train_features=True)
    assert list(trainable.state_dict()) == ["features", "embeddings"]
    assert isinstance(trainable.features, torch.nn.Parameter)


def test_is_trainable_false_freezes():
    spec = dict(DIRECT_SPEC, IS_TRAINABLE=False)
    embedder = build_densepose_embedder(cse_cfg(m=spec))
    assert not any(p.requires_grad for p in embedder.parameters())


def test_outputs_are_normalised_products():
    torch.manual_seed(0)
    emb = VertexFeatureEmbedder(7, 5, 3)
    with torch.no_grad():
        emb.features.copy_(torch.randn(7, 5))
        emb.features[2] = 0  # zero row: norm clamped at 1e-6, stays zero
        emb.embeddings.copy_(torch.randn(5, 3))
    out = emb()
    raw = emb.features @ emb.embeddings
    expected = raw / raw.norm(dim=1, keepdim=True).clamp(min=1e-6)
    torch.testing.assert_close(out, expected)
    assert torch.allclose(out.norm(dim=1)[[0, 1, 3]], torch.ones(3))
    assert (out[2] == 0).all()
    direct = VertexDirectEmbedder(4, 3)
    with torch.no_grad():
        direct.embeddings.copy_(torch.tensor([[3.0, 4.0, 0.0]] * 4))
    torch.testing.assert_close(direct(), torch.tensor([[0.6, 0.8, 0.0]] * 4))
    torch.testing.assert_close(
        normalize_embeddings(torch.tensor([[1e-9, 0.0]])), torch.tensor([[1e-3, 0.0]])
    )


def test_init_file(tmp_path):
    features = np.random.RandomState(0).randn(7, 5)
    path = tmp_path / "phi_m_5.pkl"
    with open(path, "wb") as f:
        pickle.dump({"features": features}, f)
    embedder = build_densepose_embedder(cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=str(path))))
    np.testing.assert_allclose(embedder.embedder_m.features.numpy(), features.astype(np.float32))
    assert (embedder.embedder_m.embeddings == 0).all()  # absent key: stays zero


def test_init_file_errors_name_the_file(tmp_path):
    missing = str(tmp_path / "nope.pkl")
    with pytest.raises(ExternalFileError, match="nope.pkl"):
        build_densepose_embedder(cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=missing)))
    bad_shape = tmp_path / "bad.pkl"
    with open(bad_shape, "wb") as f:
        pickle.dump({"features": np.zeros((3, 5))}, f)
    with pytest.raises(ExternalFileError, match="bad.pkl.*shape"):
        build_densepose_embedder(cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=str(bad_shape))))
    corrupt = tmp_path / "corrupt.pkl"
    corrupt.write_bytes(b"not a pickle at all")
    with pytest.raises(ExternalFileError, match="corrupt.pkl"):
        build_densepose_embedder(cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=str(corrupt))))


def test_unknown_type():
    with pytest.raises(ValueError, match="vertex_magic"):
        build_densepose_embedder(cse_cfg(m=dict(DIRECT_SPEC, TYPE="vertex_magic")))


def test_model_weights_preloaded_at_construction(tmp_path):
    rng = np.random.RandomState(1)
    model = {
        "roi_heads.embedder.embedder_m.embeddings": rng.randn(5, 16).astype(np.float32),
        "roi_heads.embedder.embedder_m.features": rng.randn(7, 5).astype(np.float32),
        "roi_heads.embedder.embedder_other.embeddings": rng.randn(3, 16).astype(
            np.float32
        ),  # other mesh
        "roi_heads.box_predictor.cls_score.weight": rng.randn(2, 4).astype(np.float32),
    }
    path = tmp_path / "model_final.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": model, "__author__": "test"}, f)
    cfg = cse_cfg(m=FEATURE_SPEC)
    cfg.MODEL.WEIGHTS = str(path)
    embedder = build_densepose_embedder(cfg)
    np.testing.assert_array_equal(
        embedder.embedder_m.embeddings.detach().numpy(),
        model["roi_heads.embedder.embedder_m.embeddings"],
    )
    np.testing.assert_array_equal(
        embedder.embedder_m.features.numpy(), model["roi_heads.embedder.embedder_m.features"]
    )
    # torch checkpoints (.pth) are read with torch.load
    pth = tmp_path / "model.pth"
    torch.save({"model": {k: torch.from_numpy(v) for k, v in model.items()}}, pth)
    cfg.MODEL.WEIGHTS = str(pth)
    embedder = build_densepose_embedder(cfg)
    np.testing.assert_array_equal(
        embedder.embedder_m.features.numpy(), model["roi_heads.embedder.embedder_m.features"]
    )


def test_unreadable_model_weights_only_warn(tmp_path, caplog):
    cfg = cse_cfg(m=FEATURE_SPEC)
    cfg.MODEL.WEIGHTS = str(tmp_path / "missing_model.pkl")
    with caplog.at_level(logging.WARNING):
        embedder = build_densepose_embedder(cfg)
    assert isinstance(embedder, Embedder)
    assert "missing_model.pkl" in caplog.text


def _no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_init_file_not_read_when_weights_hold_the_embedder(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    rng = np.random.RandomState(2)
    model = {
        "roi_heads.embedder.embedder_m.embeddings": rng.randn(5, 16).astype(np.float32),
        "roi_heads.embedder.embedder_m.features": rng.randn(7, 5).astype(np.float32),
    }
    path = tmp_path / "model_final.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": model}, f)
    url = "https://dl.fbaipublicfiles.com/densepose/data/cse/phi_m_5.pkl"
    cfg = cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=url))
    cfg.MODEL.WEIGHTS = str(path)
    embedder = build_densepose_embedder(cfg)  # no fetch of the URL
    np.testing.assert_array_equal(
        embedder.embedder_m.features.numpy(), model["roi_heads.embedder.embedder_m.features"]
    )
    # weights lacking one of the embedder's tensors: INIT_FILE is read (and fails offline)
    del model["roi_heads.embedder.embedder_m.features"]
    with open(path, "wb") as f:
        pickle.dump({"model": model}, f)
    with pytest.raises(ExternalFileError, match="phi_m_5.pkl"):
        build_densepose_embedder(cfg)


def test_init_file_read_when_weights_lack_the_embedder(tmp_path):
    features = np.random.RandomState(3).randn(7, 5)
    init = tmp_path / "phi_m_5.pkl"
    with open(init, "wb") as f:
        pickle.dump({"features": features}, f)
    weights = tmp_path / "imagenet.pkl"
    with open(weights, "wb") as f:
        pickle.dump({"model": {"backbone.stem.conv1.weight": np.zeros((1, 1))}}, f)
    cfg = cse_cfg(m=dict(FEATURE_SPEC, INIT_FILE=str(init)))
    cfg.MODEL.WEIGHTS = str(weights)
    embedder = build_densepose_embedder(cfg)
    np.testing.assert_allclose(embedder.embedder_m.features.numpy(), features.astype(np.float32))
