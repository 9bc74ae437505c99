"""`python -m densepose_ext.texture` end to end on synthetic people (IUV PNGs, dump pickles)."""

import cv2
import numpy as np
import pytest
import torch
from texture_test_helpers import (
    iuv_images,
    max_neighbour_step,
    render_person,
    smooth_atlas,
    textured_photo,
)

from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences
from densepose_ext.texture.cli import main

TILE = 48


@pytest.fixture(scope="module")
def scenes():
    atlas = smooth_atlas(TILE, seed=1)
    renders = [render_person(seed=5, yaw=yaw) for yaw in (0.0, np.pi)]
    return atlas, renders


def _write_iuv(directory, stem, rendered, inds=True):
    iuv, instances = iuv_images(rendered)
    cv2.imwrite(str(directory / f"{stem}_IUV.png"), iuv)
    if inds:
        cv2.imwrite(str(directory / f"{stem}_INDS.png"), instances)


def test_extract_from_iuv_pngs_skips_a_bad_image(tmp_path, scenes, capsys):
    atlas, (front, back) = scenes
    images, iuv_dir = tmp_path / "images", tmp_path / "iuv"
    images.mkdir(), iuv_dir.mkdir()
    for name, rendered in (("a", front), ("b", back), ("c", front)):
        cv2.imwrite(str(images / f"{name}.png"), textured_photo(rendered, atlas, TILE))
    _write_iuv(iuv_dir, "a", front)
    _write_iuv(iuv_dir, "b", back)
    _write_iuv(iuv_dir, "c", front, inds=False)  # the bad item
    out = tmp_path / "out" / "atlas.png"
    argv = ["extract", str(images), "--iuv-dir", str(iuv_dir), "--output", str(out)]
    assert (
        main(argv + ["--tile", str(TILE), "--no-progress", "--smpl", str(tmp_path / "s.png")]) == 0
    )
    err = capsys.readouterr().err
    assert "c_IUV.png" in err and "no instance map" in err and "processed 2 item(s)" in err
    extracted = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert extracted.shape == (6 * TILE, 4 * TILE, 4)
    seen = extracted[..., 3] > 0
    coverage = cv2.imread(str(tmp_path / "out" / "atlas_coverage.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(coverage == 255, seen) and seen.mean() > 0.05
    error = np.abs(extracted[..., :3].astype(float) - atlas.astype(float))[seen]
    # supersampled (6 steps, see test_extract) and U, V quantised to 1/255: (N-1)/255 < 0.2 texel
    assert error.max() <= 7 * max_neighbour_step(atlas, TILE) and error.mean() < 6
    smpl = cv2.imread(str(tmp_path / "s.png"), cv2.IMREAD_UNCHANGED)
    assert smpl.shape == (1024, 1024, 4) and (smpl[..., 3] > 0).any()


def test_extract_from_a_dump_pickle_all_instances(tmp_path, scenes, capsys):
    atlas, (front, back) = scenes
    records = []
    for name, rendered in (("a", front), ("b", back)):
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), textured_photo(rendered, atlas, TILE))
        fg = rendered.part > 0
        rows, cols = np.nonzero(fg)
        y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        crop = (slice(y0, y1), slice(x0, x1))
        result = DensePoseChartResultWithConfidences(
            labels=torch.as_tensor(rendered.part[crop]),
            uv=torch.as_tensor(np.stack([rendered.u[crop], rendered.v[crop]])),
        )
        records.append(
            {
                "file_name": str(path),
                "scores": torch.tensor([0.9]),
                "pred_boxes_XYXY": torch.tensor([[x0, y0, x1, y1]], dtype=torch.float32),
                "pred_densepose": [result],
            }
        )
    torch.save(records, tmp_path / "results.pkl")
    out = tmp_path / "t.png"
    argv = ["extract", "--dump", str(tmp_path / "results.pkl"), "--output", str(out)]
    assert main(argv + ["--tile", str(TILE), "--instance", "all", "--no-progress"]) == 0
    extracted = cv2.imread(str(tmp_path / "t.person1.png"), cv2.IMREAD_UNCHANGED)
    seen = extracted[..., 3] > 0
    error = np.abs(extracted[..., :3].astype(float) - atlas.astype(float))[seen]
    assert error.max() <= 6 * max_neighbour_step(atlas, TILE) + 0.5
    assert (tmp_path / "t.person1_coverage.png").is_file()


def test_extract_without_anybody_fails(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "x.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "iuv").mkdir()
    cv2.imwrite(str(tmp_path / "iuv" / "x_IUV.png"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "iuv" / "x_INDS.png"), np.zeros((8, 8), np.uint8))
    argv = ["extract", str(tmp_path / "x.png"), "--iuv-dir", str(tmp_path / "iuv")]
    assert main(argv + ["--output", str(tmp_path / "t.png"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "no person found in" in err and "x.png" in err
    assert not (tmp_path / "t.png").exists()


def test_convert_both_ways_and_bad_size(tmp_path, capsys):
    atlas = smooth_atlas(32, seed=4)
    cv2.imwrite(str(tmp_path / "atlas.png"), atlas)
    assert (
        main(["convert", str(tmp_path / "atlas.png"), str(tmp_path / "smpl.png"), "--size", "256"])
        == 0
    )
    smpl = cv2.imread(str(tmp_path / "smpl.png"), cv2.IMREAD_UNCHANGED)
    assert smpl.shape == (256, 256, 4)
    assert main(["convert", str(tmp_path / "smpl.png"), str(tmp_path / "back.png")]) == 0
    assert cv2.imread(str(tmp_path / "back.png"), cv2.IMREAD_UNCHANGED).shape == (1200, 800, 4)
    cv2.imwrite(str(tmp_path / "odd.png"), np.ones((100, 70, 3), np.uint8))
    assert main(["convert", str(tmp_path / "odd.png"), str(tmp_path / "o.png")]) == 1
    err = capsys.readouterr().err
    assert "odd.png" in err and "100x70" in err and "6 rows x 4 columns" in err


def test_apply_to_a_video_skips_a_bad_frame(tmp_path, scenes, capsys):
    atlas, (front, _) = scenes
    video = tmp_path / "clip.avi"
    photo = textured_photo(front, atlas, TILE)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, photo.shape[1::-1])
    for _ in range(3):
        writer.write(photo)
    writer.release()
    iuv_dir = tmp_path / "iuv"
    iuv_dir.mkdir()
    _write_iuv(iuv_dir, "clip_000000", front)
    _write_iuv(iuv_dir, "clip_000002", front)  # frame 1 has no results
    red = np.zeros((6 * 16, 4 * 16, 3), np.uint8)
    red[..., 2] = 255
    cv2.imwrite(str(tmp_path / "red.png"), red)
    argv = ["apply", str(video), "--iuv-dir", str(iuv_dir), "--texture", str(tmp_path / "red.png")]
    assert main(argv + ["--output", str(tmp_path / "out.avi"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "frame 1" in err and "clip_000001_IUV.png" in err and "processed 2 item(s)" in err
    capture = cv2.VideoCapture(str(tmp_path / "out.0001.avi"))
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        ok, frame = capture.read()
    capture.release()
    assert len(frames) == 3
    body = front.part > 0
    redness = [float(f[body][:, 2].mean()) - float(f[body][:, :2].mean()) for f in frames]
    assert redness[0] > 150 and redness[2] > 150 and redness[1] < 100  # frame 1 left as it was


def test_apply_with_an_smpl_texture_and_bad_atlas(tmp_path, scenes, capsys):
    atlas, (front, _) = scenes
    cv2.imwrite(str(tmp_path / "p.png"), textured_photo(front, atlas, TILE))
    (tmp_path / "iuv").mkdir()
    _write_iuv(tmp_path / "iuv", "p", front)
    green = np.zeros((128, 128, 3), np.uint8)
    green[..., 1] = 255
    cv2.imwrite(str(tmp_path / "smpl.png"), green)
    argv = ["apply", str(tmp_path / "p.png"), "--iuv-dir", str(tmp_path / "iuv"), "--no-progress"]
    out = str(tmp_path / "o.png")
    assert main(argv + ["--texture", str(tmp_path / "smpl.png"), "--output", out]) == 0
    dressed = cv2.imread(str(tmp_path / "o.0001.png"))
    body = front.part > 0
    assert dressed[body][:, 1].mean() > 200 and dressed[body][:, 2].mean() < 30
    cv2.imwrite(str(tmp_path / "bad.png"), np.ones((90, 70, 3), np.uint8))
    assert main(argv + ["--texture", str(tmp_path / "bad.png"), "--output", out]) == 1
    assert "bad.png" in capsys.readouterr().err
