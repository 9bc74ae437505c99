"""`masks`: predicted instance masks, one colour per detection (models with a mask head)."""

import numpy as np

from .base import Visualizer

__all__ = ["InstanceMaskVisualizer", "instance_color"]


def instance_color(k: int) -> np.ndarray:
    """A bright BGR colour for detection k (golden-ratio hue steps: neighbours differ)."""
    import cv2

    hue = int((k * 0.618033988749895 % 1.0) * 180)
    hsv = np.array([[[hue, 200, 255]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


class InstanceMaskVisualizer(Visualizer):
    """Blends each detection's mask with its colour (opacity `alpha`); the lowest score first,
    so where masks overlap the higher score is on top."""

    name = "masks"

    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha

    def draw(self, canvas: np.ndarray, prediction) -> None:
        if prediction.masks is None:
            return
        masks = prediction.masks.numpy().astype(bool)
        for k in np.argsort(prediction.scores.numpy(), kind="stable"):
            m = masks[k][: canvas.shape[0], : canvas.shape[1]]
            region = canvas[: m.shape[0], : m.shape[1]]
            blended = (
                region[m].astype(np.float32) * (1 - self.alpha)
                + instance_color(int(k)) * self.alpha
            )
            region[m] = blended.astype(np.uint8)
