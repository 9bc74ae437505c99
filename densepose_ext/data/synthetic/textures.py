"""Random backgrounds and clothing/skin appearance, so that colour does not encode I/U/V.

Colours are RGB float in [0, 255]. A person's appearance assigns each fine part to a clothing
region (skin, top, bottom, shoes, hair) according to a random outfit (sleeve and trouser lengths),
with random colours and stripe patterns that live on the body surface (functions of the rest-pose
3D position, hence continuous across part seams). A face (eyes, mouth) and a neckline mark the
front of the body, the cue photos give of which way a person faces.
"""

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Appearance", "sample_appearance", "random_background", "shade_people"]

SKIN, TOP, BOTTOM, SHOES, HAIR = range(5)
N_REGIONS = 5
# Front-of-body marks, in metres of the rest pose (Y measured from the neck): the eyes, mouth and
# neckline are what tells a person's front from their back, as faces and collars do in photos.
FACE_HAIRLINE = 0.15
EYE_HEIGHT, EYE_X, EYE_RADIUS = 0.105, 0.03, 0.014
MOUTH_HEIGHT, MOUTH_HALF_WIDTH, MOUTH_HALF_HEIGHT = 0.05, 0.025, 0.008
NECKLINE_DEPTH, NECKLINE_SLOPE = 0.12, 1.2


@dataclass
class Appearance:
    """Per person: `part_region` int64 [25] (fine part -> region), `colors` [5, 3],
    `stripe_dirs` [5, 2, 3] (cycles per metre along rest-pose directions), `stripe_amps` [5, 2],
    `stripe_phase` [5, 2], `hair_height` (metres above the neck where hair starts)."""

    part_region: np.ndarray
    colors: np.ndarray
    stripe_dirs: np.ndarray
    stripe_amps: np.ndarray
    stripe_phase: np.ndarray
    hair_height: float


def _random_color(rng: np.random.Generator, saturation=(0.1, 0.9), value=(0.15, 1.0)) -> np.ndarray:
    hsv = np.array(
        [[[rng.uniform(0, 180), rng.uniform(*saturation) * 255, rng.uniform(*value) * 255]]]
    )
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float64)


def _skin_color(rng: np.random.Generator) -> np.ndarray:
    dark, light = np.array([70.0, 45.0, 30.0]), np.array([240.0, 200.0, 175.0])
    t = rng.uniform()
    return dark + t * (light - dark) + rng.normal(0, 8, 3)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """A random outfit: sleeves none/short/long, shorts or trousers, shoes, hair length."""
    region = np.full(25, SKIN, dtype=np.int64)
    region[[1, 2]] = TOP
    sleeves = rng.integers(0, 3)  # 0 none, 1 short, 2 long
    if sleeves >= 1:
        region[[15, 16, 17, 18]] = TOP
    if sleeves == 2:
        region[[19, 20, 21, 22]] = TOP
    region[[7, 8, 9, 10]] = BOTTOM
    if rng.uniform() < 0.7:  # trousers
        region[[11, 12, 13, 14]] = BOTTOM
    region[[5, 6]] = SHOES if rng.uniform() < 0.9 else SKIN
    colors = np.stack(
        [
            _skin_color(rng),
            _random_color(rng),
            _random_color(rng),
            _random_color(rng, value=(0.05, 0.7)),
            _random_color(rng, (0.2, 0.7), (0.02, 0.5)),
        ]
    )
    directions = rng.normal(size=(N_REGIONS, 2, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    freqs = rng.uniform(4.0, 30.0, size=(N_REGIONS, 2, 1))
    amps = rng.uniform(0.0, 0.35, size=(N_REGIONS, 2)) * (rng.uniform(size=(N_REGIONS, 2)) < 0.6)
    amps[SKIN] *= 0.1
    return Appearance(
        part_region=region,
        colors=np.clip(colors, 0, 255),
        stripe_dirs=directions * freqs,
        stripe_amps=amps,
        stripe_phase=rng.uniform(0, 2 * np.pi, (N_REGIONS, 2)),
        hair_height=rng.uniform(0.05, 0.2) if rng.uniform() < 0.9 else 1.0,
    )


def random_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured background: smooth colour field, random shapes, fine noise; float32 [H, W, 3]."""
    coarse = rng.uniform(0, 255, size=(rng.integers(2, 7), rng.integers(2, 7), 3)).astype(
        np.float32
    )
    gray = coarse.mean(axis=2, keepdims=True)
    coarse = gray + rng.uniform(0.2, 1.0) * (coarse - gray)  # random saturation
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.integers(3, 12)):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        x, y = (int(c) for c in rng.integers(0, [width, height]))
        size = int(rng.integers(4, max(5, width // 3)))
        kind = rng.integers(0, 3)
        if kind == 0:
            cv2.rectangle(image, (x, y), (x + size, y + int(rng.integers(4, size + 5))), color, -1)
        elif kind == 1:
            cv2.circle(image, (x, y), size // 2, color, -1)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(image, (x, y), end, color, int(rng.integers(1, 6)))
    grain = rng.normal(0, 1, size=(max(height // 4, 1), max(width // 4, 1), 1)).astype(np.float32)
    image += cv2.resize(grain, (width, height))[:, :, None] * rng.uniform(0, 25)
    return np.clip(image, 0, 255)


def _face_marks(colors: np.ndarray, x: np.ndarray, above: np.ndarray) -> np.ndarray:
    """Darkens the eyes and the mouth on front-of-head pixels ([K, 3] colours, [K] positions)."""
    eyes = np.hypot(np.abs(x) - EYE_X, above - EYE_HEIGHT) < EYE_RADIUS
    mouth = (np.abs(x) < MOUTH_HALF_WIDTH) & (np.abs(above - MOUTH_HEIGHT) < MOUTH_HALF_HEIGHT)
    marked = colors.copy()
    marked[eyes] = (25.0, 20.0, 20.0)
    marked[mouth] = 0.45 * colors[mouth] + (60.0, 5.0, 5.0)
    return marked


def shade_people(appearances, person, part, rest_pos, normal, neck_height, light) -> np.ndarray:
    """Colours of foreground pixels, float32 [K, 3].

    Args (all [K] or [K, 3] over foreground pixels): person index, fine part, rest-pose position
    (metres, body frame), unit screen-space normal; `neck_height` [P] rest neck Y per person;
    `light` [3] unit light direction.
    """
    region = np.stack([a.part_region for a in appearances])[person, part]  # [K]
    hair_height = np.array([a.hair_height for a in appearances])[person]
    head = (part == 23) | (part == 24)
    x, above, z = rest_pos[:, 0], rest_pos[:, 1] - neck_height[person], rest_pos[:, 2]
    hair = head & ((above > hair_height + 0.03) | ((z < -0.01) & (above > 0.06)))
    hair &= (z < 0.02) | (above > FACE_HAIRLINE)  # the face is never covered
    region = np.where(hair, HAIR, region)
    neckline = (
        (part == 2) & (region == TOP) & (above > -(NECKLINE_DEPTH - NECKLINE_SLOPE * np.abs(x)))
    )
    region = np.where(neckline, SKIN, region)
    colors = np.stack([a.colors for a in appearances])[person, region]  # [K, 3]
    colors = np.where((head & (z > 0.0))[:, None], _face_marks(colors, x, above), colors)
    dirs = np.stack([a.stripe_dirs for a in appearances])[person, region]  # [K, 2, 3]
    amps = np.stack([a.stripe_amps for a in appearances])[person, region]  # [K, 2]
    phase = np.stack([a.stripe_phase for a in appearances])[person, region]
    waves = np.sin(2 * np.pi * np.einsum("kij,kj->ki", dirs, rest_pos) + phase)
    pattern = 1.0 + (amps * waves).sum(axis=1)
    lambert = np.abs(normal @ light)
    shade = 0.35 + 0.75 * lambert
    return (colors * (pattern * shade)[:, None]).astype(np.float32)
