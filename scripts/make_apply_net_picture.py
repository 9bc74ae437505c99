#!/usr/bin/env python
"""Makes docs/images/apply_net_show.png: an input image and `apply_net.py show` panels side by side.

    python scripts/make_apply_net_picture.py CONFIG MODEL IMAGE [--out
    docs/images/apply_net_show.png]
    python scripts/make_apply_net_picture.py --synthetic-ground-truth [--out ...]

Each panel is the output of one `show` run (bbox,dp_segm / dp_u / dp_contour / dp_iuv_texture
with the SURREAL atlas from the cache of scripts/get_test_data.sh when present). With
--synthetic-ground-truth no model is used: the same visualizers draw the exact I/U/V of a
synthetic image (docs/images/apply_net_visualizers_gt.png).
"""

import argparse
import os
import sys
import tempfile

import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from densepose_ext.apply import main as apply_net  # noqa: E402

ATLAS = os.path.join(
    os.environ.get(
        "DENSEPOSE_EXT_TEST_DATA", os.path.expanduser("~/.cache/densepose_ext/test_data")
    ),
    "textures",
    "texture_from_SURREAL.png",
)
PANELS = ["bbox,dp_segm", "dp_u", "dp_contour", "dp_iuv_texture"]


def ground_truth_panels(index: int = 2, seed: int = 3, size: int = 256) -> list:
    """Synthetic image `index` and the visualizers applied to its exact I, U, V (one box)."""
    import torch

    from densepose_ext.data.synthetic import render_example
    from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences
    from densepose_ext.vis import ImagePrediction, VisOptions, build_visualizer

    scene, _ = render_example(index, seed, size)
    h, w = scene.part.shape
    uv = torch.from_numpy(np.stack([scene.u, scene.v]).astype(np.float32))
    result = DensePoseChartResultWithConfidences(labels=torch.from_numpy(scene.part), uv=uv)
    prediction = ImagePrediction.from_results((h, w), [[0, 0, w, h]], [result])
    image = np.ascontiguousarray(scene.image[:, :, ::-1])  # RGB -> BGR
    options = VisOptions(texture_atlas=ATLAS if os.path.isfile(ATLAS) else None)
    names = ["dp_segm", "dp_u", "dp_contour"] + (
        ["dp_iuv_texture"] if options.texture_atlas else []
    )
    return [image] + [build_visualizer(n, options)(image, prediction) for n in names]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?")
    parser.add_argument("model", nargs="?")
    parser.add_argument("image", nargs="?")
    parser.add_argument("--synthetic-ground-truth", action="store_true")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images", "apply_net_show.png"))
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    if args.synthetic_ground_truth:
        write_picture(args.out, ground_truth_panels())
        return
    if not (args.config and args.model and args.image):
        parser.error("CONFIG MODEL IMAGE are required (or --synthetic-ground-truth)")
    panels = [cv2.imread(args.image)]
    work = tempfile.mkdtemp(prefix="apply_net_picture_")
    for k, visualizations in enumerate(PANELS):
        if visualizations == "dp_iuv_texture" and not os.path.isfile(ATLAS):
            continue
        output = os.path.join(work, f"panel{k}.png")
        argv = [
            "show",
            args.config,
            args.model,
            args.image,
            visualizations,
            "--output",
            output,
            "--texture_atlas",
            ATLAS,
            "--no-progress",
            "--opts",
            *args.opts,
        ]
        if apply_net(argv) != 0:
            raise SystemExit(f"apply_net show {visualizations} failed")
        panels.append(cv2.imread(os.path.join(work, f"panel{k}.0001.png")))
    write_picture(args.out, panels)


def write_picture(path: str, panels: list) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    cv2.imwrite(path, np.concatenate(panels, axis=1), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KB)")


if __name__ == "__main__":
    main()
