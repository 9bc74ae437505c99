"""Visualizers by the original `apply_net show` names, combinable as "bbox,dp_segm,...".

Register more with `@register_visualizer("name")` on a factory `(VisOptions) -> Visualizer`
(entries of `VISUALIZER_REGISTRY`, a detectron2 `Registry`).
"""

from dataclasses import dataclass, field
from typing import Callable, List, Mapping, Optional

import numpy as np

from ..utils.registry import NamedRegistry, RegistryDictView
from .base import VisStyle, Visualizer, make_background
from .bbox import ScoredBoxVisualizer
from .chart_maps import PartLabelsVisualizer, UVisualizer, VVisualizer
from .contour import ContourVisualizer
from .cse_texture import CseTextureVisualizer
from .cse_vertex import VertexVisualizer
from .iuv_texture import IUVTextureVisualizer
from .keypoints import KeypointSkeletonVisualizer
from .masks import InstanceMaskVisualizer

__all__ = [
    "VISUALIZERS",
    "VISUALIZER_REGISTRY",
    "CompoundVisualizer",
    "VisOptions",
    "build_visualizer",
    "parse_visualizer_names",
    "register_visualizer",
]


@dataclass
class VisOptions:
    """Everything a visualizer factory may need (`apply_net show` options)."""

    style: VisStyle = field(default_factory=VisStyle)
    background: str = "grey"
    texture_atlas: Optional[str] = None  # dp_iuv_texture
    texture_atlases_map: Mapping[str, str] = field(default_factory=dict)  # dp_cse_texture
    vertex_scalars: Optional[Callable] = None  # dp_vertex: mesh name -> float [V] in [0, 1]


VISUALIZER_REGISTRY = NamedRegistry("VISUALIZER", "visualizer")
VISUALIZER_REGISTRY.__doc__ = "Visualizer factories (VisOptions) -> Visualizer, by show name."
VISUALIZERS = RegistryDictView(VISUALIZER_REGISTRY)  # deprecated dict view


def register_visualizer(name: str) -> Callable:
    """Decorator registering a factory `(VisOptions) -> Visualizer` under `name`."""
    return VISUALIZER_REGISTRY.register_as(name)


register_visualizer("bbox")(lambda options: ScoredBoxVisualizer())
register_visualizer("dp_segm")(lambda options: PartLabelsVisualizer(options.style))
register_visualizer("dp_u")(lambda options: UVisualizer(options.style))
register_visualizer("dp_v")(lambda options: VVisualizer(options.style))
register_visualizer("dp_contour")(lambda options: ContourVisualizer(options.style))
register_visualizer("dp_vertex")(
    lambda options: VertexVisualizer(options.style, options.vertex_scalars)
)
register_visualizer("masks")(lambda options: InstanceMaskVisualizer(0.5))
register_visualizer("keypoints")(lambda options: KeypointSkeletonVisualizer())


@register_visualizer("dp_iuv_texture")
def _iuv_texture(options: VisOptions) -> Visualizer:
    if not options.texture_atlas:
        raise ValueError("visualizer dp_iuv_texture needs --texture_atlas <atlas image>")
    return IUVTextureVisualizer(options.texture_atlas)


@register_visualizer("dp_cse_texture")
def _cse_texture(options: VisOptions) -> Visualizer:
    if not options.texture_atlases_map:
        raise ValueError(
            'visualizer dp_cse_texture needs --texture_atlases_map \'{"mesh": "atlas.png"}\''
        )
    return CseTextureVisualizer(options.texture_atlases_map)


def parse_visualizer_names(spec: str) -> List[str]:
    """ "bbox,dp_segm" -> ["bbox", "dp_segm"]; ValueError naming any unknown visualizer."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    known = ", ".join(VISUALIZER_REGISTRY.names())
    if not names:
        raise ValueError("no visualizer given; choose from " + known)
    unknown = [n for n in names if n not in VISUALIZER_REGISTRY]
    if unknown:
        raise ValueError(f"unknown visualizer {', '.join(unknown)}; known: {known}")
    return names


class CompoundVisualizer:
    """Background, then each visualizer in the given order; returns a new BGR image."""

    def __init__(self, visualizers: List[Visualizer], background: str = "grey"):
        self.visualizers = visualizers
        self.background = background
        make_background(np.zeros((1, 1, 3), np.uint8), background)  # validates the name

    @property
    def needs_cse(self) -> bool:
        return any(
            isinstance(v, (VertexVisualizer, CseTextureVisualizer)) for v in self.visualizers
        )

    @property
    def needs_chart(self) -> bool:
        chart_kinds = (
            PartLabelsVisualizer,
            UVisualizer,
            VVisualizer,
            ContourVisualizer,
            IUVTextureVisualizer,
        )
        return any(isinstance(v, chart_kinds) for v in self.visualizers)

    def __call__(self, image_bgr: np.ndarray, prediction) -> np.ndarray:
        canvas = make_background(image_bgr, self.background)
        for visualizer in self.visualizers:
            visualizer.draw(canvas, prediction)
        return canvas


def build_visualizer(spec: str, options: Optional[VisOptions] = None) -> CompoundVisualizer:
    """Builds the visualizers named in `spec` (comma-separated) with `options`."""
    options = options or VisOptions()
    return CompoundVisualizer(
        [VISUALIZER_REGISTRY.get(n)(options) for n in parse_visualizer_names(spec)],
        options.background,
    )
