"""The app's output choices as `apply_net show` renderers: (image_bgr, prediction) -> BGR image.

Each choice is the renderer `apply_net.py show` builds for the same options, so a picture from the
page equals the file `apply_net.py show` writes:

- "visualizers": `show <visualizers> --background B`
- "magicanimate", "civitai": `show --preset NAME`
- "iuv": the `_IUV.png` image of `dump --format iuv_png` (channels I, U·255, V·255 as stored)
- "texture": `show dp_iuv_texture --texture_atlas ATLAS --background B`
"""

from typing import Callable, Optional, Sequence, Set, Tuple

import numpy as np

from ..apply.dump_writers import iuv_images
from ..vis.hint_image import HINT_PRESETS, HintImageRenderer
from ..vis.registry import VisOptions, build_visualizer, parse_visualizer_names

__all__ = ["OUTPUT_MODES", "build_renderer", "render_iuv"]

OUTPUT_MODES = ("visualizers", *sorted(HINT_PRESETS), "iuv", "texture")


def render_iuv(image_bgr: np.ndarray, prediction) -> np.ndarray:
    """The IUV image of a chart prediction, uint8 [H, W, 3] (the input image is not drawn)."""
    return iuv_images(prediction)[0]


def build_renderer(
    mode: str,
    visualizers: Sequence[str] = ("dp_segm", "bbox"),
    background: str = "grey",
    atlas_path: Optional[str] = None,
) -> Tuple[Callable, Set[str]]:
    """(renderer, names of what it needs) for an output choice; ValueError on a bad choice.

    The names are `apply_net` visualizer / format names, checked against the model with the same
    rule as `apply_net.py` (chart-only outputs need a chart model, and so on).
    """
    if mode == "visualizers":
        names = parse_visualizer_names(",".join(visualizers or []))
        if "dp_iuv_texture" in names or "dp_cse_texture" in names:
            raise ValueError("texture visualizers need an atlas: choose the output 'texture'")
        return build_visualizer(",".join(names), VisOptions(background=background)), set(names)
    if mode in HINT_PRESETS:
        return HintImageRenderer(mode), {"dp_segm"}
    if mode == "iuv":
        return render_iuv, {"iuv_png"}
    if mode == "texture":
        if not atlas_path:
            raise ValueError("the output 'texture' needs a texture atlas image: upload one")
        options = VisOptions(background=background, texture_atlas=atlas_path)
        return build_visualizer("dp_iuv_texture", options), {"dp_iuv_texture"}
    raise ValueError(f"unknown output {mode!r}; choose from {', '.join(OUTPUT_MODES)}")
