"""Unlabelled image sources for bootstrapping: video key frames and image lists.

Items are {"images": float32 BGR [F, 3, H, W] (0..255), "categories": [category]}; a source that
cannot be read gives an empty [0, 3, 1, 1] tensor and no categories (logged).
"""

import logging
import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .video_reader import list_keyframes, read_keyframes

__all__ = ["VideoKeyframeDataset", "ImageListDataset", "join_base_path", "read_list_file"]

logger = logging.getLogger(__name__)

EMPTY_IMAGES = torch.empty((0, 3, 1, 1))


def read_list_file(path: str, base_path: Optional[str] = None) -> List[str]:
    """One path per non-empty line; relative paths are joined to `base_path`."""
    from detectron2.utils.file_io import PathManager

    with PathManager.open(path, "r") as f:
        lines = [line.strip() for line in f]
    return join_base_path([line for line in lines if line], base_path)


def join_base_path(paths: Sequence[str], base_path: Optional[str] = None) -> List[str]:
    """Relative paths joined to `base_path` (absolute paths and URLs unchanged)."""
    if not base_path:
        return list(paths)
    return [p if os.path.isabs(p) or "://" in p else os.path.join(base_path, p) for p in paths]


def _to_bgr_tensor(frames_rgb: Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 RGB [H, W, 3] arrays (equal size) -> float32 BGR [F, 3, H, W]."""
    stacked = np.stack([f[:, :, ::-1] for f in frames_rgb])  # RGB -> BGR
    return torch.from_numpy(np.ascontiguousarray(stacked)).permute(0, 3, 1, 2).float()


class VideoKeyframeDataset(Dataset):
    """Item i: selected key frames of video i (see `video_reader` for key-frame ids)."""

    def __init__(
        self,
        video_list: Sequence[str],
        category_list: Optional[Sequence[Any]] = None,
        frame_selector: Optional[Callable[[Sequence[int]], List[int]]] = None,
        transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        keyframe_helper_data: Optional[Dict[int, List[int]]] = None,
        backend: Optional[str] = None,
    ):
        self.video_list = list(video_list)
        self.category_list = (
            list(category_list) if category_list is not None else [None] * len(self.video_list)
        )
        if len(self.category_list) != len(self.video_list):
            raise ValueError(
                f"{len(self.video_list)} videos but {len(self.category_list)} categories"
            )
        self.frame_selector = frame_selector
        self.transform = transform
        self.keyframe_helper_data = keyframe_helper_data or {}
        self.backend = backend

    def __len__(self) -> int:
        return len(self.video_list)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        path = self.video_list[idx]
        try:
            keyframes = self.keyframe_helper_data.get(idx)
            if keyframes is None:
                keyframes = list_keyframes(path, self.backend)
            if self.frame_selector is not None:
                keyframes = self.frame_selector(keyframes)
            frames = read_keyframes(path, keyframes, self.backend)
        except Exception as e:  # noqa: BLE001 - a broken video must not stop training
            logger.warning(f"cannot read video {path}: {e}")
            frames = []
        if not frames:
            return {"images": EMPTY_IMAGES.clone(), "categories": []}
        images = _to_bgr_tensor(frames)
        if self.transform is not None:
            images = self.transform(images)
        return {"images": images, "categories": [self.category_list[idx]]}


class ImageListDataset(Dataset):
    """Item i: image file i as a batch of one frame (read with detectron2's `read_image`)."""

    def __init__(
        self,
        image_list: Sequence[str],
        category_list: Optional[Sequence[Any]] = None,
        transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    ):
        self.image_list = list(image_list)
        self.category_list = (
            list(category_list) if category_list is not None else [None] * len(self.image_list)
        )
        self.transform = transform

    def __len__(self) -> int:
        return len(self.image_list)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        from detectron2.data.detection_utils import read_image

        path = self.image_list[idx]
        try:
            image = read_image(path, format="RGB")
        except Exception as e:  # noqa: BLE001
            logger.warning(f"cannot read image {path}: {e}")
            return {"images": EMPTY_IMAGES.clone(), "categories": []}
        images = _to_bgr_tensor([image])
        if self.transform is not None:
            images = self.transform(images)
        return {"images": images, "categories": [self.category_list[idx]]}
