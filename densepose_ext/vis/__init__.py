"""Visualizers of DensePose predictions (the `apply_net show` names) and their drawing
primitives."""

from ..converters.prediction import CseContext, ImagePrediction
from .base import (
    BACKGROUNDS,
    VisStyle,
    Visualizer,
    apply_colormap,
    blend_in_box,
    colormap_id,
    make_background,
)
from .registry import (
    VISUALIZER_REGISTRY,
    VISUALIZERS,
    CompoundVisualizer,
    VisOptions,
    build_visualizer,
    parse_visualizer_names,
    register_visualizer,
)
