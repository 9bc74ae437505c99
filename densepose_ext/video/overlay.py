"""`show --draw-track-ids`: the track id written at the top-left corner of each box, in a colour
of its own, over whatever the wrapped renderer drew."""

from typing import Callable

import cv2
import numpy as np

__all__ = ["TrackIdOverlay", "track_colour"]

FONT_SCALE = 0.5


def track_colour(track_id: int) -> tuple:
    """A bright BGR colour, the same for the same id (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 180)
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


class TrackIdOverlay:
    """`render(image_bgr, prediction)` of `inner`, then "#id" per detection that has a track id."""

    def __init__(self, inner: Callable):
        self.inner = inner

    def __call__(self, image_bgr: np.ndarray, prediction) -> np.ndarray:
        canvas = self.inner(image_bgr, prediction)
        if prediction.track_ids is None:
            return canvas
        font = cv2.FONT_HERSHEY_SIMPLEX
        for (x, y, w, h), track_id in zip(
            prediction.int_boxes_xywh.tolist(), prediction.track_ids.tolist()
        ):
            colour = track_colour(track_id)
            cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, 1)
            text = f"#{track_id}"
            (_tw, th), _ = cv2.getTextSize(text, font, FONT_SCALE, 1)
            cv2.putText(canvas, text, (x + 2, y + th + 2), font, FONT_SCALE, colour, 1, cv2.LINE_AA)
        return canvas
