"""INPAINTED_POINT_WEIGHT and MAX_POINTS_PER_ROI in the chart losses (docs/teacher.md).

Defaults leave the losses bit-identical; a weight w on inpainted points equals repeating them
w times (w = 2) or dropping them (w = 0); the per-ROI cap keeps that many points.
"""

import pytest
import torch
from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from densepose_ext import add_densepose_config
from densepose_ext.modeling.losses import DensePoseChartLoss, DensePoseChartWithConfidenceLoss
from densepose_ext.modeling.losses.utils import pack_densepose_gt
from densepose_ext.structures import DensePoseChartPredictorOutputWithConfidences as Output
from densepose_ext.structures import DensePoseDataRelative, DensePoseList

S = 8
N_ORIG, N_NEW = 5, 7


def _cfg(**head):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.MODEL.ROI_DENSEPOSE_HEAD.HEATMAP_SIZE = S
    for key, value in head.items():
        node = cfg.MODEL.ROI_DENSEPOSE_HEAD
        if "." in key:
            sub, key = key.split(".")
            node = getattr(node, sub)
        setattr(node, key, value)
    return cfg


def _points(n: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "dp_x": (torch.rand(n, generator=g) * 250).tolist(),
        "dp_y": (torch.rand(n, generator=g) * 250).tolist(),
        "dp_I": torch.randint(1, 25, (n,), generator=g).tolist(),
        "dp_U": torch.rand(n, generator=g).tolist(),
        "dp_V": torch.rand(n, generator=g).tolist(),
    }


def _ann(repeat_new: int = 1, flags: bool = True, new: bool = True) -> dict:
    orig, extra = _points(N_ORIG, 0), _points(N_NEW, 1)
    ann = {k: list(orig[k]) + (list(extra[k]) * repeat_new if new else []) for k in orig}
    if flags:
        n_new = N_NEW * repeat_new if new else 0
        ann["dp_inpainted"] = [0] * N_ORIG + [1] * n_new
    segm = torch.zeros(256, 256)
    segm[20:200, 30:220] = 1
    ann["dp_masks"] = segm
    return ann


def _proposals(ann: dict) -> list:
    inst = Instances((16, 16))
    inst.proposal_boxes = Boxes(torch.tensor([[0.0, 0.0, 8.0, 8.0], [1.0, 0.0, 8.0, 7.0]]))
    inst.gt_boxes = Boxes(torch.tensor([[0.0, 0.0, 8.0, 8.0]] * 2))
    data = DensePoseDataRelative(ann)
    inst.gt_densepose = DensePoseList([data, data], inst.gt_boxes, (16, 16))
    return [inst]


def _outputs() -> Output:
    g = torch.Generator().manual_seed(3)
    fields = {n: torch.randn(2, 25, S, S, generator=g) for n in ("fine_segm", "u", "v")}
    fields["sigma_2"] = torch.randn(2, 25, S, S, generator=g)
    fields["kappa_u"] = torch.randn(2, 25, S, S, generator=g)
    fields["kappa_v"] = torch.randn(2, 25, S, S, generator=g)
    return Output(coarse_segm=torch.randn(2, 2, S, S, generator=g), **fields)


LOSSES = [
    (DensePoseChartLoss, {}),
    (DensePoseChartWithConfidenceLoss, {"UV_CONFIDENCE.ENABLED": True}),
    (
        DensePoseChartWithConfidenceLoss,
        {"UV_CONFIDENCE.ENABLED": True, "UV_CONFIDENCE.TYPE": "indep_aniso"},
    ),
]


@pytest.mark.parametrize("loss_cls, head", LOSSES)
def test_defaults_are_bit_identical_with_or_without_flags(loss_cls, head):
    cfg = _cfg(**head)
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.INPAINTED_POINT_WEIGHT == 1.0
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.MAX_POINTS_PER_ROI == 0
    out = _outputs()
    with_flags = loss_cls(cfg)(_proposals(_ann(flags=True)), out)
    without = loss_cls(cfg)(_proposals(_ann(flags=False)), out)
    assert with_flags.keys() == without.keys()
    for key in without:
        assert torch.equal(with_flags[key], without[key]), key


@pytest.mark.parametrize("loss_cls, head", LOSSES)
def test_weight_two_equals_repeated_points_and_zero_drops_them(loss_cls, head):
    out = _outputs()
    weighted = loss_cls(_cfg(INPAINTED_POINT_WEIGHT=2.0, **head))(_proposals(_ann()), out)
    repeated = loss_cls(_cfg(**head))(_proposals(_ann(repeat_new=2, flags=False)), out)
    dropped = loss_cls(_cfg(INPAINTED_POINT_WEIGHT=0.0, **head))(_proposals(_ann()), out)
    original = loss_cls(_cfg(**head))(_proposals(_ann(new=False, flags=False)), out)
    for key in repeated:
        assert weighted[key].item() == pytest.approx(repeated[key].item(), rel=1e-5), key
        assert dropped[key].item() == pytest.approx(original[key].item(), rel=1e-5), key
    assert weighted["loss_densepose_I"].item() != pytest.approx(
        original["loss_densepose_I"].item(), rel=1e-3
    )


def test_max_points_per_roi_keeps_a_random_subset_per_roi():
    proposals = _proposals(_ann())
    full = pack_densepose_gt(proposals, "chart")
    assert full.x_gt.numel() == 2 * (N_ORIG + N_NEW)
    assert full.point_inpainted.tolist() == ([False] * N_ORIG + [True] * N_NEW) * 2
    torch.manual_seed(0)
    capped = pack_densepose_gt(proposals, "chart", max_points_per_roi=4)
    assert capped.x_gt.numel() == 8 and capped.point_bbox_indices.tolist() == [0] * 4 + [1] * 4
    for roi in range(2):
        xs = capped.x_gt[capped.point_bbox_indices == roi]
        keep = torch.isin(full.x_gt[:12], xs)
        assert keep.sum() == 4  # a subset of the ROI's own points, flags alongside
        assert capped.point_inpainted[4 * roi : 4 * roi + 4].tolist() == (
            full.point_inpainted[:12][keep].tolist()
        )
    large = pack_densepose_gt(proposals, "chart", max_points_per_roi=100)
    assert torch.equal(large.x_gt, full.x_gt)
    loss = DensePoseChartLoss(_cfg(MAX_POINTS_PER_ROI=3))(proposals, _outputs())
    assert all(torch.isfinite(v) for v in loss.values())
