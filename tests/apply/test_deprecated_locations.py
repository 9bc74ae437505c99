"""`ImagePrediction` moved; its old import path keeps working for now."""

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    "old, new",
    [
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


def test_the_apply_shim_under_engine_is_gone():
    """`engine` sits below `apply`: no module of it may import the tool."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("densepose_ext.engine.apply")


@pytest.mark.parametrize(
    "gone",
    [
        "densepose_ext.apply.inputs",  # -> densepose_ext.engine.inputs
        "densepose_ext.apply.files",  # -> densepose_ext.engine.output_files
        "densepose_ext.apply.predictor",  # -> densepose_ext.engine.predictor
        "densepose_ext.apply.pipeline",  # -> densepose_ext.apply.runner (overlap=True)
    ],
)
def test_former_apply_modules_are_gone(gone):
    """One owner each: the inputs, output files and predictor live in `engine`, the overlapped
    loop is `run_apply(..., overlap=True)`."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(gone)
