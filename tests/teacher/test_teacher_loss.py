"""The teacher's loss on hand-built sparse points (S = 4 crop outputs)."""

import math

import numpy as np
import pytest
import torch

from densepose_ext.teacher import TeacherOutput, crop_point_samples, teacher_loss
from densepose_ext.teacher.loss import TeacherLossWeights

S = 4


def test_pixel_centres_sample_exactly_one_pixel_and_borders_clamp():
    # box-frame (c + 0.5) * 256 / S is the centre of crop pixel c
    x = torch.tensor([32.0, 96.0, 64.0, 0.0, 255.9])
    y = torch.tensor([32.0, 224.0, 32.0, 0.0, 255.9])
    s = crop_point_samples(x, y, S)
    assert s.x_lo[:2].tolist() == [0, 1] and s.w_x[:2].tolist() == [0.0, 0.0]
    assert s.y_lo[:2].tolist() == [0, 3] and s.w_y[:2].tolist() == [0.0, 0.0]
    assert s.x_lo[2].item() == 0 and s.w_x[2].item() == pytest.approx(0.5)  # between 0 and 1
    assert (s.x_lo[3], s.w_x[3]) == (0, 0.0)  # left of the first centre: clamped
    assert s.x_lo[4].item() == S - 1 and s.x_hi[4].item() == S - 1


def _outputs():
    fine = torch.zeros(2, 25, S, S, requires_grad=True)
    u = torch.zeros(2, 25, S, S)
    v = torch.zeros(2, 25, S, S)
    u[1, 7, 3, 1] = 0.25  # crop 1, part 7, pixel (row 3, col 1)
    v[1, 7, 3, 1] = 0.75
    return TeacherOutput(fine, u.requires_grad_(), v.requires_grad_())


def test_loss_values_on_two_points():
    out = _outputs()
    points = dict(
        crop_indices=torch.tensor([1, 0]),
        x=torch.tensor([96.0, 160.0]),  # crop 1 pixel col 1; crop 0 col 2
        y=torch.tensor([224.0, 32.0]),
        i=torch.tensor([7, 3]),
        u=torch.tensor([0.75, 0.0]),
        v=torch.tensor([0.75, 0.05]),
    )
    losses = teacher_loss(out, **points, weights=TeacherLossWeights(part=2.0, uv=3.0, beta=0.1))
    assert losses["loss_I"].item() == pytest.approx(2.0 * math.log(25), rel=1e-6)
    # U: |0.25 - 0.75| = 0.5 -> 0.5 - beta / 2 = 0.45; |0 - 0| = 0 -> mean 0.225
    assert losses["loss_U"].item() == pytest.approx(3.0 * 0.225, rel=1e-6)
    # V: 0 and |0 - 0.05| = 0.05 < beta -> 0.5 * 0.05^2 / 0.1 = 0.0125 -> mean 0.00625
    assert losses["loss_V"].item() == pytest.approx(3.0 * 0.00625, rel=1e-5)
    sum(losses.values()).backward()
    # only the supervised pixels of the supervised parts get gradients
    grad_u = out.u.grad
    assert grad_u[1, 7, 3, 1] != 0 and grad_u.abs().sum() == grad_u[1, 7, 3, 1].abs()
    assert out.fine_segm.grad[0, :, 0, 2].abs().sum() > 0
    assert out.fine_segm.grad[0, :, 1:, :].abs().sum() == 0


def test_loss_falls_to_zero_part_error_for_confident_correct_logits():
    out = _outputs()
    with torch.no_grad():
        out.fine_segm[1, 7, 3, 1] = 30.0
    losses = teacher_loss(
        out,
        torch.tensor([1]),
        torch.tensor([96.0]),
        torch.tensor([224.0]),
        torch.tensor([7]),
        torch.tensor([0.25]),
        torch.tensor([0.75]),
    )
    assert losses["loss_I"].item() < 1e-10
    assert losses["loss_U"].item() == 0 and losses["loss_V"].item() == 0


def test_nearest_point_planes_and_the_prior_make_an_untrained_teacher_copy_neighbours():
    from densepose_ext.teacher import TeacherConfig, TeacherNet
    from densepose_ext.teacher.inputs import nearest_point_planes

    x, y = np.array([32.0, 224.0]), np.array([128.0, 128.0])
    planes = nearest_point_planes(
        x, y, np.array([3, 9]), np.array([0.1, 0.7]), np.array([0.2, 0.9]), S
    )
    assert planes[3, :, :2].all() and planes[9, :, 2:].all()  # left half part 3, right half 9
    assert planes[25, 0, 0] == np.float32(0.1) and planes[26, 0, 3] == np.float32(0.9)
    assert planes[0, 1, 0] == pytest.approx(np.hypot(0, 128 - 96) / 256)  # pixel (1, 0) centre
    model = TeacherNet(TeacherConfig(crop_size=8, width=4)).eval()
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    inputs = torch.zeros(1, 31, 8, 8)
    inputs[0, 4:] = torch.from_numpy(
        nearest_point_planes(x, y, np.array([3, 9]), np.array([0.1, 0.7]), np.array([0.2, 0.9]), 8)
    )
    with torch.no_grad():
        out = model(inputs)
    assert (out.fine_segm[0].argmax(dim=0)[:, :4] == 3).all()
    assert torch.allclose(out.u[0, 9, :, 4:], torch.tensor(0.7))
