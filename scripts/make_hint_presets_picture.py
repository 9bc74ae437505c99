#!/usr/bin/env python
"""Makes docs/images/hint_presets.png: a synthetic person, its `--preset magicanimate` and
`--preset civitai` hint images side by side, and under each preset its 24 part colours.

    python scripts/make_hint_presets_picture.py [--out docs/images/hint_presets.png]

The hint images are drawn from the exact part labels of the synthetic image (no model), so the
picture shows the presets themselves rather than a model's quality.
"""

import argparse
import os
import sys

import cv2
import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from densepose_ext.converters.prediction import ImagePrediction  # noqa: E402
from densepose_ext.data.synthetic import render_example  # noqa: E402
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences  # noqa: E402
from densepose_ext.vis.hint_image import HINT_PRESETS, HintImageRenderer, part_colours  # noqa: E402

SWATCH_HEIGHT = 24


def swatches(preset: str, width: int) -> np.ndarray:
    """A strip of the preset's colours for parts 1..24 (BGR), `width` pixels wide."""
    colours = part_colours(HINT_PRESETS[preset])[1:]  # [24, 3]
    columns = np.minimum(np.arange(width) * len(colours) // width, len(colours) - 1)
    return np.repeat(colours[columns][None], SWATCH_HEIGHT, axis=0)


def panels(index: int = 2, seed: int = 3, size: int = 256) -> np.ndarray:
    scene, _ = render_example(index, seed, size)
    h, w = scene.part.shape
    result = DensePoseChartResultWithConfidences(
        labels=torch.from_numpy(scene.part.astype(np.int64)), uv=torch.zeros(2, h, w)
    )
    prediction = ImagePrediction.from_results((h, w), [[0, 0, w, h]], [result])
    image = np.ascontiguousarray(scene.image[:, :, ::-1])  # RGB -> BGR
    columns = [np.concatenate([image, np.full((SWATCH_HEIGHT, w, 3), 255, np.uint8)])]
    for preset in ("magicanimate", "civitai"):
        hint = HintImageRenderer(preset)(image, prediction)
        columns.append(np.concatenate([hint, swatches(preset, w)]))
    return np.concatenate(columns, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images", "hint_presets.png"))
    args = parser.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, panels(), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({os.path.getsize(args.out) // 1024} KB)")


if __name__ == "__main__":
    main()
