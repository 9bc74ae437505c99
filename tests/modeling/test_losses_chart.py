"""Chart losses on hand-computed cases (S = 4 outputs, GT box = proposal box = (0, 0, 8, 8)).

Point (64, 64) in the box frame is image (2, 2) -> grid (1, 1) exactly; point (96, 32) is image
(3, 1) -> grid (1.5, 0.5): the mean of the 4 neighbours rows 0..1, columns 1..2.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from densepose_ext import add_densepose_config
from densepose_ext.modeling.losses import DensePoseChartLoss, DensePoseChartWithConfidenceLoss
from densepose_ext.modeling.losses.segm import resample_segm_to_proposals
from densepose_ext.modeling.losses.utils import pack_densepose_gt, sample_point_locations
from densepose_ext.structures import DensePoseChartPredictorOutputWithConfidences as Output
from densepose_ext.structures import DensePoseDataRelative, DensePoseList

S = 4


def _cfg(**head):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.MODEL.ROI_DENSEPOSE_HEAD.HEATMAP_SIZE = S
    for k, v in head.items():
        node, key = cfg.MODEL.ROI_DENSEPOSE_HEAD, k
        if "." in k:
            sub, key = k.split(".")
            node = getattr(node, sub)
        setattr(node, key, v)
    return cfg


def _data(with_segm=True) -> DensePoseDataRelative:
    ann = {
        "dp_x": [64.0, 96.0, 300.0],
        "dp_y": [64.0, 32.0, 10.0],
        "dp_I": [3, 0, 5],
        "dp_U": [0.2, 0.0, 0.9],
        "dp_V": [0.3, 0.0, 0.9],
    }
    if with_segm:
        segm = torch.zeros(256, 256)
        segm[:, :100] = 1
        ann["dp_masks"] = segm
    return DensePoseDataRelative(ann)


def _proposals(datas, boxes=((0.0, 0.0, 8.0, 8.0),)) -> Instances:
    inst = Instances((16, 16))
    inst.proposal_boxes = Boxes(torch.tensor(boxes))
    inst.gt_boxes = Boxes(torch.tensor([[0.0, 0.0, 8.0, 8.0]] * len(boxes)))
    inst.gt_densepose = DensePoseList(datas, inst.gt_boxes, (16, 16))
    return inst


def _outputs(n=1, k=2, **extra) -> Output:
    g = torch.Generator().manual_seed(0)

    def r(c):
        return torch.randn(n, c, S, S, generator=g).requires_grad_()

    fields = {name: r(25) for name in extra}
    return Output(coarse_segm=r(k), fine_segm=r(25), u=r(25), v=r(25), **fields)


def _check_grads(out: Output, losses: dict):
    total = sum(losses.values())
    total.backward()
    for name, t in out.fields().items():
        assert t.grad is not None and torch.isfinite(t.grad).all(), name


def test_point_sampling_is_bilinear_without_half_pixel_shift():
    packed = pack_densepose_gt([_proposals([_data()])], "chart")
    s = sample_point_locations(packed, S)
    assert s.valid.tolist() == [True, True, False]
    assert s.x_lo[:2].tolist() == [1, 1] and s.x_hi[:2].tolist() == [2, 2]
    assert s.y_lo[:2].tolist() == [1, 0] and s.w_x[:2].tolist() == [0.0, 0.5]
    assert s.w_y[:2].tolist() == [0.0, 0.5]


def test_chart_loss_values_and_gradients():
    cfg = _cfg(PART_WEIGHTS=0.7, POINT_REGRESSION_WEIGHTS=0.01, INDEX_WEIGHTS=5.0)
    out = _outputs()
    losses = DensePoseChartLoss(cfg)([_proposals([_data()])], out)
    assert set(losses) == {
        "loss_densepose_U",
        "loss_densepose_V",
        "loss_densepose_I",
        "loss_densepose_S",
    }
    f = out.fine_segm.detach()[0]
    logits = torch.stack([f[:, 1, 1], f[:, 0:2, 1:3].mean(dim=(1, 2))])
    expected_i = F.cross_entropy(logits, torch.tensor([3, 0])) * 0.7
    assert losses["loss_densepose_I"].item() == pytest.approx(expected_i.item(), rel=1e-5)
    du = out.u.detach()[0, 3, 1, 1] - 0.2
    dv = out.v.detach()[0, 3, 1, 1] - 0.3
    smooth = lambda d: 0.5 * d**2 if abs(d) < 1 else abs(d) - 0.5  # noqa: E731
    assert losses["loss_densepose_U"].item() == pytest.approx(smooth(du.item()) * 0.01, rel=1e-5)
    assert losses["loss_densepose_V"].item() == pytest.approx(smooth(dv.item()) * 0.01, rel=1e-5)
    target = torch.tensor([[1, 1, 0, 0]] * 4)  # mask columns < 100 of 256 -> output columns 0, 1
    expected_s = F.cross_entropy(out.coarse_segm.detach(), target[None]) * 5.0
    assert losses["loss_densepose_S"].item() == pytest.approx(expected_s.item(), rel=1e-5)
    _check_grads(out, losses)


def test_segm_resampling_pads_outside_the_gt_box():
    segm = torch.ones(1, 256, 256)
    gt = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    est = torch.tensor([[4.0, 0.0, 8.0, 8.0]])  # shifted right by half a box
    out = resample_segm_to_proposals(segm, gt, est, S)
    assert out[0, 0].tolist() == [1, 1, 1, 0]  # x' = 0, 0.5, 1, 1.5 in [-1, 1] coordinates


def test_missing_mask_zeroes_segm_loss_and_15_channels_use_labels():
    cfg = _cfg()
    out = _outputs()
    datas = [_data(with_segm=True), _data(with_segm=False)]
    losses = DensePoseChartLoss(cfg)(
        [_proposals(datas, ((0.0, 0, 8, 8), (0.0, 0, 8, 8)))], _outputs(2)
    )
    assert losses["loss_densepose_S"].item() == 0.0
    cfg = _cfg(NUM_COARSE_SEGM_CHANNELS=15, INDEX_WEIGHTS=1.0)
    out = _outputs(k=15)
    losses = DensePoseChartLoss(cfg)([_proposals([_data()])], out)
    target = torch.tensor([[1, 1, 0, 0]] * 4)
    expected = F.cross_entropy(out.coarse_segm.detach(), target[None])
    assert losses["loss_densepose_S"].item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("loss_cls", [DensePoseChartLoss, DensePoseChartWithConfidenceLoss])
def test_zero_annotations_give_zero_finite_losses(loss_cls):
    cfg = _cfg()
    out = _outputs(n=2)
    empty = Instances((16, 16))
    empty.proposal_boxes = Boxes(torch.zeros(0, 4))
    no_dp = Instances((16, 16))
    no_dp.proposal_boxes = Boxes(torch.tensor([[0.0, 0, 8, 8], [1.0, 1, 5, 5]]))
    no_dp.gt_boxes = no_dp.proposal_boxes.clone()
    for proposals in ([], [empty, no_dp]):
        losses = loss_cls(cfg)(proposals, out)
        assert set(losses) == {
            "loss_densepose_U",
            "loss_densepose_V",
            "loss_densepose_I",
            "loss_densepose_S",
        }
        assert all(v.item() == 0.0 and torch.isfinite(v) for v in losses.values())
    _check_grads(out, losses)
    assert all(float(t.grad.abs().sum()) == 0.0 for t in out.fields().values())


def test_points_outside_proposal_are_ignored():
    cfg = _cfg()
    data = DensePoseDataRelative(
        {"dp_x": [300.0], "dp_y": [10.0], "dp_I": [2], "dp_U": [0.5], "dp_V": [0.5]}
    )
    losses = DensePoseChartLoss(cfg)([_proposals([data])], _outputs())
    assert all(v.item() == 0.0 for v in losses.values())


def _softplus(x):
    return math.log1p(math.exp(x))


def test_iid_iso_confidence_loss():
    cfg = _cfg(
        **{
            "UV_CONFIDENCE.ENABLED": True,
            "UV_CONFIDENCE.TYPE": "iid_iso",
            "UV_CONFIDENCE.EPSILON": 0.01,
            "POINT_REGRESSION_WEIGHTS": 0.5,
        }
    )
    out = _outputs(sigma_2=True)
    losses = DensePoseChartWithConfidenceLoss(cfg)([_proposals([_data()])], out)
    assert "loss_densepose_UV" in losses and "loss_densepose_U" not in losses
    u, v = out.u.detach()[0, 3, 1, 1].item(), out.v.detach()[0, 3, 1, 1].item()
    s2 = _softplus(out.sigma_2.detach()[0, 3, 1, 1].item()) + 0.01
    d2 = (u - 0.2) ** 2 + (v - 0.3) ** 2
    expected = 0.5 * (math.log(2 * math.pi) + 2 * math.log(s2) + d2 / s2) * 0.5
    assert losses["loss_densepose_UV"].item() == pytest.approx(expected, rel=1e-5)
    _check_grads(out, losses)


def test_indep_aniso_confidence_loss():
    cfg = _cfg(
        **{
            "UV_CONFIDENCE.ENABLED": True,
            "UV_CONFIDENCE.TYPE": "indep_aniso",
            "UV_CONFIDENCE.EPSILON": 0.01,
            "POINT_REGRESSION_WEIGHTS": 1.0,
        }
    )
    out = _outputs(sigma_2=True, kappa_u=True, kappa_v=True)
    losses = DensePoseChartWithConfidenceLoss(cfg)([_proposals([_data()])], out)
    at = lambda t: t.detach()[0, 3, 1, 1].item()  # noqa: E731
    du, dv = at(out.u) - 0.2, at(out.v) - 0.3
    ku, kv = at(out.kappa_u), at(out.kappa_v)
    s2 = _softplus(at(out.sigma_2)) + 0.01
    denom = s2 * (s2 + ku**2 + kv**2)
    expected = 0.5 * (
        math.log(2 * math.pi)
        + math.log(denom)
        + (du**2 + dv**2) / s2
        - (du * ku + dv * kv) ** 2 / denom
    )
    assert losses["loss_densepose_UV"].item() == pytest.approx(expected, rel=1e-5)
    _check_grads(out, losses)
    losses = DensePoseChartWithConfidenceLoss(cfg)([], out)
    assert losses["loss_densepose_UV"].item() == 0.0


def test_coarse_segm_trained_by_masks():
    from detectron2.structures import BitMasks

    cfg = _cfg(COARSE_SEGM_TRAINED_BY_MASKS=True, INDEX_WEIGHTS=2.0)
    inst = _proposals([None])
    mask = torch.zeros(1, 16, 16, dtype=torch.bool)
    mask[0, :, :4] = True  # left half of the 8 x 8 box
    inst.gt_masks = BitMasks(mask)
    out = _outputs()
    losses = DensePoseChartLoss(cfg)([inst], out)
    target = torch.tensor([[1, 1, 0, 0]] * 4)
    expected = F.cross_entropy(out.coarse_segm.detach(), target[None]) * 2.0
    assert losses["loss_densepose_S"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses["loss_densepose_I"].item() == 0.0
