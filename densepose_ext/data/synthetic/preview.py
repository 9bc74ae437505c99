"""Sample image and IUV visualisation of the synthetic data (used for docs/images).

python -m densepose_ext.data.synthetic.preview --out docs/images [--index 3 --seed 0]
"""

import argparse
import os

import cv2
import numpy as np

from .generate import render_example
from .scene import RenderedScene

__all__ = ["iuv_visualization"]


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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.data.synthetic.preview",
        description="Write a synthetic sample image and its IUV maps.",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--index", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args(argv)
    rendered, _ = render_example(args.index, args.seed, args.size)
    os.makedirs(args.out, exist_ok=True)
    cv2.imwrite(os.path.join(args.out, "synthetic_sample.png"), rendered.image[:, :, ::-1])
    cv2.imwrite(os.path.join(args.out, "synthetic_sample_iuv.png"), iuv_visualization(rendered))


if __name__ == "__main__":
    main()
