"""Bootstrap samplers on hand-built predictions: counts, coordinates, confidence ordering, masks."""

import pytest
import torch
from detectron2.structures import BitMasks, Boxes, Instances

from densepose_ext.data.bootstrap import (
    DENSEPOSE_SAMPLERS,
    DensePoseConfidenceBasedSampler,
    DensePoseCSEConfidenceBasedSampler,
    DensePoseCSEUniformSampler,
    DensePoseUniformSampler,
    MaskFromDensePoseSampler,
    PredictionToGroundTruthSampler,
)
from densepose_ext.data.bootstrap.chart_samplers import FINE_TO_COARSE_PART
from densepose_ext.data.bootstrap.point_selection import rank_within_groups, select_per_group
from densepose_ext.structures import (
    DensePoseChartPredictorOutputWithConfidences,
    DensePoseEmbeddingPredictorOutputWithConfidences,
)

S = 8  # predictor output side == integer box side, so box-size resizing is the identity


def _chart_output(labels: torch.Tensor, u=None, sigma_2=None, segm_conf=None):
    """One instance whose fine argmax is `labels` [S, S] (0 = background -> coarse bg)."""
    fine = torch.full((1, 25, S, S), -5.0)
    fine.scatter_(1, labels[None, None], 5.0)
    coarse = torch.stack([(labels == 0).float(), (labels > 0).float()])[None] * 4 - 2
    u = torch.rand(1, 25, S, S) if u is None else u
    return DensePoseChartPredictorOutputWithConfidences(
        coarse_segm=coarse,
        fine_segm=fine,
        u=u,
        v=torch.rand(1, 25, S, S),
        sigma_2=sigma_2,
        fine_segm_confidence=segm_conf,
        coarse_segm_confidence=segm_conf,
    )


def _instances(output, boxes=((4.0, 6.0, 4.0 + S, 6.0 + S),), image_size=(32, 40)):
    inst = Instances(image_size)
    inst.pred_boxes = Boxes(torch.tensor(boxes, dtype=torch.float32))
    inst.scores = torch.full((len(boxes),), 0.9)
    inst.pred_classes = torch.zeros(len(boxes), dtype=torch.int64)
    inst.pred_densepose = output
    return inst


def _labels():
    """Part 1 on 20 pixels, part 3 on 3 pixels, part 24 on 1 pixel, rest background."""
    labels = torch.zeros(S, S, dtype=torch.int64)
    labels.view(-1)[:20] = 1
    labels.view(-1)[30:33] = 3
    labels.view(-1)[50] = 24
    return labels


def test_rank_within_groups_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    groups = torch.randint(0, 5, (200,), generator=g)
    keys = torch.randint(0, 10, (200,), generator=g).float()  # many ties: broken by position
    ranks = rank_within_groups(groups, keys)
    for i in range(200):
        same = (groups == groups[i]).nonzero().flatten()
        expected = sum(1 for j in same.tolist() if (keys[j], j) < (keys[i], i))
        assert ranks[i] == expected


def test_select_per_group_counts_and_windows():
    groups = torch.tensor([0] * 20 + [1] * 3 + [2])
    keys = torch.arange(24, dtype=torch.float32)
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        chosen = select_per_group(groups, 5, keys=keys, generator=g)
        assert torch.bincount(groups[chosen], minlength=3).tolist() == [5, 3, 1]
        assert chosen[groups[chosen] == 0].max() < 10  # window = max(floor(20 / 2), 5) lowest keys
        high = select_per_group(groups, 5, keys=keys, descending=True, generator=g)
        assert high[groups[high] == 0].min() >= 10


def test_uniform_sampler_counts_coordinates_and_masks():
    labels = _labels()
    u = torch.rand(1, 25, S, S)
    u[0, 1] = 1.7  # out of range -> clamped to 1
    u[0, 3] = -0.3  # -> 0
    inst = _instances(_chart_output(labels, u=u))
    dp_list = DensePoseUniformSampler(count_per_class=5)(inst)
    (data,) = list(dp_list)
    assert torch.bincount(data.i, minlength=25)[[1, 3, 24]].tolist() == [5, 3, 1]
    assert len(data) == 9
    cols = (data.x / 256 * S - 0.5).round().long()
    rows = (data.y / 256 * S - 0.5).round().long()
    assert torch.allclose(data.x, (cols.float() + 0.5) / S * 256)
    assert torch.equal(labels[rows, cols], data.i)  # every point lies on a pixel of its part
    assert torch.all(data.u[data.i == 1] == 1.0) and torch.all(data.u[data.i == 3] == 0.0)
    expected_mask = FINE_TO_COARSE_PART[
        torch.nn.functional.interpolate(labels[None, None].float(), (256, 256), mode="nearest")[
            0, 0
        ].long()
    ]
    assert data.segm.shape == (256, 256)
    assert (
        data.segm == expected_mask.float()
    ).float().mean() > 0.95  # bilinear vs nearest at borders
    assert set(torch.unique(data.segm).tolist()) <= {0.0, 1.0, 2.0, 14.0}
    assert torch.equal(dp_list.boxes_xyxy_abs, inst.pred_boxes.tensor)


def test_uniform_sampler_is_uniform_over_part_pixels():
    labels = _labels()
    counts = torch.zeros(S * S)
    sampler = DensePoseUniformSampler(count_per_class=5, generator=torch.Generator().manual_seed(0))
    for _ in range(400):
        data = sampler(_instances(_chart_output(labels)))[0]
        flat = ((data.y / 256 * S).long() * S + (data.x / 256 * S).long())[data.i == 1]
        counts.index_add_(0, flat, torch.ones(len(flat)))
    part1 = counts[:20]
    # each of the 20 pixels is drawn with p = 5/20 per round: mean 100, binomial std ~8.7
    assert part1.sum() == 2000 and (part1 - 100).abs().max() < 5 * 8.7


@pytest.mark.parametrize("channel", ["sigma_2", "fine_segm_confidence", "coarse_segm_confidence"])
def test_chart_confidence_sampler_takes_lowest_values(channel):
    labels = _labels()
    values = (
        torch.arange(S * S, dtype=torch.float32).flip(0).reshape(S, S)
    )  # pixel 19 has the lowest
    per_part = values[None, None].expand(1, 25, S, S).contiguous()
    kwargs = {"sigma_2": per_part} if channel == "sigma_2" else {"segm_conf": values[None, None]}
    inst = _instances(_chart_output(labels, **kwargs))
    sampler = DensePoseConfidenceBasedSampler(
        channel, count_per_class=5, generator=torch.Generator().manual_seed(1)
    )
    seen = set()
    for _ in range(50):
        data = sampler(inst)[0]
        flat = (data.y / 256 * S).long() * S + (data.x / 256 * S).long()
        part1 = flat[data.i == 1]
        assert (
            len(part1) == 5 and part1.min() >= 10
        )  # the 10 lowest values of part 1 are pixels 10..19
        assert torch.bincount(data.i, minlength=25)[[3, 24]].tolist() == [3, 1]
        seen.update(part1.tolist())
    assert seen == set(range(10, 20))  # uniform inside the search window


def test_confidence_sampler_without_the_channel_fails_clearly():
    inst = _instances(_chart_output(_labels()))
    with pytest.raises(ValueError, match="sigma_2"):
        DensePoseConfidenceBasedSampler("sigma_2")(inst)


def test_sampler_handles_empty_and_background_only_detections():
    inst = _instances(_chart_output(torch.zeros(S, S, dtype=torch.int64)))
    data = DensePoseUniformSampler()(inst)[0]
    assert len(data) == 0 and data.segm.sum() == 0
    empty = _instances(_chart_output(_labels()))[torch.zeros(1, dtype=torch.bool)]
    assert len(DensePoseUniformSampler()(empty)) == 0


class _Embedder:
    """Mesh "m": vertex embeddings = one-hot rows (V = 4, D = 4)."""

    def __call__(self, mesh_name):
        assert mesh_name == "m"
        return torch.eye(4)


def _cse_instances(confidence=None):
    mask = torch.zeros(S, S, dtype=torch.bool)
    mask.view(-1)[:24] = True
    vertex_of_pixel = torch.arange(S * S).reshape(S, S) % 4
    embedding = torch.nn.functional.one_hot(vertex_of_pixel, 4).permute(2, 0, 1).float()[None] * 3
    coarse = torch.stack([(~mask).float(), mask.float()])[None] * 4 - 2
    out = DensePoseEmbeddingPredictorOutputWithConfidences(
        embedding=embedding, coarse_segm=coarse, coarse_segm_confidence=confidence
    )
    inst = _instances(out)
    inst.pred_classes = torch.tensor([3])
    inst.dataset_classes = torch.tensor([0])
    return inst, vertex_of_pixel, mask


def test_cse_uniform_sampler_assigns_closest_vertices():
    inst, vertex_of_pixel, mask = _cse_instances()
    sampler = DensePoseCSEUniformSampler(
        _Embedder(), {"0": "m"}, count_per_class=6, use_gt_categories=True
    )
    data = sampler(inst)[0]
    cols = (data.x / 256 * S).long()
    rows = (data.y / 256 * S).long()
    assert len(data) == 6 and mask[rows, cols].all()
    assert torch.equal(data.vertex_ids, vertex_of_pixel[rows, cols])
    assert data.mesh_name == "m" and data.segm.shape == (256, 256)
    with pytest.raises(KeyError, match="class 3"):  # predicted class 3 has no mesh
        DensePoseCSEUniformSampler(_Embedder(), {"0": "m"})(inst)


def test_cse_confidence_sampler_takes_highest_values():
    confidence = torch.arange(S * S, dtype=torch.float32).reshape(
        1, 1, S, S
    )  # pixel 23: highest in mask
    inst, _, _ = _cse_instances(confidence)
    sampler = DensePoseCSEConfidenceBasedSampler(
        _Embedder(),
        {0: "m"},
        "coarse_segm_confidence",
        count_per_class=4,
        use_gt_categories=True,
        generator=torch.Generator().manual_seed(0),
    )
    for _ in range(20):
        data = sampler(inst)[0]
        flat = (data.y / 256 * S).long() * S + (data.x / 256 * S).long()
        assert len(flat) == 4 and flat.min() >= 12  # window: the 12 highest of 24 mask pixels


def test_cse_sampler_requires_an_embedder():
    with pytest.raises(ValueError, match="embedder"):
        DensePoseCSEUniformSampler(None, {0: "m"})


def test_prediction_to_ground_truth_sampler_renames_fields_and_adds_masks():
    inst = _instances(_chart_output(_labels()))
    sampler = PredictionToGroundTruthSampler()
    sampler.register_sampler("pred_densepose", "gt_densepose", DensePoseUniformSampler(3))
    sampler.register_sampler("pred_densepose", "gt_masks", MaskFromDensePoseSampler())
    (out,) = sampler([{"image": torch.zeros(3, 32, 40), "instances": inst}])
    fields = set(out["instances"].get_fields())
    assert fields == {"gt_boxes", "gt_classes", "gt_densepose", "gt_masks"}
    assert out["dataset"] == ""
    masks = out["instances"].gt_masks
    assert isinstance(masks, BitMasks) and masks.tensor.shape == (1, 32, 40)
    labels = _labels()
    assert (
        torch.equal(masks.tensor[0, 6 : 6 + S, 4 : 4 + S], labels > 0)
        and masks.tensor.sum() == (labels > 0).sum()
    )


def test_registry_has_every_original_sampler_name():
    assert set(DENSEPOSE_SAMPLERS) == {
        "densepose_uniform",
        "densepose_UV_confidence",
        "densepose_fine_segm_confidence",
        "densepose_coarse_segm_confidence",
        "densepose_cse_uniform",
        "densepose_cse_coarse_segm_confidence",
    }
