#!/usr/bin/env python
"""Makes docs/images/query_db_show.png: `query_db.py show` panels for one synthetic image.

Generates a small synthetic set (4 images of 256 x 256, seed 0) in a temporary directory,
registers it as `query_db_picture`, runs `query_db.py show` once per panel and puts the panels
side by side with their visualization names.

    python scripts/make_query_db_picture.py [--out docs/images/query_db_show.png] [--image-id 4]
"""

import argparse
import os
import sys
import tempfile

import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from densepose_ext.data.synthetic import (  # noqa: E402
    generate_synthetic_dataset,
    register_synthetic_dataset,
)
from densepose_ext.query.cli import main as query_db  # noqa: E402

PANELS = ["bbox,dp_segm", "dp_i", "dp_u", "dp_v", "dp_vertex"]


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, panel])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images", "query_db_show.png"))
    parser.add_argument("--image-id", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = generate_synthetic_dataset(os.path.join(tmp, "synth"), 4, size=256, seed=0)
        register_synthetic_dataset("query_db_picture", data.train_json, data.image_root, data.body)
        panels = []
        for k, names in enumerate(PANELS):
            out = os.path.join(tmp, f"panel{k}.png")
            selector = f"image_id:int={args.image_id}"
            rc = query_db(["show", "query_db_picture", selector, names, "--output", out])
            if rc != 0:
                raise SystemExit(f"query_db.py show failed for {names}")
            panels.append(_label(cv2.imread(os.path.join(tmp, f"panel{k}.0001.png")), names))
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    row = np.hstack([p for panel in panels for p in (panel, gap)][:-1])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, row)
    print(f"wrote {args.out} ({row.shape[1]}x{row.shape[0]})")


if __name__ == "__main__":
    main()
