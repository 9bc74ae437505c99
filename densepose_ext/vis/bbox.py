"""`bbox`: detection boxes with their scores."""

import cv2
import numpy as np

from .base import Visualizer

__all__ = ["ScoredBoxVisualizer"]

BOX_COLOR_BGR = (18, 127, 15)
TEXT_COLOR_BGR = (218, 227, 218)
FONT_SCALE = 0.35


class ScoredBoxVisualizer(Visualizer):
    """1-px rectangles (XYXY, truncated to integers) and the score as "%6.4f" at the top-left
    corner."""

    name = "bbox"

    def __init__(self, color=BOX_COLOR_BGR, text_color=TEXT_COLOR_BGR, thickness: int = 1):
        self.color = tuple(int(c) for c in color)
        self.text_color = tuple(int(c) for c in text_color)
        self.thickness = thickness

    def draw(self, canvas: np.ndarray, prediction) -> None:
        font = cv2.FONT_HERSHEY_SIMPLEX
        for (x, y, w, h), score in zip(
            prediction.int_boxes_xywh.tolist(), prediction.scores.tolist()
        ):
            cv2.rectangle(canvas, (x, y), (x + w, y + h), self.color, self.thickness)
            text = f"{score:6.4f}"
            (_tw, th), _baseline = cv2.getTextSize(text, font, FONT_SCALE, 1)
            cv2.putText(
                canvas, text, (x, y + th), font, FONT_SCALE, self.text_color, 1, cv2.LINE_AA
            )
