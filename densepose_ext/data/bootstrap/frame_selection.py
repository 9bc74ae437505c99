"""Frame selectors (`IMAGE_LOADER.SELECT`) and image transforms (`IMAGE_LOADER.TRANSFORM`)."""

import random
from typing import Callable, List, Optional, Sequence

import torch
from torch.nn import functional as F

from ...config import bootstrap_config_node
from ...utils.registry import NamedRegistry

__all__ = [
    "FRAME_SELECTOR_REGISTRY",
    "IMAGE_TRANSFORM_REGISTRY",
    "RandomKFramesSelector",
    "FirstKFramesSelector",
    "LastKFramesSelector",
    "build_frame_selector",
    "ImageResizeTransform",
    "build_image_transform",
]


FRAME_SELECTOR_REGISTRY = NamedRegistry(
    "FRAME_SELECTOR", "frame selection strategy (IMAGE_LOADER.SELECT.STRATEGY)"
)
FRAME_SELECTOR_REGISTRY.__doc__ = "Video frame selectors by SELECT.STRATEGY: cls(NUM_IMAGES)."
IMAGE_TRANSFORM_REGISTRY = NamedRegistry(
    "IMAGE_TRANSFORM", "image transform (IMAGE_LOADER.TRANSFORM.TYPE)"
)
IMAGE_TRANSFORM_REGISTRY.__doc__ = "Image transforms by TRANSFORM.TYPE: builder(TRANSFORM node)."


@FRAME_SELECTOR_REGISTRY.register_as("random_k")
class RandomKFramesSelector:
    """k frames chosen at random (without replacement; all if there are fewer), in list order."""

    def __init__(self, k: int, rng: Optional[random.Random] = None):
        self.k = int(k)
        self.rng = rng if rng is not None else random

    def __call__(self, frames: Sequence[int]) -> List[int]:
        positions = sorted(self.rng.sample(range(len(frames)), min(self.k, len(frames))))
        return [frames[i] for i in positions]


@FRAME_SELECTOR_REGISTRY.register_as("first_k")
class FirstKFramesSelector:
    def __init__(self, k: int):
        self.k = int(k)

    def __call__(self, frames: Sequence[int]) -> List[int]:
        return list(frames[: self.k])


@FRAME_SELECTOR_REGISTRY.register_as("last_k")
class LastKFramesSelector:
    def __init__(self, k: int):
        self.k = int(k)

    def __call__(self, frames: Sequence[int]) -> List[int]:
        return list(frames[-self.k :]) if self.k > 0 else []


def build_frame_selector(select_cfg) -> Optional[Callable[[Sequence[int]], List[int]]]:
    """`SELECT.STRATEGY` random_k / first_k / last_k (k = NUM_IMAGES) or "all" (-> None: every
    frame); missing keys take the schema defaults."""
    select_cfg = bootstrap_config_node("IMAGE_LOADER.SELECT", select_cfg)
    if select_cfg.STRATEGY in ("all", ""):
        return None
    return FRAME_SELECTOR_REGISTRY.get(select_cfg.STRATEGY)(select_cfg.NUM_IMAGES)


class ImageResizeTransform:
    """Resizes float images [F, 3, H, W] by min(min_size / short side, max_size / long side),
    bilinear, align_corners=False."""

    def __init__(self, min_size: int = 800, max_size: int = 1333):
        self.min_size = int(min_size)
        self.max_size = int(max_size)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[-2:]
        scale = min(self.min_size / min(h, w), self.max_size / max(h, w))
        return F.interpolate(
            images,
            scale_factor=scale,
            mode="bilinear",
            align_corners=False,
            recompute_scale_factor=True,
        )


@IMAGE_TRANSFORM_REGISTRY.register()
def resize(transform_cfg) -> ImageResizeTransform:
    return ImageResizeTransform(transform_cfg.MIN_SIZE, transform_cfg.MAX_SIZE)


def build_image_transform(transform_cfg) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    """`TRANSFORM.TYPE` "resize" (MIN_SIZE, MAX_SIZE) or empty -> None; missing keys take the
    schema defaults."""
    transform_cfg = bootstrap_config_node("IMAGE_LOADER.TRANSFORM", transform_cfg)
    if not transform_cfg.TYPE:
        return None
    return IMAGE_TRANSFORM_REGISTRY.get(transform_cfg.TYPE)(transform_cfg)
