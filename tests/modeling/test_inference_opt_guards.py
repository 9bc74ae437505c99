"""Loading weights into an optimized model raises `InferenceOnlyError`: its batch norms are folded
and its Winograd weights are computed once, so new weights would give silently wrong outputs."""

import copy
import io
import warnings

import pytest
import torch
from inference_opt_utils import build_pair, small_model_config

from densepose_ext.modeling.checkpoint import DensePoseCheckpointer
from densepose_ext.modeling.inference_opt import InferenceOnlyError, WinogradConv2d


@pytest.fixture(scope="module")
def pair():
    return build_pair(small_model_config("densepose_rcnn_R_50_FPN_s1x.yaml"))


def _parameters(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model, before) -> bool:
    after = _parameters(model)
    return after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)


def test_load_state_dict_raises(pair):
    plain, optimized = pair
    before = _parameters(optimized)
    with pytest.raises(InferenceOnlyError, match="load the weights into the plain model"):
        optimized.load_state_dict(plain.state_dict())
    with pytest.raises(InferenceOnlyError):
        optimized.load_state_dict(plain.state_dict(), strict=False)
    assert _unchanged(optimized, before)


def test_load_into_a_submodule_raises(pair):
    plain, optimized = pair
    before = _parameters(optimized)
    with pytest.raises(InferenceOnlyError):
        optimized.roi_heads.load_state_dict(plain.roi_heads.state_dict())
    conv = next(m for m in optimized.modules() if isinstance(m, WinogradConv2d))
    with pytest.raises(InferenceOnlyError):
        conv.load_state_dict({"weight": conv.weight.clone(), "bias": conv.bias.clone()})
    assert _unchanged(optimized, before)


def test_checkpointer_load_raises(pair, tmp_path):
    plain, optimized = pair
    path = tmp_path / "model.pth"
    torch.save({"model": plain.state_dict()}, path)
    before = _parameters(optimized)
    with pytest.raises(InferenceOnlyError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the checkpointer reads the state dict first
            DensePoseCheckpointer(optimized).load(str(path))
    assert _unchanged(optimized, before)


def test_guard_survives_copy_and_pickle(pair):
    plain, optimized = pair
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not a training checkpoint" (tested in test_guards)
        torch.save(optimized, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=False)
        copied = copy.deepcopy(optimized)
    for model in (copied, loaded):
        with pytest.raises(InferenceOnlyError):
            model.backbone.load_state_dict(plain.backbone.state_dict())


def test_plain_model_still_loads(pair):
    plain, _ = pair
    plain.load_state_dict(plain.state_dict())  # the guard is on the optimized copy only


def test_winograd_weights_follow_the_conv_weight():
    """The transformed weights are recomputed when the weight changes (in place or replaced)."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(128, 128, 3, padding=1)
    fast = WinogradConv2d(copy.deepcopy(conv))
    x = torch.randn(1, 128, 8, 8)
    with torch.no_grad():
        fast.weight.mul_(-2.0)
        conv.weight.mul_(-2.0)
        torch.testing.assert_close(fast(x), conv(x), rtol=1e-4, atol=1e-4)
        fast.weight = torch.nn.Parameter(conv.weight * 0.5)
        conv.weight.mul_(0.5)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), conv(x), rtol=1e-4, atol=1e-4)
