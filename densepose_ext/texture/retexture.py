"""Re-texturing: dress detected people in a chart atlas, with opacity, shading and part subsets.

Each body pixel (part p, U, V) takes the atlas texel `chart_texel_coordinates` gives (the
`dp_iuv_texture` rule), blended with opacity = `opacity` x the texel's alpha. With
`keep_shading`, the texel colour is multiplied by the pixel's luminance over the mean luminance
of the person's pixels of the same part (clipped to [0, MAX_SHADING]): the original folds and
light stay visible under the new texture.
"""

from typing import Iterable, List, Optional, Sequence

import cv2
import numpy as np

from ..vis.base import blend_in_box
from ..vis.iuv_texture import chart_texel_coordinates
from ..vis.texture_atlas import TextureAtlas, atlas_tile_size
from .people import N_PARTS, PersonChart

__all__ = ["PART_GROUPS", "parse_parts", "people_order", "retexture"]

MAX_SHADING = 2.0
# DensePose's 24 parts: 1-2 torso, 3-4 hands, 5-6 feet, 7-14 legs, 15-22 arms, 23-24 head.
PART_GROUPS = {
    "all": tuple(range(1, 25)),
    "torso": (1, 2),
    "hands": (3, 4),
    "feet": (5, 6),
    "legs": tuple(range(7, 15)),
    "arms": tuple(range(15, 23)),
    "head": (23, 24),
    "clothes": (1, 2) + tuple(range(7, 23)),  # torso and limbs
}


def parse_parts(spec: Optional[str]) -> Optional[Sequence[int]]:
    """ "clothes", "torso,arms", "1,2,7-22" or a mix -> sorted part numbers (None: all parts)."""
    if spec is None or spec.strip() in ("", "all"):
        return None
    parts = set()
    for token in spec.split(","):
        token = token.strip().lower()
        if token in PART_GROUPS:
            parts.update(PART_GROUPS[token])
            continue
        try:
            if "-" in token:
                lo, hi = (int(t) for t in token.split("-"))
                parts.update(range(lo, hi + 1))
            else:
                parts.add(int(token))
        except ValueError:
            raise ValueError(
                f"unknown part {token!r}: use part numbers 1-24, ranges (7-22) or groups "
                f"({', '.join(PART_GROUPS)})"
            ) from None
    bad = sorted(p for p in parts if not 1 <= p <= N_PARTS)
    if bad:
        raise ValueError(f"part numbers must be in 1..24, got {bad}")
    return sorted(parts)


def _luminance(image_bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _shading_ratio(luma: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[K] luminance of the masked pixels over the mean luminance of their part."""
    part = labels[mask]
    values = luma[mask].astype(np.float64)
    sums = np.bincount(part, values, minlength=N_PARTS + 1)
    counts = np.bincount(part, minlength=N_PARTS + 1)
    means = sums / np.maximum(counts, 1)
    return np.clip(values / np.maximum(means[part], 1.0), 0.0, MAX_SHADING)


def retexture(
    image_bgr: np.ndarray,
    people: Iterable[PersonChart],
    atlas: TextureAtlas,
    opacity: float = 1.0,
    keep_shading: bool = False,
    parts: Optional[Sequence[int]] = None,
) -> np.ndarray:
    """A copy of `image_bgr` (uint8 [H, W, 3]) with `people` dressed in `atlas`; people are
    drawn in the given order (later ones on top)."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    tile = atlas_tile_size(atlas.shape_hw, atlas.source)
    canvas = np.ascontiguousarray(image_bgr.copy())
    luma = _luminance(image_bgr) if keep_shading else None
    allowed = np.zeros(N_PARTS + 1, dtype=bool)
    allowed[list(parts) if parts is not None else list(range(1, N_PARTS + 1))] = True
    for person in people:
        labels = np.where(person.foreground, person.labels, 0)
        mask = allowed[labels] & (labels > 0)
        if not mask.any():
            continue
        rows, cols = chart_texel_coordinates(labels[mask], person.u[mask], person.v[mask], tile)
        texels, alpha = atlas.sample(rows, cols)
        texels = texels.astype(np.float32)
        if luma is not None:
            x, y, w, h = person.box_xywh
            box_luma = _box_values(luma, (x, y, w, h))
            inside = mask & ~np.isnan(box_luma)
            ratio = np.ones(mask.sum(), dtype=np.float32)
            ratio[inside[mask]] = _shading_ratio(np.nan_to_num(box_luma), labels, inside)
            texels = np.clip(texels * ratio[:, None], 0.0, 255.0)
        overlay = np.zeros(labels.shape + (3,), dtype=np.float32)
        weight = np.zeros(labels.shape, dtype=np.float32)
        overlay[mask], weight[mask] = texels, alpha * opacity
        blend_in_box(canvas, person.box_xywh, overlay, mask, weight)
    return canvas


def _box_values(values: np.ndarray, box_xywh) -> np.ndarray:
    """float32 [h, w] of `values` [H, W] in the box; NaN where the box leaves the image."""
    x, y, w, h = (int(c) for c in box_xywh)
    out = np.full((h, w), np.nan, dtype=np.float32)
    height, width = values.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 > x0 and y1 > y0:
        out[y0 - y : y1 - y, x0 - x : x1 - x] = values[y0:y1, x0:x1]
    return out


def people_order(people: List[PersonChart]) -> List[PersonChart]:
    """Lowest score first, so that the best-scoring person ends up on top where people overlap."""
    return sorted(people, key=lambda p: p.score if p.score is not None else -p.index)
