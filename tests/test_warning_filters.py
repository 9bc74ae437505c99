"""The test run's warning filters (pyproject.toml) hide only third-party warnings: densepose_ext's
own warnings (the optimized model's guard, the deprecations) reach the warnings summary."""

import warnings

import pytest

from densepose_ext.modeling.inference_opt.guards import NOT_A_CHECKPOINT

OWN_WARNINGS = [
    (NOT_A_CHECKPOINT, UserWarning, "densepose_ext.modeling.inference_opt.guards"),
    (
        "densepose_ext.vis.prediction moved to densepose_ext.converters.prediction",
        DeprecationWarning,
        "apply_net",
    ),
    (
        "hflip_chart_predictor_output is deprecated; use HFlipConverter.convert",
        DeprecationWarning,
        "densepose_ext.modeling.tta",
    ),
]


def _action(message: str, category: type, module: str) -> str:
    """The action of the first filter that matches, as `warnings.warn_explicit` chooses it."""
    for action, msg, cat, mod, lineno in warnings.filters:
        if (
            (msg is None or msg.match(message))
            and issubclass(category, cat)
            and (mod is None or mod.match(module))
            and lineno == 0
        ):
            return action
    return warnings.defaultaction


@pytest.mark.parametrize("message, category, module", OWN_WARNINGS)
def test_own_warnings_are_not_ignored(message, category, module):
    assert _action(message, category, module) != "ignore"


def test_third_party_warnings_are_filtered_by_module():
    """The meshgrid warning is ignored where detectron2 triggers it (torch.functional), and the
    same text raised from our code is not."""
    text = "torch.meshgrid: in an upcoming release, it will be required to pass the indexing"
    assert _action(text, UserWarning, "torch.functional") == "ignore"
    assert _action(text, UserWarning, "densepose_ext.modeling.losses.cycle") != "ignore"
