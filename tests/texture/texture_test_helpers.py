"""Synthetic people whose clothes are a known atlas: exact ground truth for the texture tools."""

from dataclasses import replace

import cv2
import numpy as np

from densepose_ext.data.synthetic import body_template, render_scene, sample_scene
from densepose_ext.texture.people import people_from_maps
from densepose_ext.vis.texture_atlas import tile_slices


def smooth_atlas(tile: int, seed: int = 0, cells: int = 3) -> np.ndarray:
    """uint8 [6N, 4N, 3]: per tile an independent smooth colour field (cubic upsampling of a
    random cells x cells grid), so colours change slowly within a part and jump between parts."""
    rng = np.random.default_rng(seed)
    atlas = np.zeros((6 * tile, 4 * tile, 3), np.uint8)
    for part in range(1, 25):
        coarse = rng.uniform(30, 225, size=(cells, cells, 3)).astype(np.float32)
        atlas[tile_slices(part, tile)] = np.clip(
            cv2.resize(coarse, (tile, tile), interpolation=cv2.INTER_CUBIC), 0, 255
        ).astype(np.uint8)
    return atlas


def max_neighbour_step(atlas: np.ndarray, tile: int) -> float:
    """Largest colour difference between 4-neighbour texels of the same tile (levels)."""
    step = 0.0
    for part in range(1, 25):
        t = atlas[tile_slices(part, tile)].astype(np.float64)
        step = max(step, np.abs(np.diff(t, axis=0)).max(), np.abs(np.diff(t, axis=1)).max())
    return step


def sample_atlas_bilinear(atlas: np.ndarray, tile: int, part, u, v) -> np.ndarray:
    """float [K, 3]: the atlas at continuous chart points, texel j of a tile at U = j / (N-1)
    (what a renderer texturing the body with this atlas would show)."""
    part = np.asarray(part, np.int64)
    x = np.clip(u, 0, 1) * (tile - 1)
    y = (1 - np.clip(v, 0, 1)) * (tile - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), tile - 2)
    y0 = np.minimum(np.floor(y).astype(np.int64), tile - 2)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    row0 = ((part - 1) % 6) * tile + y0
    col0 = ((part - 1) // 6) * tile + x0
    a = atlas.astype(np.float64)
    return (
        a[row0, col0] * (1 - fy) * (1 - fx)
        + a[row0, col0 + 1] * (1 - fy) * fx
        + a[row0 + 1, col0] * fy * (1 - fx)
        + a[row0 + 1, col0 + 1] * fy * fx
    )


def render_person(seed: int, yaw: float, size: int = 160):
    """One synthetic person (body, pose, size from `seed`; facing direction `yaw`, radians) over a
    grey background: RenderedScene with exact part / U / V per pixel."""
    scene = sample_scene(np.random.default_rng(seed), size, size)
    person = scene.people[-1]
    angles = person.angles.copy()
    angles[0, 1] = yaw
    person = replace(person, angles=angles, scale=0.8 * size / 1.7, tx=size / 2, ty=size * 0.5)
    scene = replace(scene, people=[person], background=np.full((size, size, 3), 90.0, np.float32))
    return render_scene(body_template(), scene)


def textured_photo(rendered, atlas: np.ndarray, tile: int) -> np.ndarray:
    """BGR uint8 image of the rendered people wearing `atlas` (no shading, blur or noise)."""
    image = np.full(rendered.part.shape + (3,), 90, np.uint8)
    fg = rendered.part > 0
    colours = sample_atlas_bilinear(atlas, tile, rendered.part[fg], rendered.u[fg], rendered.v[fg])
    image[fg] = np.clip(np.rint(colours), 0, 255).astype(np.uint8)
    return image


def rendered_people(rendered):
    """PersonCharts of the renderer's ground truth (exact float U, V)."""
    return people_from_maps(rendered.person + 1, rendered.part, rendered.u, rendered.v)


def iuv_images(rendered):
    """(IUV uint8 [H, W, 3], INDS uint8 [H, W]) as apply_net dump --format iuv_png writes them."""
    iuv = np.zeros(rendered.part.shape + (3,), np.uint8)
    iuv[..., 0] = rendered.part
    iuv[..., 1] = np.clip(rendered.u * 255, 0, 255).astype(np.uint8)
    iuv[..., 2] = np.clip(rendered.v * 255, 0, 255).astype(np.uint8)
    return iuv, (rendered.person + 1).astype(np.uint8)
