"""Synthetic video clips with exact ground truth: dense I/U/V, track ids and the true motion.

Layout of a video dataset directory `out`:

* `params.json`: generation parameters (a directory whose parameters match is reused);
* `body/`: the body files, as for still images (GPS surface data for the evaluator);
* `clips/clip_<c:03d>/` per clip, written to a temporary directory and renamed when complete:
  - `frames/<t:06d>.jpg`: the frames, each with its own sensor noise, gain and JPEG quality;
  - `clip.mp4`: the same frames as an mp4 (OpenCV `mp4v`: re-encoded, so not bit-identical);
  - `annotations.json`: DensePose-COCO annotations per frame (as for still images) plus
    `track_id` per person (1-based, constant over the clip) and `frame_index` per image;
  - `gt/<t:06d>.npz`: `track` uint8 [H, W] (0 = background, else track id), `part` uint8 (0..24),
    `u`, `v` float32, `flow` float32 [H, W, 2] and `flow_valid` bool [H, W] (see below);
  - `clip.json`: kind, frame count, frame rate, size, people, camera per frame.

`flow[r, c]` is the exact backward motion: the surface point seen at pixel centre (c + 0.5, r + 0.5)
of frame t was at (c + 0.5, r + 0.5) + flow[r, c] in frame t - 1. `flow_valid` is true where that
point was visible in frame t - 1 (inside the image, same person, not hidden by anything); frame 0
has no valid flow.
"""

import json
import os
import shutil
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .body import BodyTemplate
from .body_files import write_body_files
from .export import PERSON_CATEGORY, person_annotations
from .generate import body_template
from .motion import CLIP_KINDS, ClipSpec, sample_clip, scene_at
from .scene import RenderedScene, _scene_geometry, render_scene

__all__ = [
    "VideoParams",
    "ClipGroundTruth",
    "backward_motion",
    "render_clip",
    "generate_synthetic_video",
    "list_clips",
    "load_clip_ground_truth",
]

VIDEO_FORMAT_VERSION = 1
FRAME_RATE = 15.0
_MIN_AREA = 20  # person_annotations' default: people with fewer visible pixels get no annotation
_DEPTH_TOLERANCE = 0.03  # metres: a carried point this far behind the visible surface is hidden


@dataclass(frozen=True)
class VideoParams:
    num_clips: int
    num_frames: int = 24
    size: int = 256
    seed: int = 0
    jpeg_quality: Tuple[int, int] = (50, 90)  # per frame, uniform in [min, max]
    version: int = VIDEO_FORMAT_VERSION


@dataclass
class ClipGroundTruth:
    """Dense ground truth of one frame (see the module docstring for the fields)."""

    track: np.ndarray
    part: np.ndarray
    u: np.ndarray
    v: np.ndarray
    flow: np.ndarray
    flow_valid: np.ndarray


def _screen_points(template: BodyTemplate, scene, rendered: RenderedScene):
    """Where the surface points seen in `rendered` are in `scene`: (x, y, depth) [K, 3] for the
    foreground pixels (row-major order), and the person index of each."""
    screen, _, faces = _scene_geometry(template, scene)
    fg = rendered.face >= 0
    corners = faces[rendered.face[fg]]  # [K, 3]
    points = np.einsum("kj,kjc->kc", rendered.bary[fg].astype(np.float64), screen[corners])
    return points, corners[:, 0] // template.num_vertices


def backward_motion(
    template: BodyTemplate, rendered: RenderedScene, prev_scene, prev_rendered: RenderedScene
) -> Tuple[np.ndarray, np.ndarray]:
    """Exact motion of frame t's person pixels back to frame t - 1: flow [H, W, 2], valid [H, W].

    The scenes must list the same people in the same order (a clip's frames do).
    """
    h, w = rendered.part.shape
    flow = np.full((h, w, 2), np.nan, dtype=np.float32)
    valid = np.zeros((h, w), dtype=bool)
    fg = rendered.face >= 0
    if not fg.any():
        return flow, valid
    points, person = _screen_points(template, prev_scene, rendered)
    rows, cols = np.nonzero(fg)
    flow[rows, cols, 0] = points[:, 0] - (cols + 0.5)
    flow[rows, cols, 1] = points[:, 1] - (rows + 0.5)
    pr = np.floor(points[:, 1]).astype(np.int64)
    pc = np.floor(points[:, 0]).astype(np.int64)
    inside = (pr >= 0) & (pr < h) & (pc >= 0) & (pc < w)
    pr, pc = np.clip(pr, 0, h - 1), np.clip(pc, 0, w - 1)
    scales = np.array([p.scale for p in prev_scene.people])[person]
    seen = prev_rendered.person[pr, pc] == person
    close = points[:, 2] <= prev_rendered.depth[pr, pc] + _DEPTH_TOLERANCE * scales
    valid[rows, cols] = inside & seen & close
    return flow, valid


def _degrade(image: np.ndarray, rng: np.random.Generator, quality: Tuple[int, int]) -> bytes:
    """Per-frame gain flicker and JPEG compression (the sensor noise is added by the renderer)."""
    gain = rng.normal(1.0, 0.02)
    image = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    q = int(rng.integers(quality[0], quality[1] + 1))
    ok, data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return data.tobytes()


def render_clip(clip: ClipSpec):
    """Yields (scene, rendered, flow, flow_valid) for every frame of the clip."""
    template = body_template()
    prev_scene, prev = None, None
    for t in range(clip.num_frames):
        scene = scene_at(clip, t)
        rendered = render_scene(template, scene)
        if prev is None:
            h, w = rendered.part.shape
            flow = np.full((h, w, 2), np.nan, dtype=np.float32)
            valid = np.zeros((h, w), dtype=bool)
        else:
            flow, valid = backward_motion(template, rendered, prev_scene, prev)
        yield scene, rendered, flow, valid
        prev_scene, prev = scene, rendered


def _frame_annotations(rendered: RenderedScene, rng, mesh_name: str) -> List[Dict]:
    anns = person_annotations(rendered, rng, mesh_name, min_area=_MIN_AREA)
    areas = np.bincount(rendered.person[rendered.person >= 0], minlength=1)
    people = [k for k in range(areas.shape[0]) if areas[k] >= _MIN_AREA]
    if len(people) != len(anns):  # person_annotations keeps exactly the people with >= min_area
        raise RuntimeError(f"{len(anns)} annotations for {len(people)} visible people")
    for k, ann in zip(people, anns):
        ann["track_id"] = k + 1
    return anns


def _clip_info(clip: ClipSpec) -> Dict:
    return {
        "kind": clip.kind,
        "num_frames": clip.num_frames,
        "frame_rate": FRAME_RATE,
        "height": clip.height,
        "width": clip.width,
        "num_people": len(clip.walkers),
        "noise_sigma": clip.noise_sigma,
        "camera": [list(clip.camera.at(t)) for t in range(clip.num_frames)],  # cx, cy, zoom
    }


def _write_clip(clip: ClipSpec, out_dir: str, rng: np.random.Generator, params: VideoParams):
    """Writes one clip into `out_dir` (a fresh temporary directory)."""
    frame_dir, gt_dir = os.path.join(out_dir, "frames"), os.path.join(out_dir, "gt")
    os.makedirs(frame_dir)
    os.makedirs(gt_dir)
    mesh_name = body_template().mesh_name
    size = (clip.width, clip.height)
    video = cv2.VideoWriter(
        os.path.join(out_dir, "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FRAME_RATE, size
    )
    images, annotations = [], []
    try:
        for t, (_, rendered, flow, valid) in enumerate(render_clip(clip)):
            name = f"{t:06d}.jpg"
            data = _degrade(rendered.image, rng, params.jpeg_quality)
            with open(os.path.join(frame_dir, name), "wb") as f:
                f.write(data)
            video.write(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
            np.savez_compressed(
                os.path.join(gt_dir, f"{t:06d}.npz"),
                track=(rendered.person + 1).astype(np.uint8),
                part=rendered.part.astype(np.uint8),
                u=rendered.u,
                v=rendered.v,
                flow=flow,
                flow_valid=valid,
            )
            image_id = t + 1
            images.append(
                {
                    "id": image_id,
                    "file_name": name,
                    "height": clip.height,
                    "width": clip.width,
                    "frame_index": t,
                }
            )
            for ann in _frame_annotations(rendered, rng, mesh_name):
                annotations.append(dict(ann, id=len(annotations) + 1, image_id=image_id))
    finally:
        video.release()
    coco = {
        "info": {"description": "densepose_ext synthetic DensePose video", "version": "1"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(PERSON_CATEGORY)],
    }
    with open(os.path.join(out_dir, "annotations.json"), "w") as f:
        json.dump(coco, f, separators=(",", ":"))
    with open(os.path.join(out_dir, "clip.json"), "w") as f:
        json.dump(_clip_info(clip), f)


def list_clips(root: str) -> List[str]:
    """Complete clip directories of a video dataset, in order."""
    clips_dir = os.path.join(root, "clips")
    if not os.path.isdir(clips_dir):
        return []
    names = sorted(n for n in os.listdir(clips_dir) if n.startswith("clip_") and "." not in n)
    return [os.path.join(clips_dir, n) for n in names]


def _params_match(root: str, params: VideoParams) -> bool:
    path = os.path.join(root, "params.json")
    if not os.path.isfile(path):
        return False
    with open(path) as f:
        stored = json.load(f)
    return stored == json.loads(json.dumps(asdict(params)))


def generate_synthetic_video(
    out_dir: str,
    num_clips: int,
    num_frames: int = 24,
    size: int = 256,
    seed: int = 0,
    jpeg_quality: Tuple[int, int] = (50, 90),
    overwrite: bool = False,
) -> List[str]:
    """Generates (or reuses, when `params.json` matches) `num_clips` clips; returns their dirs.

    Clip c has kind `CLIP_KINDS[c % 4]` (walk, crossing, turn, pan_zoom) and is drawn from
    `np.random.default_rng([seed, c])` only. Each clip appears complete or not at all.
    """
    if num_clips < 1 or num_frames < 2:
        raise ValueError(f"need num_clips >= 1 and num_frames >= 2, got {num_clips}, {num_frames}")
    q0, q1 = (int(q) for q in jpeg_quality)
    if not 1 <= q0 <= q1 <= 100:
        raise ValueError(f"jpeg_quality={jpeg_quality} must be (min, max) in [1, 100]")
    params = VideoParams(num_clips, num_frames, size, seed, (q0, q1))
    clips = [os.path.join(out_dir, "clips", f"clip_{c:03d}") for c in range(num_clips)]
    if not overwrite and _params_match(out_dir, params) and all(map(os.path.isdir, clips)):
        return clips
    os.makedirs(os.path.join(out_dir, "clips"), exist_ok=True)
    params_file = os.path.join(out_dir, "params.json")
    if os.path.exists(params_file):
        os.remove(params_file)  # the directory is incomplete until all clips are rewritten
    write_body_files(os.path.join(out_dir, "body"), body_template())
    for c, clip_dir in enumerate(clips):
        rng = np.random.default_rng([seed, c])
        clip = sample_clip(rng, CLIP_KINDS[c % len(CLIP_KINDS)], size, size, num_frames)
        tmp = clip_dir + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _write_clip(clip, tmp, rng, params)
        shutil.rmtree(clip_dir, ignore_errors=True)
        os.replace(tmp, clip_dir)
    with open(params_file + ".tmp", "w") as f:
        json.dump(asdict(params), f)
    os.replace(params_file + ".tmp", params_file)
    return clips


def load_clip_ground_truth(clip_dir: str, frame_index: int) -> ClipGroundTruth:
    """Dense ground truth of one frame of a written clip."""
    path = os.path.join(clip_dir, "gt", f"{frame_index:06d}.npz")
    try:
        with np.load(path) as data:
            return ClipGroundTruth(**{k: data[k] for k in ClipGroundTruth.__dataclass_fields__})
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the frame's ground truth ({e})") from e


def clip_frame_paths(clip_dir: str) -> List[str]:
    """The clip's frame files, in order."""
    frame_dir = os.path.join(clip_dir, "frames")
    return [os.path.join(frame_dir, n) for n in sorted(os.listdir(frame_dir))]


def clip_info(clip_dir: str) -> Optional[Dict]:
    """The clip's `clip.json`."""
    with open(os.path.join(clip_dir, "clip.json")) as f:
        return json.load(f)
