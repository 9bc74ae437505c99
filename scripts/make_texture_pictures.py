#!/usr/bin/env python
"""Makes the pictures of docs/texture.md with the texture command line on synthetic people.

    python scripts/make_texture_pictures.py [--out docs/images] [--work DIR]

`--work` (intermediate photos and IUV files) defaults to `output/texture_pictures` in the
repository (ignored by git).

No model: the DensePose results are the synthetic generator's exact I, U, V, written as
`apply_net dump --format iuv_png` files. Person A is rendered from four directions (photos
`a_0..3.png`); `extract` builds one atlas from them; `convert` puts it in SMPL layout; person B
(another body, pose and outfit) is dressed in it by `apply`.
"""

import argparse
import os
import sys
from dataclasses import replace

import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from densepose_ext.data.synthetic import body_template, render_scene, sample_scene  # noqa: E402
from densepose_ext.texture.cli import main as texture  # noqa: E402

SIZE = 256
PNG = [cv2.IMWRITE_PNG_COMPRESSION, 9]
TILE = 48
SHOWN = 176  # photos are shown at this size


def render_person(seed: int, yaw: float):
    """Synthetic person `seed` (body, pose, outfit) facing `yaw`, centred, 80 % of the height."""
    scene = sample_scene(np.random.default_rng(seed), SIZE, SIZE)
    person = scene.people[-1]
    angles = person.angles.copy()
    angles[0, 1] = yaw
    person = replace(person, angles=angles, scale=0.8 * SIZE / 1.7, tx=SIZE / 2, ty=SIZE * 0.48)
    return render_scene(body_template(), replace(scene, people=[person]))


def write_inputs(rendered, photo_dir: str, iuv_dir: str, stem: str) -> None:
    cv2.imwrite(os.path.join(photo_dir, stem + ".png"), rendered.image[:, :, ::-1])
    iuv = np.stack(
        [
            rendered.part.astype(np.uint8),
            np.clip(rendered.u * 255, 0, 255).astype(np.uint8),
            np.clip(rendered.v * 255, 0, 255).astype(np.uint8),
        ],
        axis=-1,
    )
    cv2.imwrite(os.path.join(iuv_dir, stem + "_IUV.png"), iuv)
    cv2.imwrite(os.path.join(iuv_dir, stem + "_INDS.png"), (rendered.person + 1).astype(np.uint8))


def on_grey(image_bgra: np.ndarray) -> np.ndarray:
    """Transparent texels shown dark grey (so that black texels stay visible)."""
    alpha = image_bgra[:, :, 3:4].astype(np.float32) / 255.0
    return (image_bgra[:, :, :3] * alpha + 40 * (1 - alpha)).astype(np.uint8)


def run(argv) -> None:
    status = texture(argv)
    if status != 0:
        raise SystemExit(f"texture {' '.join(argv)} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images"))
    parser.add_argument(
        "--work",
        default=os.path.join(REPO, "output", "texture_pictures"),
        help="directory for the intermediate photos and IUV files",
    )
    args = parser.parse_args()
    photos, iuv = os.path.join(args.work, "photos"), os.path.join(args.work, "iuv")
    for d in (photos, iuv, args.out):
        os.makedirs(d, exist_ok=True)
    for k, yaw in enumerate((0.0, np.pi / 2, np.pi, -np.pi / 2)):
        write_inputs(render_person(7, yaw), photos, iuv, f"a_{k}")
    person_b = render_person(12, 0.5)
    os.makedirs(os.path.join(args.work, "b"), exist_ok=True)
    write_inputs(person_b, os.path.join(args.work, "b"), iuv, "b")

    w = args.work
    common = ["--iuv-dir", iuv, "--tile", str(TILE), "--no-progress"]
    run(["extract", os.path.join(photos, "a_0.png"), "--output", f"{w}/one.png"] + common)
    run(["extract", photos, "--output", f"{w}/four.png", "--fill-holes", "4"] + common)
    run(["convert", f"{w}/four.png", f"{w}/four_smpl.png", "--size", "512"])
    b = os.path.join(w, "b", "b.png")
    shared = ["--iuv-dir", iuv, "--no-progress", "--texture", f"{w}/four.png"]
    run(["apply", b, "--output", f"{w}/b_all.png"] + shared)
    run(
        ["apply", b, "--output", f"{w}/b_clothes.png", "--parts", "clothes", "--keep-shading"]
        + shared
    )

    def read(path, flags=cv2.IMREAD_COLOR):
        return cv2.imread(path, flags)

    def small(image):
        return cv2.resize(image, (SHOWN, SHOWN), interpolation=cv2.INTER_AREA)

    a_views = np.hstack([small(read(os.path.join(photos, f"a_{k}.png"))) for k in range(4)])
    cv2.imwrite(os.path.join(args.out, "texture_photos.png"), a_views, PNG)
    one = on_grey(read(f"{w}/one.png", cv2.IMREAD_UNCHANGED))
    one_cov = cv2.cvtColor(read(f"{w}/one_coverage.png", cv2.IMREAD_UNCHANGED), cv2.COLOR_GRAY2BGR)
    four = on_grey(read(f"{w}/four.png", cv2.IMREAD_UNCHANGED))
    four_cov = cv2.cvtColor(
        read(f"{w}/four_coverage.png", cv2.IMREAD_UNCHANGED), cv2.COLOR_GRAY2BGR
    )
    gap = np.full((one.shape[0], 8, 3), 255, np.uint8)
    cv2.imwrite(
        os.path.join(args.out, "texture_atlas.png"),
        np.hstack([one, gap, one_cov, gap, four, gap, four_cov]),
        PNG,
    )
    smpl = on_grey(read(f"{w}/four_smpl.png", cv2.IMREAD_UNCHANGED))
    cv2.imwrite(
        os.path.join(args.out, "texture_smpl.png"),
        cv2.resize(smpl, (320, 320), interpolation=cv2.INTER_AREA),
        PNG,
    )
    cv2.imwrite(
        os.path.join(args.out, "texture_apply.png"),
        np.hstack([small(read(p)) for p in (b, f"{w}/b_all.0001.png", f"{w}/b_clothes.0001.png")]),
        PNG,
    )
    print("wrote texture_{photos,atlas,smpl,apply}.png to", args.out)


if __name__ == "__main__":
    main()
