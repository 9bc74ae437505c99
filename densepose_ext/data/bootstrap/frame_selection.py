"""Frame selectors (`IMAGE_LOADER.SELECT`) and image transforms (`IMAGE_LOADER.TRANSFORM`)."""

import random
from typing import Callable, List, Optional, Sequence

import torch
from torch.nn import functional as F

__all__ = [
    "RandomKFramesSelector",
    "FirstKFramesSelector",
    "LastKFramesSelector",
    "build_frame_selector",
    "ImageResizeTransform",
    "build_image_transform",
]


class RandomKFramesSelector:
    """k frames chosen at random (without replacement; all if there are fewer), in list order."""

    def __init__(self, k: int, rng: Optional[random.Random] = None):
        self.k = int(k)
        self.rng = rng if rng is not None else random

    def __call__(self, frames: Sequence[int]) -> List[int]:
        positions = sorted(self.rng.sample(range(len(frames)), min(self.k, len(frames))))
        return [frames[i] for i in positions]


class FirstKFramesSelector:
    def __init__(self, k: int):
        self.k = int(k)

    def __call__(self, frames: Sequence[int]) -> List[int]:
        return list(frames[: self.k])


class LastKFramesSelector:
    def __init__(self, k: int):
        self.k = int(k)

    def __call__(self, frames: Sequence[int]) -> List[int]:
        return list(frames[-self.k :]) if self.k > 0 else []


_SELECTORS = {
    "random_k": RandomKFramesSelector,
    "first_k": FirstKFramesSelector,
    "last_k": LastKFramesSelector,
}


def build_frame_selector(select_cfg) -> Optional[Callable[[Sequence[int]], List[int]]]:
    """`SELECT.STRATEGY` random_k / first_k / last_k (k = NUM_IMAGES) or all (-> None: every frame)."""
    strategy = select_cfg.get("STRATEGY", "all") if select_cfg is not None else "all"
    if strategy in ("all", "", None):
        return None
    if strategy not in _SELECTORS:
        raise KeyError(
            f"unknown frame selection strategy {strategy!r}; known: {sorted(_SELECTORS) + ['all']}"
        )
    return _SELECTORS[strategy](select_cfg.NUM_IMAGES)


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


def build_image_transform(transform_cfg) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    """`TRANSFORM.TYPE` "resize" (MIN_SIZE, MAX_SIZE) or empty / missing -> None."""
    kind = transform_cfg.get("TYPE", "") if transform_cfg is not None else ""
    if not kind:
        return None
    if kind != "resize":
        raise KeyError(f"unknown image transform {kind!r}; known: ['resize']")
    return ImageResizeTransform(
        transform_cfg.get("MIN_SIZE", 800), transform_cfg.get("MAX_SIZE", 1333)
    )
