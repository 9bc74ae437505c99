"""Former home of `BatchPredictor`, now `densepose_ext.engine.predictor` (re-exported here
while code written against this path moves over)."""

from ..engine.predictor import BatchPredictor  # noqa: F401
