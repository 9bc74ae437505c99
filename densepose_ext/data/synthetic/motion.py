"""Clips of moving people: walking gaits, turning, two people crossing, camera pan and zoom.

World frame: pixels of the clip's background canvas (x right, y down, centres at +0.5). A camera
with centre (cx, cy) and zoom z shows world point X at screen s = z * (X - c) + (W / 2, H / 2).
Frame t of a clip is an ordinary `SceneSpec`, so every frame is rendered (and its ground truth is
exact) as a still image is; people keep their index (= track) and depth order over the clip.
"""

from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from .body import SEGMENTS, sample_body_dims
from .pose import sample_pose
from .scene import BODY_HEIGHT, PersonSpec, SceneSpec
from .textures import Appearance, random_background, sample_appearance

__all__ = [
    "CLIP_KINDS",
    "Walker",
    "CameraPath",
    "ClipSpec",
    "sample_clip",
    "scene_at",
    "gait_pose",
    "camera_matrix",
]

CLIP_KINDS = ("walk", "crossing", "turn", "pan_zoom")
_SEG = {s.name: i for i, s in enumerate(SEGMENTS)}
_CANVAS = 1.6  # background canvas side / frame side: room for the camera to pan and zoom out


@dataclass
class Walker:
    """One person over a clip: pelvis at start + t * velocity (world px), yaw0 + t * yaw_rate."""

    dims: np.ndarray  # [14, 8]
    base_angles: np.ndarray  # [14, 3] small random offsets of the gait
    appearance: Appearance
    height: float  # world pixels
    start: Tuple[float, float]
    velocity: Tuple[float, float]  # world px / frame
    yaw0: float
    yaw_rate: float  # rad / frame
    gait_period: float  # frames per stride
    gait_phase: float
    stride: float  # hip swing amplitude, rad (0 = standing)


@dataclass
class CameraPath:
    """Camera centre c0 + t * pan (world px) and zoom zoom0 * zoom_rate ** t."""

    c0: Tuple[float, float]
    pan: Tuple[float, float]
    zoom0: float
    zoom_rate: float

    def at(self, t: int) -> Tuple[float, float, float]:
        z = self.zoom0 * self.zoom_rate**t
        return self.c0[0] + t * self.pan[0], self.c0[1] + t * self.pan[1], z


@dataclass
class ClipSpec:
    kind: str
    height: int
    width: int
    num_frames: int
    walkers: List[Walker]  # far to near, fixed over the clip
    camera: CameraPath
    background: np.ndarray  # float32 [Hc, Wc, 3] world canvas
    light: np.ndarray
    noise_sigma: float
    noise_seed: int


def gait_pose(walker: Walker, t: int) -> np.ndarray:
    """Joint angles [14, 3] at frame t: hips, knees, shoulders and elbows swing with the stride."""
    a = walker.base_angles.copy()
    phase = walker.gait_phase + 2.0 * np.pi * t / walker.gait_period
    s, c = np.sin(phase), np.cos(phase)
    a[0, 1] = walker.yaw0 + walker.yaw_rate * t
    a[_SEG["upper_leg_l"], 0] += -walker.stride * s  # x < 0 = forward flexion
    a[_SEG["upper_leg_r"], 0] += walker.stride * s
    a[_SEG["lower_leg_l"], 0] += 1.6 * walker.stride * max(0.0, c)  # knee bends in the swing
    a[_SEG["lower_leg_r"], 0] += 1.6 * walker.stride * max(0.0, -c)
    a[_SEG["upper_arm_l"], 0] += 0.7 * walker.stride * s  # arms swing against the legs
    a[_SEG["upper_arm_r"], 0] += -0.7 * walker.stride * s
    return a


def _walker(rng, height, start, velocity, yaw0, yaw_rate, stride) -> Walker:
    base = sample_pose(rng) * 0.15
    base[_SEG["upper_arm_l"], 2] = base[_SEG["upper_arm_r"], 2] = rng.uniform(0.1, 0.3)
    base[_SEG["lower_arm_l"], 0] = base[_SEG["lower_arm_r"], 0] = -rng.uniform(0.1, 0.5)
    return Walker(
        dims=sample_body_dims(rng),
        base_angles=base,
        appearance=sample_appearance(rng),
        height=height,
        start=start,
        velocity=velocity,
        yaw0=yaw0,
        yaw_rate=yaw_rate,
        gait_period=float(rng.uniform(14, 22)),
        gait_phase=float(rng.uniform(0, 2 * np.pi)),
        stride=stride,
    )


def _walkers(kind: str, rng, size: int, num_frames: int, centre) -> Tuple[List[Walker], tuple]:
    """People and camera motion (pan per frame, zoom rate) of one clip kind."""
    cx, cy = centre
    tall = lambda: float(rng.uniform(0.5, 0.75)) * size  # noqa: E731
    side = float(rng.choice([-1.0, 1.0]))
    speed = float(rng.uniform(1.5, 3.0))
    stride = lambda: float(rng.uniform(0.3, 0.5))  # noqa: E731
    if kind == "crossing":  # opposite directions, meeting at mid-clip; the second is in front
        meet = num_frames / 2.0
        speed = float(rng.uniform(3.5, 5.0))  # apart at the start, overlapping only mid-clip
        walkers = [
            _walker(
                rng,
                tall(),
                (cx - side * speed * meet, cy + rng.uniform(-0.05, 0.05) * size),
                (side * speed, 0.0),
                side * np.pi / 2,
                0.0,
                stride(),
            )
            for side in (side, -side)
        ]
        return walkers, ((0.0, 0.0), 1.0)
    if kind == "turn":  # turning on the spot by about half a turn, camera slowly zooming in
        turn = side * rng.uniform(0.6, 1.0) * np.pi / num_frames
        yaw0 = float(rng.uniform(-np.pi, np.pi))
        walkers = [_walker(rng, tall(), (cx, cy), (0.0, 0.0), yaw0, turn, 0.08)]
        return walkers, ((0.0, 0.0), float(rng.uniform(1.004, 1.012)))
    walkers = []
    for k in range(int(rng.integers(1, 3))):  # walk, pan_zoom: 1-2 people, not crossing
        x0 = cx + k * float(rng.choice([-1.0, 1.0])) * 0.35 * size  # apart, never meeting
        walkers.append(
            _walker(
                rng,
                tall(),
                (x0 - side * speed * num_frames / 2, cy + rng.uniform(-0.05, 0.05) * size),
                (side * speed * (1.0 if k == 0 else 0.8), 0.0),
                side * np.pi / 2 + rng.uniform(-0.4, 0.4),
                0.0,
                stride(),
            )
        )
    if kind == "pan_zoom":  # the camera follows the first person and zooms out
        return walkers, ((0.8 * side * speed, 0.0), float(rng.uniform(0.99, 0.996)))
    return walkers, ((0.0, 0.0), 1.0)


def sample_clip(
    rng: np.random.Generator, kind: str, height: int, width: int, num_frames: int
) -> ClipSpec:
    """A random clip of the given kind (one of `CLIP_KINDS`)."""
    if kind not in CLIP_KINDS:
        raise ValueError(f"unknown clip kind {kind!r}; expected one of {CLIP_KINDS}")
    canvas_h, canvas_w = int(round(_CANVAS * height)), int(round(_CANVAS * width))
    centre = (canvas_w / 2.0, canvas_h / 2.0 + 0.1 * height)
    walkers, (pan, zoom_rate) = _walkers(kind, rng, min(height, width), num_frames, centre)
    walkers.sort(key=lambda w: w.height)  # far (small) to near
    camera_start = (centre[0] - pan[0] * num_frames / 2, centre[1])
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.8, 0.2), -1.0])
    return ClipSpec(
        kind=kind,
        height=height,
        width=width,
        num_frames=num_frames,
        walkers=walkers,
        camera=CameraPath(camera_start, pan, 1.0, zoom_rate),
        background=random_background(rng, canvas_h, canvas_w),
        light=light / np.linalg.norm(light),
        noise_sigma=float(rng.uniform(3.0, 8.0)),
        noise_seed=int(rng.integers(2**31)),
    )


def camera_matrix(clip: ClipSpec, t: int) -> np.ndarray:
    """World -> screen affine [2, 3] at frame t (continuous coordinates, centres at +0.5)."""
    cx, cy, z = clip.camera.at(t)
    return np.array([[z, 0.0, clip.width / 2.0 - z * cx], [0.0, z, clip.height / 2.0 - z * cy]])


def scene_at(clip: ClipSpec, t: int) -> SceneSpec:
    """Frame t of the clip as a still scene (people in the clip's fixed order)."""
    m = camera_matrix(clip, t)
    zoom = m[0, 0]
    people = []
    for w in clip.walkers:
        pelvis = np.array([w.start[0] + t * w.velocity[0], w.start[1] + t * w.velocity[1], 1.0])
        tx, ty = m @ pelvis
        people.append(
            PersonSpec(
                dims=w.dims,
                angles=gait_pose(w, t),
                scale=zoom * w.height / BODY_HEIGHT,
                tx=float(tx),
                ty=float(ty),
                appearance=w.appearance,
            )
        )
    # continuous affine -> pixel-index affine for OpenCV: idx' = z * idx + b + 0.5 * z - 0.5
    index_affine = m.copy()
    index_affine[:, 2] += 0.5 * zoom - 0.5
    background = cv2.warpAffine(
        clip.background,
        index_affine,
        (clip.width, clip.height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    return SceneSpec(
        height=clip.height,
        width=clip.width,
        people=people,
        background=background,
        light=clip.light,
        noise_seed=int(np.random.default_rng([clip.noise_seed, t]).integers(2**31)),
        noise_sigma=clip.noise_sigma,
    )
