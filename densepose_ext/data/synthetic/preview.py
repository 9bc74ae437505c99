"""Sample image and IUV visualisation of the synthetic data (used for docs/images).

python -m densepose_ext.data.synthetic.preview --out docs/images [--index 3 --seed 0]
python -m densepose_ext.data.synthetic.preview --out docs/images --video
"""

import argparse
import os

import cv2
import numpy as np

from .generate import render_example
from .scene import RenderedScene

__all__ = ["iuv_visualization", "flow_visualization", "video_preview"]


def iuv_visualization(rendered: RenderedScene) -> np.ndarray:
    """BGR uint8 [H, 3W, 3]: part index I,
    U and V side by side (JET colour maps, black background)."""
    fg = rendered.part > 0
    panels = []
    for values in (rendered.part / 24.0, rendered.u, rendered.v):
        panel = cv2.applyColorMap(np.clip(values * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
        panel[~fg] = 0
        panels.append(panel)
    return np.concatenate(panels, axis=1)


def flow_visualization(flow: np.ndarray, valid: np.ndarray, max_motion: float = 4.0) -> np.ndarray:
    """BGR uint8 [H, W, 3]: motion direction as hue, length as brightness (black: invalid)."""
    dx, dy = np.nan_to_num(flow[..., 0]), np.nan_to_num(flow[..., 1])
    hsv = np.zeros(flow.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * 179).astype(np.uint8)
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(np.hypot(dx, dy) / max_motion * 255, 40, 255).astype(np.uint8)
    hsv[~valid] = 0
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def video_preview(size: int = 192, num_frames: int = 24, seed: int = 0) -> np.ndarray:
    """One row per clip kind: 4 frames, the last frame's part index I and its backward motion."""
    from .motion import CLIP_KINDS, sample_clip
    from .video import render_clip

    rows = []
    for c, kind in enumerate(CLIP_KINDS):
        clip = sample_clip(np.random.default_rng([seed, c]), kind, size, size, num_frames)
        picks = set(np.linspace(0, num_frames - 1, 4).round().astype(int).tolist())
        frames = list(render_clip(clip))
        tiles = [frames[t][1].image[:, :, ::-1].copy() for t in sorted(picks)]
        _, last, flow, valid = frames[-1]
        tiles.append(iuv_visualization(last)[:, :size])
        tiles.append(flow_visualization(flow, valid))
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.data.synthetic.preview",
        description="Write a synthetic sample image and its IUV maps.",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--index", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--video", action="store_true", help="clip kinds: synthetic_video.jpg")
    args = parser.parse_args(argv)
    if args.video:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "synthetic_video.jpg")
        cv2.imwrite(path, video_preview(seed=args.seed), [cv2.IMWRITE_JPEG_QUALITY, 85])
        return
    rendered, _ = render_example(args.index, args.seed, args.size)
    os.makedirs(args.out, exist_ok=True)
    cv2.imwrite(os.path.join(args.out, "synthetic_sample.png"), rendered.image[:, :, ::-1])
    cv2.imwrite(os.path.join(args.out, "synthetic_sample_iuv.png"), iuv_visualization(rendered))


if __name__ == "__main__":
    main()
