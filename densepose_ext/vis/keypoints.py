"""`keypoints`: predicted keypoints and the skeleton lines between them (models with keypoints)."""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from detectron2.data.datasets.builtin_meta import (
    COCO_PERSON_KEYPOINT_NAMES,
    KEYPOINT_CONNECTION_RULES,
)

from .base import Visualizer

__all__ = ["KeypointSkeletonVisualizer", "coco_skeleton"]

POINT_COLOR_BGR = (0, 0, 255)


def coco_skeleton() -> Tuple[Tuple[int, int, Tuple[int, int, int]], ...]:
    """COCO person skeleton as (index a, index b, BGR colour) from detectron2's metadata."""
    index = {name: i for i, name in enumerate(COCO_PERSON_KEYPOINT_NAMES)}
    return tuple(
        (index[a], index[b], (int(c[2]), int(c[1]), int(c[0])))
        for a, b, c in KEYPOINT_CONNECTION_RULES
    )


class KeypointSkeletonVisualizer(Visualizer):
    """Keypoints whose score exceeds `threshold` as dots, lines where both ends do.

    The score is the keypoint head's heatmap logit (as detectron2's `Visualizer`, threshold 0.05).
    `skeleton` = (index a, index b, BGR colour) triples; default: the 17 COCO person keypoints.
    """

    name = "keypoints"

    def __init__(
        self,
        threshold: float = 0.05,
        skeleton: Optional[Sequence[Tuple[int, int, Tuple[int, int, int]]]] = None,
        radius: int = 2,
        thickness: int = 1,
    ):
        self.threshold = threshold
        self.skeleton = tuple(skeleton) if skeleton is not None else coco_skeleton()
        self.radius = radius
        self.thickness = thickness

    def draw(self, canvas: np.ndarray, prediction) -> None:
        if prediction.keypoints is None:
            return
        for person in prediction.keypoints.numpy():
            shown = person[:, 2] > self.threshold
            points = [(int(round(x)), int(round(y))) for x, y in person[:, :2]]
            for a, b, color in self.skeleton:
                if a < len(points) and b < len(points) and shown[a] and shown[b]:
                    cv2.line(canvas, points[a], points[b], color, self.thickness, cv2.LINE_AA)
            for point, visible in zip(points, shown):
                if visible:
                    cv2.circle(canvas, point, self.radius, POINT_COLOR_BGR, -1, cv2.LINE_AA)
