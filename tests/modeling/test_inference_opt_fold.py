"""Batch-norm folding folds only a batch norm that the data flow shows applied to a conv's output
(and to nothing else): a pre-activation block, a norm shared with a second use, a conv output also
used elsewhere and a batch norm in training mode are left as they are, with the outputs
unchanged."""

import copy

import pytest
import torch
from detectron2.layers import Conv2d, FrozenBatchNorm2d
from detectron2.modeling import Backbone, ShapeSpec
from torch import nn
from torch.nn import functional as F

from densepose_ext import optimize_for_inference
from densepose_ext.modeling.inference_opt import fold_batch_norms

NORMS = (FrozenBatchNorm2d, nn.BatchNorm2d)


def _random_bn(channels: int, seed: int) -> nn.BatchNorm2d:
    g = torch.Generator().manual_seed(seed)
    bn = nn.BatchNorm2d(channels)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(channels, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(channels, generator=g))
        bn.running_mean.copy_(torch.randn(channels, generator=g))
        bn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
    return bn.eval()


class PreActivationBlock(nn.Module):
    """bn -> relu -> conv (He et al. 2016): the names pair conv1 with bn1, the data flow does not
    (bn1 normalises the input); conv1's output goes straight into bn2, a pair in truth."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.bn1 = _random_bn(channels, 1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = _random_bn(channels, 2)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        return x + self.conv2(F.relu(self.bn2(out)))


class ConvBnBlock(nn.Module):
    """conv1 -> bn1 (foldable); conv2's output feeds bn2 and the shortcut (not foldable)."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = _random_bn(channels, 3)
        self.conv2 = nn.Conv2d(channels, channels, 1)
        self.bn2 = _random_bn(channels, 4)

    def forward(self, x):
        y = self.conv2(F.relu(self.bn1(self.conv1(x))))
        return self.bn2(y) + y


class TwiceNormed(nn.Module):
    """The same batch norm after two convs: folding it into one would break the other."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.conv_a = nn.Conv2d(channels, channels, 1)
        self.conv_b = nn.Conv2d(channels, channels, 1)
        self.norm = _random_bn(channels, 5)

    def forward(self, x):
        return self.norm(self.conv_a(x)) + self.norm(self.conv_b(x))


class PreActivationSequential(nn.Sequential):
    """An `nn.Sequential` whose forward runs its layers in reverse: the order is not the flow."""

    def forward(self, x):
        for layer in reversed(self):
            x = layer(x)
        return x


class UntraceableBlock(nn.Module):
    """Control flow on the input: the data flow cannot be read, so nothing is folded."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1)
        self.bn1 = _random_bn(channels, 6)

    def forward(self, x):
        if x.sum() > 0:
            return self.bn1(self.conv1(x))
        return self.conv1(self.bn1(x))


class CustomBackbone(Backbone):
    """A user's backbone mixing foldable and unfoldable patterns."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), _random_bn(8, 7), nn.ReLU())
        self.pre = PreActivationBlock()
        self.block = ConvBnBlock()
        self.twice = TwiceNormed()
        self.reversed = PreActivationSequential(nn.Conv2d(8, 8, 1), _random_bn(8, 8))
        self.untraceable = UntraceableBlock()
        self.head = Conv2d(8, 8, 3, padding=1, norm=_random_bn(8, 9), activation=nn.ReLU())

    def forward(self, x):
        x = self.stem(x)
        x = self.pre(x)
        x = self.block(x)
        x = self.twice(x)
        x = self.reversed(x)
        x = self.untraceable(x)
        return {"res": self.head(x)}

    def output_shape(self):
        return {"res": ShapeSpec(channels=8, stride=1)}


def _folded_outputs(model: nn.Module, x: torch.Tensor):
    with torch.no_grad():
        expected = model(x)
        folded = fold_batch_norms(model)
        actual = model(x)
    return folded, expected, actual


def test_pre_activation_block_folds_by_data_flow():
    model = PreActivationBlock().eval()
    folded, expected, actual = _folded_outputs(model, torch.randn(2, 8, 6, 6))
    assert folded == 1  # bn2 into conv1; bn1 stays (it precedes every conv)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert isinstance(model.bn1, nn.BatchNorm2d) and isinstance(model.bn2, nn.Identity)


def test_pre_activation_stack_is_not_folded():
    """bn -> conv in a Sequential: a norm before a conv is never folded into it."""
    model = nn.Sequential(_random_bn(8, 13), nn.Conv2d(8, 8, 3, padding=1)).eval()
    folded, expected, actual = _folded_outputs(model, torch.randn(2, 8, 6, 6))
    assert folded == 0
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


def test_custom_backbone_folds_only_proven_pairs():
    model = CustomBackbone().eval()
    x = torch.randn(2, 3, 10, 12)
    folded, expected, actual = _folded_outputs(model, x)
    # stem Sequential, pre.conv1 -> bn2, block.conv1 -> bn1, head Conv2d(norm=...); the rest stays
    assert folded == 4
    torch.testing.assert_close(actual["res"], expected["res"], rtol=1e-5, atol=1e-5)
    assert isinstance(model.stem[1], nn.Identity) and model.head.norm is None
    assert isinstance(model.block.bn1, nn.Identity) and isinstance(model.pre.bn2, nn.Identity)
    kept = [model.pre.bn1, model.block.bn2, model.twice.norm]
    kept += [model.reversed[1], model.untraceable.bn1]
    assert all(isinstance(norm, nn.BatchNorm2d) for norm in kept)


def test_custom_backbone_through_optimize_for_inference():
    """The default fast path (`Predictor`, apply_net) on a user's backbone: outputs unchanged."""
    model = CustomBackbone().eval()
    x = torch.randn(1, 3, 9, 7)
    with torch.no_grad():
        expected = model(x)["res"]
        actual = optimize_for_inference(copy.deepcopy(model))(x)["res"]
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_batch_norm_in_training_mode_is_not_folded():
    model = nn.Sequential(
        Conv2d(3, 8, 1, norm=_random_bn(8, 10)), nn.Conv2d(8, 8, 1), _random_bn(8, 11)
    ).train()
    assert fold_batch_norms(model) == 0
    assert all(m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    frozen = nn.Sequential(nn.Conv2d(3, 8, 1), FrozenBatchNorm2d(8)).train()
    assert fold_batch_norms(frozen) == 1  # frozen statistics: same in training mode


def test_shared_conv_is_not_folded():
    """A conv reached under two names (used twice) keeps its own weights."""
    conv = nn.Conv2d(4, 4, 1)
    model = nn.Sequential(nn.Sequential(conv, _random_bn(4, 12)), nn.Sequential(conv)).eval()
    folded, expected, actual = _folded_outputs(model, torch.randn(1, 4, 3, 3))
    assert folded == 0
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    "config, expected",
    [
        ("densepose_rcnn_R_50_FPN_s1x.yaml", 20),
        ("densepose_rcnn_R_50_FPN_DL_s1x.yaml", 20),
        ("HRNet/densepose_rcnn_HRFPN_HRNet_w32_s1x.yaml", 71),
    ],
)
def test_model_families_still_fold_every_norm(config, expected):
    """ResNet/FPN, DeepLab and HRNet (small variants): every batch norm is folded, as before."""
    from detectron2.modeling import build_model
    from inference_opt_utils import small_model_config

    from densepose_ext.modeling.inference_opt.guards import mark_optimized

    torch.manual_seed(0)
    model = mark_optimized(build_model(small_model_config(config)))
    assert sum(isinstance(m, NORMS) for m in model.modules()) == expected
    assert fold_batch_norms(model) == expected
    assert not any(isinstance(m, NORMS) for m in model.modules())


def test_modules_with_forward_hooks_are_not_folded():
    """A hook on the conv would see its output change (BN included) after folding."""
    seen = []
    model = nn.Sequential(nn.Conv2d(4, 4, 1), _random_bn(4, 14)).eval()
    model[0].register_forward_hook(lambda _m, _args, out: seen.append(out))
    assert fold_batch_norms(model) == 0
    hooked_norm = Conv2d(4, 4, 1, norm=_random_bn(4, 15)).eval()
    hooked_norm.norm.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    assert fold_batch_norms(hooked_norm) == 0
