"""CSE predictors: registered names, checkpoint keys, output classes and shapes."""

import torch
from torch.nn import functional as F

from densepose_ext.config import get_densepose_cfg
from densepose_ext.modeling.registry import DENSEPOSE_PREDICTOR_REGISTRY, build_densepose_predictor
from densepose_ext.structures import (
    DensePoseEmbeddingPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
)


def predictor_cfg(name: str, segm_confidence: bool = False):
    cfg = get_densepose_cfg()
    cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME = name
    cfg.MODEL.ROI_DENSEPOSE_HEAD.SEGM_CONFIDENCE.ENABLED = segm_confidence
    return cfg


def test_registered():
    for name in ("DensePoseEmbeddingPredictor", "DensePoseEmbeddingWithConfidencePredictor"):
        assert DENSEPOSE_PREDICTOR_REGISTRY.get(name) is not None


def test_keys_and_shapes():
    predictor = build_densepose_predictor(predictor_cfg("DensePoseEmbeddingPredictor"), 512)
    keys = [(k, tuple(v.shape)) for k, v in predictor.state_dict().items()]
    assert keys == [
        ("coarse_segm_lowres.weight", (512, 2, 4, 4)),
        ("coarse_segm_lowres.bias", (2,)),
        ("embed_lowres.weight", (512, 16, 4, 4)),
        ("embed_lowres.bias", (16,)),
    ]
    out = predictor(torch.randn(3, 512, 28, 28))
    assert type(out) is DensePoseEmbeddingPredictorOutput
    assert out.embedding.shape == (3, 16, 112, 112) and out.coarse_segm.shape == (3, 2, 112, 112)


def test_confidence_predictor_without_confidence():
    predictor = build_densepose_predictor(
        predictor_cfg("DensePoseEmbeddingWithConfidencePredictor"), 8
    )
    assert len(predictor.state_dict()) == 4
    out = predictor(torch.randn(2, 8, 7, 7))
    assert isinstance(out, DensePoseEmbeddingPredictorOutputWithConfidences)
    assert out.coarse_segm_confidence is None and out.coarse_segm.shape == (2, 2, 28, 28)


def test_confidence_predictor_multiplies_coarse_segm():
    cfg = predictor_cfg("DensePoseEmbeddingWithConfidencePredictor", segm_confidence=True)
    predictor = build_densepose_predictor(cfg, 8)
    assert list(predictor.state_dict())[-2:] == [
        "coarse_segm_confidence_lowres.weight",
        "coarse_segm_confidence_lowres.bias",
    ]
    assert predictor.coarse_segm_confidence_lowres.weight.shape == (8, 1, 4, 4)
    x = torch.randn(2, 8, 7, 7)
    out = predictor(x)
    up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)  # noqa: E731
    confidence = F.softplus(up(predictor.coarse_segm_confidence_lowres(x))) + 0.01
    torch.testing.assert_close(out.coarse_segm_confidence, confidence)
    torch.testing.assert_close(out.coarse_segm, up(predictor.coarse_segm_lowres(x)) * confidence)
    torch.testing.assert_close(out.embedding, up(predictor.embed_lowres(x)))
