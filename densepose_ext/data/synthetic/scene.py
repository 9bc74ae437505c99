"""Scenes of several posed people over a textured background, rendered with dense ground truth.

Camera: orthographic. A person's body-frame point P (metres) lands at screen
x = tx + scale * P_x, y = ty - scale * P_y with depth = tz - scale * P_z, so a person with zero
yaw faces the camera (their left hand appears on the image's right). People are listed far to near.
"""

from dataclasses import dataclass, replace
from typing import List, Optional

import cv2
import numpy as np

from ...utils.raster import rasterize
from .body import DIM_LENGTH, BodyTemplate, sample_body_dims
from .keypoints import body_keypoints, keypoint_visibility
from .pose import mirror_pose, posed_vertices, rest_pose, sample_pose
from .textures import Appearance, random_background, sample_appearance, shade_people

__all__ = [
    "PersonSpec",
    "SceneSpec",
    "RenderedScene",
    "sample_scene",
    "mirror_scene",
    "render_scene",
]

BODY_HEIGHT = 1.7  # metres, approximate standing height of the mean body
_DEPTH_SEPARATION = 1e5  # screen depth between consecutive people (they never interpenetrate)


@dataclass
class PersonSpec:
    """One person: proportions [14, 8], pose [14, 3], scale (pixels per metre),
    pelvis at (tx, ty)."""

    dims: np.ndarray
    angles: np.ndarray
    scale: float
    tx: float
    ty: float
    appearance: Appearance


@dataclass
class SceneSpec:
    height: int
    width: int
    people: List[PersonSpec]  # far to near
    background: np.ndarray  # float32 [H, W, 3] RGB
    light: np.ndarray  # [3] unit vector (screen frame)
    noise_seed: int
    noise_sigma: float


@dataclass
class RenderedScene:
    """Rendered image and ground truth; maps are [H, W].

    `image` uint8 RGB [H, W, 3]; `person` int64 (-1 = background, else index in scene.people);
    `part` int64 fine part (0 = background); `u`, `v` float32 (0 on background);
    `vertex` int64 template vertex whose barycentric weight is largest (-1 = background);
    `depth` float64 screen depth of the visible surface (inf = background);
    `keypoints` float64 [P, 17, 3] per person (x, y, COCO visibility) in pixels, pixel centres at
    +0.5 (COCO files store x - 0.5, y - 0.5); see `keypoints.py`.
    """

    image: np.ndarray
    person: np.ndarray
    part: np.ndarray
    u: np.ndarray
    v: np.ndarray
    vertex: np.ndarray
    depth: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None


def sample_scene(rng: np.random.Generator, height: int, width: int) -> SceneSpec:
    """1-4 people with random proportions, poses, sizes, positions and outfits."""
    num_people = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.2, 0.15]))
    people = []
    for _ in range(num_people):
        person_height = rng.uniform(0.3, 1.0) * height
        people.append(
            PersonSpec(
                dims=sample_body_dims(rng),
                angles=sample_pose(rng),
                scale=person_height / BODY_HEIGHT,
                tx=rng.uniform(0.05, 0.95) * width,
                ty=rng.uniform(0.3, 0.8) * height,
                appearance=sample_appearance(rng),
            )
        )
    people.sort(key=lambda p: p.scale)
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.8, 0.2), -1.0])
    return SceneSpec(
        height=height,
        width=width,
        people=people,
        background=random_background(rng, height, width),
        light=light / np.linalg.norm(light),
        noise_seed=int(rng.integers(2**31)),
        noise_sigma=float(rng.uniform(0.0, 6.0)),
    )


def mirror_scene(scene: SceneSpec) -> SceneSpec:
    """The horizontally mirrored scene: mirrored poses, x -> W - x, mirrored background."""
    people = [replace(p, angles=mirror_pose(p.angles), tx=scene.width - p.tx) for p in scene.people]
    light = scene.light * np.array([-1.0, 1.0, 1.0])
    return replace(scene, people=people, background=scene.background[:, ::-1].copy(), light=light)


def _vertex_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals, [V, 3] (orientation irrelevant: shading uses |n.l|)."""
    tri = points[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # [F, 3]
    flat = faces.ravel()
    normals = np.stack(
        [
            np.bincount(flat, np.repeat(face_normals[:, k], 3), minlength=points.shape[0])
            for k in range(3)
        ],
        axis=1,
    )
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def _to_screen(body: np.ndarray, p: PersonSpec, k: int, num_people: int) -> np.ndarray:
    """Body-frame points [M, 3] of person `k` -> screen (x, y, depth) [M, 3]."""
    depth = _DEPTH_SEPARATION * (num_people - k) - p.scale * body[:, 2]
    return np.stack([p.tx + p.scale * body[:, 0], p.ty - p.scale * body[:, 1], depth], 1)


def _scene_geometry(template: BodyTemplate, scene: SceneSpec):
    """Concatenated screen vertices [P*N, 3] (x, y, depth), rest positions [P*N, 3], faces."""
    screen, rest, faces = [], [], []
    n = template.num_vertices
    for k, p in enumerate(scene.people):
        body = posed_vertices(template, p.dims, p.angles)
        screen.append(_to_screen(body, p, k, len(scene.people)))
        rest.append(posed_vertices(template, p.dims, rest_pose()))
        faces.append(template.faces + k * n)
    return np.concatenate(screen), np.concatenate(rest), np.concatenate(faces)


def render_scene(template: BodyTemplate, scene: SceneSpec) -> RenderedScene:
    """Rasterises all people together (mutual occlusion) and shades them over the background."""
    h, w, n = scene.height, scene.width, template.num_vertices
    image = scene.background.copy()
    person = np.full((h, w), -1, dtype=np.int64)
    part = np.zeros((h, w), dtype=np.int64)
    u = np.zeros((h, w), dtype=np.float32)
    v = np.zeros((h, w), dtype=np.float32)
    vertex = np.full((h, w), -1, dtype=np.int64)
    depth = np.full((h, w), np.inf)
    if scene.people:
        screen, rest, faces = _scene_geometry(template, scene)
        face_map, bary = rasterize(screen[:, :2], screen[:, 2], faces, h, w, cull=-1)
        fg = face_map >= 0
        face = face_map[fg]
        weights = bary[fg]  # [K, 3]
        corners = faces[face]  # [K, 3] global vertex ids
        person[fg] = corners[:, 0] // n
        part[fg] = template.part_ids[corners[:, 0] % n]
        u[fg] = np.einsum("kj,kj->k", weights, template.u[corners % n])
        v[fg] = np.einsum("kj,kj->k", weights, template.v[corners % n])
        vertex[fg] = corners[np.arange(corners.shape[0]), weights.argmax(axis=1)] % n
        depth[fg] = np.einsum("kj,kj->k", weights, screen[corners, 2])
        normals = _vertex_normals(screen, faces)
        pixel_normals = np.einsum("kj,kjc->kc", weights, normals[corners])
        pixel_normals /= np.maximum(np.linalg.norm(pixel_normals, axis=1, keepdims=True), 1e-12)
        image[fg] = shade_people(
            [p.appearance for p in scene.people],
            person[fg],
            part[fg],
            np.einsum("kj,kjc->kc", weights, rest[corners]),
            pixel_normals,
            np.array([p.dims[0, DIM_LENGTH] for p in scene.people]),
            scene.light,
        )
    image = cv2.GaussianBlur(image, (3, 3), 0.6)
    noise = np.random.default_rng(scene.noise_seed).standard_normal(image.shape, dtype=np.float32)
    image = np.clip(image + scene.noise_sigma * noise, 0, 255).astype(np.uint8)
    keypoints = np.zeros((len(scene.people), 17, 3))
    for k, p in enumerate(scene.people):
        body = body_keypoints(p.dims, p.angles)
        screen_kp = _to_screen(body, p, k, len(scene.people))
        keypoints[k, :, :2] = screen_kp[:, :2]
        keypoints[k, :, 2] = keypoint_visibility(screen_kp, k, p.scale, person, part, depth)
    return RenderedScene(
        image=image,
        person=person,
        part=part,
        u=u,
        v=v,
        vertex=vertex,
        depth=depth,
        keypoints=keypoints,
    )
