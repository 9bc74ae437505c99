"""Texture extraction: image pixels -> chart atlas texels, accumulated over images and frames.

Each body pixel adds its colour to the texel at its (part, U, V) (`chart_texel_coordinates`,
the layout `dp_iuv_texture` reads), with a weight; a texel's colour is the weighted mean of
everything that landed on it. Weights:

- "angle": cos of the viewing angle, estimated from the image -> chart mapping. A surface seen at
  angle θ is squeezed by cos θ along one image direction, so the Jacobian d(U, V)/d(x, y) has
  singular values in ratio cos θ (charts are assumed locally isotropic). Pixels near silhouettes
  and on parts turned away get less weight than frontal ones.
- "confidence": the model's confidences (`PersonChart.confidence`), where the model has them.
- "both" (default): their product; "none": every pixel counts 1.

With `supersample` k > 1 (default 2) each pixel is split into k x k samples (see `_supersample`):
a pixel covering several texels fills all of them, not just the one at its centre.
"""

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from ..vis.iuv_texture import chart_texel_coordinates
from ..vis.texture_atlas import ATLAS_COLS, ATLAS_ROWS, tile_slices
from .people import PersonChart

__all__ = [
    "WEIGHTINGS",
    "ExtractedTexture",
    "TextureAccumulator",
    "fill_holes",
    "viewing_weights",
]

WEIGHTINGS = ("both", "angle", "confidence", "none")
MIN_VIEW_WEIGHT = 0.05  # grazing views still count a little: better than a hole
MAX_SAMPLE_SPREAD = 1.5  # texels between a supersample and its pixel's centre
JACOBIAN_WINDOW = 5  # pixels; derivatives of quantised U/V are averaged over this window


def _chart_derivatives(values: np.ndarray, same: np.ndarray, axis: int):
    """Forward differences along `axis` where both pixels are on the same part, else backward
    ones; (derivative, valid) float32 / bool [h, w]."""
    forward = np.zeros_like(values)
    valid_f = np.zeros(values.shape, dtype=bool)
    head = [slice(None)] * 2
    tail = [slice(None)] * 2
    head[axis], tail[axis] = slice(None, -1), slice(1, None)
    head, tail = tuple(head), tuple(tail)
    forward[head] = values[tail] - values[head]
    valid_f[head] = same
    backward = np.zeros_like(values)
    valid_b = np.zeros(values.shape, dtype=bool)
    backward[tail] = forward[head]
    valid_b[tail] = same
    derivative = np.where(valid_f, forward, backward)
    return derivative, valid_f | valid_b


def viewing_weights(person: PersonChart) -> np.ndarray:
    """float32 [h, w]: estimated cos of the viewing angle per body pixel (>= MIN_VIEW_WEIGHT),
    1 where the chart has no derivative (isolated pixels); 0 off the body."""
    labels = np.where(person.foreground, person.labels, 0)
    u, v = person.u.astype(np.float32), person.v.astype(np.float32)
    same_x = (labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] > 0)
    same_y = (labels[1:, :] == labels[:-1, :]) & (labels[1:, :] > 0)
    ux, valid_x = _chart_derivatives(u, same_x, axis=1)
    vx, _ = _chart_derivatives(v, same_x, axis=1)
    uy, valid_y = _chart_derivatives(u, same_y, axis=0)
    vy, _ = _chart_derivatives(v, same_y, axis=0)
    valid = (valid_x & valid_y).astype(np.float32)
    # normalised convolution: window means of the Jacobian over pixels where it is defined
    window = (JACOBIAN_WINDOW, JACOBIAN_WINDOW)
    count = cv2.blur(valid, window)
    means = [cv2.blur(d * valid, window) / np.maximum(count, 1e-6) for d in (ux, uy, vx, vy)]
    a, b, c, d = means
    frob = a * a + b * b + c * c + d * d
    det = np.abs(a * d - b * c)
    root = np.sqrt(np.maximum(frob * frob - 4.0 * det * det, 0.0))
    s_max = np.sqrt((frob + root) / 2.0)
    s_min = np.sqrt(np.maximum(frob - root, 0.0) / 2.0)
    ratio = np.where(s_max > 1e-9, s_min / np.maximum(s_max, 1e-9), 1.0)
    weights = np.where(count > 0, np.maximum(ratio, MIN_VIEW_WEIGHT), 1.0)
    return np.where(labels > 0, weights, 0.0).astype(np.float32)


def _supersample(labels, u, v, weights, colors, k: int, tile: int):
    """k x k samples per pixel: the pixel's part, colour and weight / k² (nearest), and U, V
    interpolated bilinearly among the neighbours on the same part (normalised per part, so
    that charts of different parts never mix). Small people then leave no gaps between the
    texels their pixels hit. Samples more than MAX_SAMPLE_SPREAD texels from their pixel's own
    texel are dropped (grazing views: one colour would smear over many texels)."""
    h, w = labels.shape

    def nearest(a):
        return np.repeat(np.repeat(a, k, axis=0), k, axis=1)

    labels_hi = nearest(labels)
    u_hi = np.zeros(labels_hi.shape, np.float32)
    v_hi = np.zeros(labels_hi.shape, np.float32)
    dsize = (w * k, h * k)
    for part in np.unique(labels[weights > 0]):
        m = (labels == part).astype(np.float32)
        support = np.maximum(cv2.resize(m, dsize, interpolation=cv2.INTER_LINEAR), 1e-6)
        on_part = labels_hi == part
        for src, dst in ((u, u_hi), (v, v_hi)):
            smooth = cv2.resize(src.astype(np.float32) * m, dsize, interpolation=cv2.INTER_LINEAR)
            dst[on_part] = (smooth / support)[on_part]
    spread = np.maximum(np.abs(u_hi - nearest(u)), np.abs(v_hi - nearest(v))) * (tile - 1)
    weights_hi = np.where(spread <= MAX_SAMPLE_SPREAD, nearest(weights) / (k * k), 0.0)
    return labels_hi, u_hi, v_hi, weights_hi, nearest(colors)


@dataclass
class ExtractedTexture:
    """An extracted atlas: `bgr` uint8 [6N, 4N, 3] (0 where unknown), `weight` float32 [6N, 4N]
    (sum of the weights that landed on each texel), `seen` bool (weight > 0) and `filled` bool
    (texels set by hole filling)."""

    bgr: np.ndarray
    weight: np.ndarray
    seen: np.ndarray
    filled: np.ndarray

    @property
    def known(self) -> np.ndarray:
        return self.seen | self.filled

    def bgra(self) -> np.ndarray:
        """uint8 [6N, 4N, 4]: the atlas with alpha 255 on known texels, 0 elsewhere (so that
        `dp_iuv_texture` and `apply` leave the unknown texels' pixels untouched)."""
        return np.dstack([self.bgr, np.where(self.known, 255, 0).astype(np.uint8)])

    def coverage_image(self) -> np.ndarray:
        """uint8 [6N, 4N]: 255 seen, 128 filled, 0 unknown."""
        return np.where(self.seen, 255, np.where(self.filled, 128, 0)).astype(np.uint8)


class TextureAccumulator:
    """Weighted mean of pixel colours per atlas texel, over any number of images and people."""

    def __init__(self, tile: int = 200, weighting: str = "both", supersample: int = 2):
        if tile < 2:
            raise ValueError(f"tile size must be >= 2, got {tile}")
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {weighting!r}; expected one of {WEIGHTINGS}")
        self.tile = tile
        self.weighting = weighting
        self.supersample = supersample
        self.shape_hw = (ATLAS_ROWS * tile, ATLAS_COLS * tile)
        self.color_sum = np.zeros(self.shape_hw + (3,), dtype=np.float64)
        self.weight_sum = np.zeros(self.shape_hw, dtype=np.float64)
        self.views = 0

    def pixel_weights(self, person: PersonChart) -> np.ndarray:
        weights = np.where(person.foreground, 1.0, 0.0).astype(np.float32)
        if self.weighting in ("both", "angle"):
            weights *= viewing_weights(person)
        if self.weighting in ("both", "confidence") and person.confidence is not None:
            weights *= person.confidence
        return weights

    def add(self, image_bgr: np.ndarray, person: PersonChart) -> int:
        """Adds one person of one image (BGR uint8 [H, W, 3]); returns the pixels used (the parts
        of the box outside the image are ignored)."""
        x, y, w, h = person.box_xywh
        height, width = image_bgr.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            return 0
        box = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
        weights = self.pixel_weights(person)[box]
        used = int((weights > 0).sum())
        if used == 0:
            return 0
        labels, u, v = person.labels[box], person.u[box], person.v[box]
        colors = image_bgr[y0:y1, x0:x1]
        if self.supersample > 1:
            labels, u, v, weights, colors = _supersample(
                labels, u, v, weights, colors, self.supersample, self.tile
            )
        mask = weights > 0
        rows, cols = chart_texel_coordinates(labels[mask], u[mask], v[mask], self.tile)
        flat = rows * self.shape_hw[1] + cols  # int64
        size = self.shape_hw[0] * self.shape_hw[1]
        w_used = weights[mask].astype(np.float64)
        colors = colors[mask].astype(np.float64)
        for c in range(3):
            self.color_sum[..., c].flat += np.bincount(flat, colors[:, c] * w_used, size)
        self.weight_sum.flat += np.bincount(flat, w_used, size)
        self.views += 1
        return used

    def result(self, fill_distance: Optional[float] = None) -> ExtractedTexture:
        """The current atlas; `fill_distance` (texels, inf = whole tile) enables hole filling."""
        seen = self.weight_sum > 0
        mean = self.color_sum / np.maximum(self.weight_sum, 1e-12)[..., None]
        bgr = np.where(seen[..., None], np.clip(np.rint(mean), 0, 255), 0).astype(np.uint8)
        filled = np.zeros_like(seen)
        if fill_distance is not None and fill_distance > 0:
            bgr, filled = fill_holes(bgr, seen, self.tile, fill_distance)
        return ExtractedTexture(bgr, self.weight_sum.astype(np.float32), seen, filled)


def fill_holes(
    bgr: np.ndarray, known: np.ndarray, tile: int, max_distance: float = float("inf")
) -> tuple:
    """Inpaints (OpenCV Telea) the unknown texels within `max_distance` texels of known ones,
    tile by tile, so colours never cross from one part to another. Returns (bgr, filled)."""
    out = bgr.copy()
    filled = np.zeros_like(known)
    for part in range(1, ATLAS_ROWS * ATLAS_COLS + 1):
        rows, cols = tile_slices(part, tile)
        seen = known[rows, cols]
        if not seen.any() or seen.all():
            continue
        holes = ~seen
        if np.isfinite(max_distance):
            distance = cv2.distanceTransform(holes.astype(np.uint8), cv2.DIST_L2, 3)
            holes &= distance <= max_distance
        if not holes.any():
            continue
        patch = cv2.inpaint(
            np.ascontiguousarray(out[rows, cols]), holes.astype(np.uint8), 3, cv2.INPAINT_TELEA
        )
        out[rows, cols][holes] = patch[holes]
        filled[rows, cols][holes] = True
    return out, filled
