"""Chart outputs -> per-box results, masks and IUV images, on hand-built tensors."""

import pytest
import torch
from detectron2.structures import Boxes

from densepose_ext.converters import (
    ToChartResultConverter,
    ToChartResultConverterWithConfidences,
    ToMaskConverter,
    chart_outputs_to_results,
    int_boxes_xywh,
    make_iuv_image,
)
from densepose_ext.converters.resample import channel_argmax, resize_maps, sample_channel_at
from densepose_ext.structures import (
    DensePoseChartPredictorOutput,
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutput,
)

S = 4


def _output(n=1, parts=None, fg_cols=2, with_conf=False):
    """coarse fg in the first `fg_cols` columns; fine argmax = `parts` [S, S]; u = c/100,
    v = c/50."""
    parts = torch.arange(S * S).reshape(S, S) % 24 + 1 if parts is None else parts
    coarse = torch.zeros(n, 2, S, S)
    coarse[:, 1, :, :fg_cols] = 5.0
    fine = torch.zeros(n, 25, S, S)
    fine.scatter_(1, parts.expand(n, 1, S, S), 10.0)
    channel = torch.arange(25, dtype=torch.float32).view(1, 25, 1, 1)
    u = (channel / 100).expand(n, 25, S, S).clone()
    v = (channel / 50).expand(n, 25, S, S).clone()
    if not with_conf:
        return DensePoseChartPredictorOutput(coarse, fine, u, v)
    return DensePoseChartPredictorOutputWithConfidences(
        coarse,
        fine,
        u,
        v,
        sigma_2=(channel * 2).expand(n, 25, S, S).clone(),
        fine_segm_confidence=torch.full((n, 1, S, S), 0.7),
    )


def test_int_boxes_truncate_each_component():
    boxes = torch.tensor(
        [[148.6, 0.0, 224.0, 118.3], [60.7, 100.2, 81.5, 122.9], [5.0, 5.0, 5.5, 5.2]]
    )
    assert int_boxes_xywh(boxes).tolist() == [[148, 0, 75, 118], [60, 100, 20, 22], [5, 5, 1, 1]]


def test_labels_gated_by_coarse_and_uv_of_label_channel():
    parts = torch.tensor([[3, 5, 7, 9]] * S)
    (result,) = chart_outputs_to_results(
        _output(parts=parts), Boxes(torch.tensor([[10.0, 20.0, 14.0, 24.0]])), False
    )
    assert result.labels.dtype == torch.int64 and result.labels.shape == (S, S)
    expected = torch.tensor([[3, 5, 0, 0]] * S)  # box size == S: resize is the identity
    assert torch.equal(result.labels, expected)
    assert result.uv.dtype == torch.float32 and result.uv.shape == (2, S, S)
    torch.testing.assert_close(result.uv[0], expected / 100)
    torch.testing.assert_close(result.uv[1], expected / 50)


def test_uv_resized_to_box_and_background_zero():
    out = _output(parts=torch.full((S, S), 7), fg_cols=S)
    (result,) = chart_outputs_to_results(out, torch.tensor([[0.0, 0.0, 13.9, 9.0]]))
    assert result.labels.shape == (9, 13) and (result.labels == 7).all()
    torch.testing.assert_close(
        result.uv[0], torch.full((9, 13), 0.07)
    )  # constant map stays constant
    out.coarse_segm[:, 1] = -5.0  # nothing is foreground
    (result,) = chart_outputs_to_results(out, torch.tensor([[0.0, 0.0, 13.9, 9.0]]))
    assert (result.labels == 0).all() and (result.uv == 0).all()


def test_sample_channel_at_equals_full_resize_then_gather():
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(2, 25, 56, 56, generator=g) * 10
    for h, w in [(118, 75), (22, 20), (1, 1), (300, 7)]:
        channels = torch.randint(0, 25, (2, h, w), generator=g)
        full = resize_maps(maps, h, w).gather(1, channels[:, None])[:, 0]
        expected = torch.where(channels > 0, full, torch.zeros(()))
        torch.testing.assert_close(
            sample_channel_at(maps, channels), expected, rtol=1e-5, atol=2e-5
        )


def test_confidences_per_part_and_single_channel():
    out = _output(parts=torch.full((S, S), 4), fg_cols=2, with_conf=True)
    (result,) = chart_outputs_to_results(out, torch.tensor([[0.0, 0.0, 4.0, 4.0]]))
    expected_sigma = torch.tensor([[8.0, 8.0, 0.0, 0.0]] * S)  # channel 4 * 2 on fg, 0 on bg
    torch.testing.assert_close(result.sigma_2, expected_sigma)
    torch.testing.assert_close(result.fine_segm_confidence, torch.full((S, S), 0.7))  # whole box
    assert (
        result.sigma_1 is None and result.kappa_u is None and result.coarse_segm_confidence is None
    )


def test_batched_boxes_keep_order_and_sizes():
    out = _output(n=3)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 8.0], [5.0, 5.0, 9.0, 7.0], [1.0, 1.0, 11.0, 9.0]])
    results = chart_outputs_to_results(out, boxes)
    assert [tuple(r.labels.shape) for r in results] == [(8, 10), (2, 4), (8, 10)]
    singles = [chart_outputs_to_results(out[i], boxes[i : i + 1])[0] for i in range(3)]
    for batched, single in zip(results, singles):
        assert torch.equal(batched.labels, single.labels)
        torch.testing.assert_close(batched.uv, single.uv)


def test_deprecated_single_instance_converters():
    out = _output(n=1, with_conf=True)
    box = torch.tensor([[0.0, 0.0, 10.0, 8.0]])
    (expected,) = chart_outputs_to_results(out, box)
    with pytest.warns(DeprecationWarning, match="chart_outputs_to_results"):
        plain = ToChartResultConverter.convert(out, Boxes(box))
    with pytest.warns(DeprecationWarning):
        with_confidences = ToChartResultConverterWithConfidences.convert(out, box)
    assert type(plain).__name__ == "DensePoseChartResult"
    assert torch.equal(plain.labels, expected.labels) and torch.equal(plain.uv, expected.uv)
    assert torch.equal(with_confidences.sigma_2, expected.sigma_2)
    with pytest.raises(ValueError, match="exactly one"), pytest.warns(DeprecationWarning):
        ToChartResultConverter.convert(_output(n=2), box.repeat(2, 1))


def test_zero_instances():
    out = _output(n=1)[torch.zeros(1, dtype=torch.bool)]
    assert chart_outputs_to_results(out, torch.zeros(0, 4)) == []
    masks = ToMaskConverter.convert(out, Boxes(torch.zeros(0, 4)), (10, 12))
    assert masks.tensor.shape == (0, 10, 12)
    iuv, inds = make_iuv_image([], torch.zeros(0, 4), torch.zeros(0), (10, 12))
    assert (
        iuv.shape == (10, 12, 3) and iuv.dtype == torch.uint8 and not iuv.any() and not inds.any()
    )


def test_cse_outputs_are_rejected_by_chart_converter():
    cse = DensePoseEmbeddingPredictorOutput(
        embedding=torch.zeros(1, 16, S, S), coarse_segm=torch.zeros(1, 2, S, S)
    )
    with pytest.raises(KeyError):
        chart_outputs_to_results(cse, torch.tensor([[0.0, 0.0, 4.0, 4.0]]))


def test_masks_paste_and_clip_at_image_border():
    out = _output(n=2, fg_cols=2)
    boxes = Boxes(
        torch.tensor([[8.0, 0.0, 12.0, 4.0], [-2.0, 7.0, 2.0, 11.0]])
    )  # both cross the border
    masks = ToMaskConverter.convert(out, boxes, (9, 10)).tensor
    assert masks.shape == (2, 9, 10) and masks.dtype == torch.bool
    expected0 = torch.zeros(9, 10, dtype=torch.bool)
    expected0[0:4, 8:10] = True  # fg = first two box columns, fully inside
    assert torch.equal(masks[0], expected0)
    expected1 = torch.zeros(9, 10, dtype=torch.bool)  # box x=-2: fg columns -2, -1 are cut off
    assert torch.equal(masks[1], expected1)


def test_masks_from_cse_coarse_segm():
    coarse = torch.zeros(1, 2, S, S)
    coarse[0, 1, :2] = 1.0  # top half foreground
    cse = DensePoseEmbeddingPredictorOutput(embedding=torch.zeros(1, 16, S, S), coarse_segm=coarse)
    masks = ToMaskConverter.convert(cse, torch.tensor([[1.0, 1.0, 5.0, 5.0]]), (6, 6)).tensor
    expected = torch.zeros(6, 6, dtype=torch.bool)
    expected[1:3, 1:5] = True
    assert torch.equal(masks[0], expected)


def test_iuv_image_composes_by_score():
    low = _output(parts=torch.full((S, S), 2), fg_cols=S)
    high = _output(parts=torch.full((S, S), 9), fg_cols=2)
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0], [2.0, 0.0, 6.0, 4.0]])
    results = chart_outputs_to_results(DensePoseChartPredictorOutput.cat([low, high]), boxes)
    iuv, inds = make_iuv_image(results, boxes, torch.tensor([0.3, 0.9]), (5, 7))
    assert iuv.shape == (5, 7, 3) and iuv.dtype == torch.uint8
    # instance 2 (score 0.9, fg at columns 2-3) lies over instance 1 (columns 0-3)
    assert iuv[0, :, 0].tolist() == [2, 2, 9, 9, 0, 0, 0]
    assert inds[0].tolist() == [1, 1, 2, 2, 0, 0, 0]
    assert iuv[0, 2, 1].item() == int(0.09 * 255) and iuv[0, 2, 2].item() == int(0.18 * 255)
    assert (iuv[4] == 0).all() and (inds[4] == 0).all()
    # with the scores swapped, instance 1 is on top everywhere it has foreground
    iuv2, inds2 = make_iuv_image(results, boxes, torch.tensor([0.9, 0.3]), (5, 7))
    assert iuv2[0, :, 0].tolist() == [2, 2, 2, 2, 0, 0, 0] and inds2[0].tolist() == [
        1,
        1,
        1,
        1,
        0,
        0,
        0,
    ]


def test_channel_argmax_matches_torch_including_ties():
    g = torch.Generator().manual_seed(0)
    maps = torch.randint(0, 3, (2, 25, 7, 9), generator=g).float()  # many ties
    assert torch.equal(channel_argmax(maps), maps.argmax(dim=1))
    maps = torch.randn(1, 15, 30, 20, generator=g)
    assert torch.equal(channel_argmax(maps), maps.argmax(dim=1))
