"""A still photo with a full-image IUV map animated by a known camera motion (pan and zoom).

The clip is written in the layout of `video.py` (`frames/`, `gt/<t:06d>.npz`, `clip.json`; no
annotation file), so the video metrics read it like a synthetic clip. The motion is a similarity
per frame, so the backward flow is exact; the labels are the photo's IUV map warped with nearest
sampling, which is only as good as that map (for the DensePose demo photos: the original
DensePose-RCNN's output, not human annotation).
"""

import json
import os
import shutil
from typing import Tuple

import cv2
import numpy as np

from .video import FRAME_RATE

__all__ = ["photo_camera", "write_photo_clip"]


def photo_camera(
    photo_hw: Tuple[int, int], short_side: int, t: int, num_frames: int
) -> Tuple[np.ndarray, Tuple[int, int]]:
    """Photo -> frame affine [2, 3] at frame t (continuous coordinates) and the frame size (h, w).

    Frame 0 shows the whole photo scaled to `short_side`; over the clip the camera zooms in by
    15 % and pans by 5 % of the photo's width and 3 % of its height.
    """
    h, w = photo_hw
    base = short_side / min(h, w)
    size = (int(round(h * base)), int(round(w * base)))
    s = t / max(num_frames - 1, 1)
    zoom = base * (1.0 + 0.15 * s)
    cx, cy = w / 2.0 + 0.05 * w * s, h / 2.0 + 0.03 * h * s
    matrix = np.array(
        [[zoom, 0.0, size[1] / 2.0 - zoom * cx], [0.0, zoom, size[0] / 2.0 - zoom * cy]]
    )
    return matrix, size


def _warp(image: np.ndarray, matrix: np.ndarray, size, interpolation) -> np.ndarray:
    index_affine = matrix.copy()
    index_affine[:, 2] += 0.5 * matrix[0, 0] - 0.5  # centres at +0.5 -> OpenCV pixel indices
    return cv2.warpAffine(
        image, index_affine, (size[1], size[0]), flags=interpolation, borderMode=cv2.BORDER_REFLECT
    )


def _backward_flow(m_prev: np.ndarray, m_cur: np.ndarray, size) -> Tuple[np.ndarray, np.ndarray]:
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    zoom, shift = m_cur[0, 0], m_cur[:, 2]
    photo_x, photo_y = (xs - shift[0]) / zoom, (ys - shift[1]) / zoom
    prev_x = m_prev[0, 0] * photo_x + m_prev[0, 2]
    prev_y = m_prev[1, 1] * photo_y + m_prev[1, 2]
    flow = np.stack([prev_x - xs, prev_y - ys], axis=-1).astype(np.float32)
    valid = (prev_x >= 0) & (prev_x < w) & (prev_y >= 0) & (prev_y < h)
    return flow, valid


def write_photo_clip(
    image_path: str,
    iuv_path: str,
    inds_path: str,
    out_dir: str,
    num_frames: int = 24,
    short_side: int = 256,
    seed: int = 0,
    jpeg_quality: Tuple[int, int] = (50, 90),
) -> str:
    """Writes the animated photo to `out_dir` (complete or not at all); returns `out_dir`.

    `iuv_path`: IUV PNG (OpenCV channels I, U*255, V*255); `inds_path`: instance PNG (0 = none,
    k = person k), which becomes the track ids.
    """
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    iuv = cv2.imread(iuv_path, cv2.IMREAD_COLOR)
    inds = cv2.imread(inds_path, cv2.IMREAD_GRAYSCALE)
    for path, data in ((image_path, image), (iuv_path, iuv), (inds_path, inds)):
        if data is None:
            raise ValueError(f"{path}: cannot read the image")
    if iuv.shape[:2] != image.shape[:2] or inds.shape != image.shape[:2]:
        raise ValueError(f"{iuv_path}, {inds_path}: sizes differ from {image_path}")
    rng = np.random.default_rng(seed)
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "frames"))
    os.makedirs(os.path.join(tmp, "gt"))
    prev_matrix = None
    for t in range(num_frames):
        matrix, size = photo_camera(image.shape[:2], short_side, t, num_frames)
        frame = _warp(image, matrix, size, cv2.INTER_LINEAR)
        noise = rng.standard_normal(frame.shape).astype(np.float32) * 3.0
        frame = np.clip(frame.astype(np.float32) * rng.normal(1.0, 0.02) + noise, 0, 255)
        quality = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
        cv2.imwrite(
            os.path.join(tmp, "frames", f"{t:06d}.jpg"),
            frame.astype(np.uint8),
            [cv2.IMWRITE_JPEG_QUALITY, quality],
        )
        gt_iuv = _warp(iuv, matrix, size, cv2.INTER_NEAREST)
        if prev_matrix is None:
            flow = np.full(size + (2,), np.nan, dtype=np.float32)
            valid = np.zeros(size, dtype=bool)
        else:
            flow, valid = _backward_flow(prev_matrix, matrix, size)
        np.savez_compressed(
            os.path.join(tmp, "gt", f"{t:06d}.npz"),
            track=_warp(inds, matrix, size, cv2.INTER_NEAREST),
            part=gt_iuv[..., 0],
            u=gt_iuv[..., 1].astype(np.float32) / 255.0,
            v=gt_iuv[..., 2].astype(np.float32) / 255.0,
            flow=flow,
            flow_valid=valid,
        )
        prev_matrix = matrix
    info = {
        "kind": "photo",
        "source": os.path.basename(image_path),
        "num_frames": num_frames,
        "frame_rate": FRAME_RATE,
        "height": size[0],
        "width": size[1],
        "num_people": int(len(np.unique(inds[inds > 0]))),
    }
    with open(os.path.join(tmp, "clip.json"), "w") as f:
        json.dump(info, f)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir
