"""Horizontal-flip conversion of chart outputs (TTA), with the UV symmetry tables (conftest)."""

import pytest
import torch

from densepose_ext.converters import HFlipConverter
from densepose_ext.structures import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
)
from densepose_ext.structures.transform_data import POINT_LABEL_SYMMETRIES

S = 8


def _random_output(k=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DensePoseChartPredictorOutputWithConfidences(
        coarse_segm=torch.randn(2, k, S, S, generator=g),
        fine_segm=torch.randn(2, 25, S, S, generator=g),
        u=torch.rand(2, 25, S, S, generator=g),
        v=torch.rand(2, 25, S, S, generator=g),
        sigma_2=torch.randn(2, 25, S, S, generator=g),
        fine_segm_confidence=torch.rand(2, 1, S, S, generator=g),
    )


def test_mirrored_parts_and_uv_tables(transform_data):
    # part 3 at column 0 with (u, v) = (0.5, 0.25); everything else background
    fine = torch.zeros(1, 25, S, S)
    fine[0, 0] = 1.0
    fine[0, 0, :, 0] = 0.0
    fine[0, 3, :, 0] = 5.0
    u = torch.zeros(1, 25, S, S)
    v = torch.zeros(1, 25, S, S)
    u[0, 3, :, 0], v[0, 3, :, 0] = 0.5, 0.25
    out = DensePoseChartPredictorOutput(torch.zeros(1, 2, S, S), fine, u, v)
    flipped = HFlipConverter.convert(out, transform_data)
    labels = flipped.fine_segm.argmax(dim=1)[0]
    mirror = POINT_LABEL_SYMMETRIES[3]
    assert mirror == 4
    assert (labels[:, S - 1] == mirror).all() and (labels[:, : S - 1] == 0).all()
    tables = transform_data.uv_symmetries
    row, col = int(0.25 * 255), int(0.5 * 255)
    torch.testing.assert_close(
        flipped.u[0, mirror, :, S - 1], tables["U_transforms"][2, row, col].expand(S)
    )
    torch.testing.assert_close(
        flipped.v[0, mirror, :, S - 1], tables["V_transforms"][2, row, col].expand(S)
    )
    assert torch.equal(out.fine_segm, fine)  # input untouched


def test_double_flip_restores_segmentation(transform_data):
    out = _random_output()
    twice = HFlipConverter.convert(HFlipConverter.convert(out, transform_data), transform_data)
    assert torch.equal(twice.fine_segm, out.fine_segm) and torch.equal(
        twice.coarse_segm, out.coarse_segm
    )
    assert torch.equal(twice.sigma_2, out.sigma_2)  # flipped twice, never permuted
    assert torch.equal(twice.fine_segm_confidence, out.fine_segm_confidence)
    # UV goes through the quantised tables twice: back to the start up to table resolution
    err = (twice.u[:, 1:] - out.u[:, 1:]).abs()
    assert err.median() < 4 / 255, err.median()


def test_confidences_flipped_not_permuted(transform_data):
    out = _random_output()
    flipped = HFlipConverter.convert(out, transform_data)
    assert torch.equal(flipped.sigma_2, out.sigma_2.flip(3))
    assert flipped.kappa_u is None


def test_coarse_permuted_only_with_parts(transform_data):
    two = _random_output(k=2)
    assert torch.equal(
        HFlipConverter.convert(two, transform_data).coarse_segm, two.coarse_segm.flip(3)
    )
    legacy = _random_output(k=15)
    flipped = HFlipConverter.convert(legacy, transform_data).coarse_segm
    assert torch.equal(flipped[:, 2], legacy.coarse_segm.flip(3)[:, 3])  # coarse parts 2 <-> 3


def test_cse_output_not_supported(transform_data):
    cse = DensePoseEmbeddingPredictorOutput(torch.zeros(1, 16, S, S), torch.zeros(1, 2, S, S))
    with pytest.raises(KeyError):
        HFlipConverter.convert(cse, transform_data)


def test_deprecated_function_alias(transform_data):
    from densepose_ext.converters import hflip_chart_predictor_output

    out = _random_output()
    with pytest.warns(DeprecationWarning, match="HFlipConverter"):
        flipped = hflip_chart_predictor_output(out, transform_data)
    expected = HFlipConverter.convert(out, transform_data)
    assert torch.equal(flipped.u, expected.u) and torch.equal(flipped.fine_segm, expected.fine_segm)
