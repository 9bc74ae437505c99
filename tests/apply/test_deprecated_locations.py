"""The apply_net tool and `ImagePrediction` moved; their old import paths keep working for now."""

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    "old, new",
    [
        ("densepose_ext.engine.apply", "densepose_ext.apply"),
        ("densepose_ext.vis.prediction", "densepose_ext.converters.prediction"),
    ],
)
def test_old_module_warns_and_reexports(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        old_module = importlib.import_module(old)
    new_module = importlib.import_module(new)
    for name in ("ImagePrediction", "main"):
        if hasattr(new_module, name):
            assert getattr(old_module, name) is getattr(new_module, name)


def test_old_submodule_is_the_new_module():
    import densepose_ext.apply.cli as new_cli
    import densepose_ext.engine.apply.cli as old_cli  # noqa: F401

    assert sys.modules["densepose_ext.engine.apply.cli"] is new_cli
