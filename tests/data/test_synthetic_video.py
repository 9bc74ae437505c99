"""Synthetic video clips: exact motion ground truth, track ids, per-frame degradation, files."""

import json
import os
from dataclasses import replace

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_util

from densepose_ext.data.synthetic.generate import body_template
from densepose_ext.data.synthetic.motion import CameraPath, sample_clip, scene_at
from densepose_ext.data.synthetic.scene import render_scene
from densepose_ext.data.synthetic.video import (
    clip_frame_paths,
    generate_synthetic_video,
    list_clips,
    load_clip_ground_truth,
    render_clip,
)

SIZE = 96


def _still_clip(seed: int, num_people: int = 1, num_frames: int = 3, kind: str = "walk"):
    """A clip whose people do not change pose (no stride, no turning) and stand still."""
    clip = sample_clip(np.random.default_rng(seed), kind, SIZE, SIZE, num_frames)
    walkers = [replace(w, stride=0.0, yaw_rate=0.0, velocity=(0.0, 0.0)) for w in clip.walkers][
        :num_people
    ]
    assert len(walkers) == num_people
    camera = CameraPath(clip.camera.c0, (0.0, 0.0), 1.0, 1.0)
    return replace(clip, walkers=walkers, camera=camera)


def _frames(clip):
    return list(render_clip(clip))


def _centre_person(clip):
    cx, cy, _ = clip.camera.at(0)
    (w,) = clip.walkers
    return replace(w, start=(cx, cy + 0.1 * SIZE), height=0.6 * SIZE)


@pytest.mark.parametrize("shift", [(3.0, 0.0), (-2.0, 1.0)])
def test_integer_translation_moves_the_ground_truth_exactly(shift):
    """A rigid person moving by whole pixels: every label moves by exactly that, flow = -shift."""
    clip = _still_clip(0)
    clip = replace(clip, walkers=[replace(_centre_person(clip), velocity=shift)])
    (_, prev, _, _), (_, cur, flow, valid) = _frames(clip)[:2]
    dx, dy = int(shift[0]), int(shift[1])
    fg = cur.part > 0
    assert fg.sum() > 200 and valid[fg].mean() > 0.99 and not valid[~fg].any()
    np.testing.assert_allclose(flow[valid], np.tile([-dx, -dy], (int(valid.sum()), 1)), atol=1e-4)
    moved = np.roll(prev.part, (dy, dx), axis=(0, 1))
    np.testing.assert_array_equal(cur.part, moved)  # the person is far from the border
    np.testing.assert_allclose(cur.u, np.roll(prev.u, (dy, dx), axis=(0, 1)), atol=1e-5)
    np.testing.assert_allclose(cur.v, np.roll(prev.v, (dy, dx), axis=(0, 1)), atol=1e-5)


def test_camera_pan_and_zoom_flow_is_the_camera_motion():
    """A still person filmed by a panning, zooming camera: the flow is the inverse camera map."""
    clip = _still_clip(1)
    pan, rate = (1.5, -0.5), 1.02
    clip = replace(
        clip,
        walkers=[_centre_person(clip)],
        camera=CameraPath(clip.camera.c0, pan, 1.0, rate),
    )
    frames = _frames(clip)
    for t in (1, 2):
        _, _, flow, valid = frames[t]
        cx, cy, z = clip.camera.at(t)
        rows, cols = np.nonzero(valid)
        x, y = cols + 0.5, rows + 0.5
        world_x, world_y = cx + (x - SIZE / 2) / z, cy + (y - SIZE / 2) / z
        px, py, pz = clip.camera.at(t - 1)
        expected = np.stack(
            [pz * (world_x - px) + SIZE / 2 - x, pz * (world_y - py) + SIZE / 2 - y], 1
        )
        assert valid.sum() > 200
        np.testing.assert_allclose(flow[rows, cols], expected, atol=1e-4)


def test_occluded_points_have_no_valid_motion():
    """Two still people, the front one stepping over the back one: the back person's pixels that
    were hidden in the previous frame are invalid, the others keep a zero flow."""
    clip = _still_clip(2, num_people=2, kind="crossing")
    back, front = clip.walkers
    cx, cy, _ = clip.camera.at(0)
    place = dict(height=0.6 * SIZE, yaw0=0.0)  # facing the camera: wide
    back = replace(back, start=(cx, cy + 0.1 * SIZE), **place)
    front = replace(front, start=(cx - 8, cy + 0.1 * SIZE), velocity=(4.0, 0.0), **place)
    (_, prev, _, _), (_, cur, flow, valid) = _frames(replace(clip, walkers=[back, front]))[:2]
    back_now = cur.person == 0
    was_hidden = back_now & (prev.person == 1)
    assert was_hidden.sum() > 20
    assert not valid[was_hidden].any()
    shown = back_now & (prev.person == 0)
    assert valid[shown].mean() > 0.99
    np.testing.assert_allclose(flow[shown & valid], 0.0, atol=1e-4)
    front_now = cur.person == 1
    np.testing.assert_allclose(flow[front_now & valid][:, 0], -4.0, atol=1e-4)


@pytest.mark.parametrize("kind", ["crossing", "turn"])
def test_flow_carries_the_surface_point_under_articulated_motion(kind):
    """Walking and turning: the carried point lands on the same person, mostly the same part and
    (u, v) up to the pixel grid (the nearest pixel of the landing point is compared), far better
    than the same test with the flow off by one pixel."""
    clip = sample_clip(np.random.default_rng(3), kind, 160, 160, 4)
    frames = _frames(clip)

    def carried(prev, cur, flow, valid, offset):
        rows, cols = np.nonzero(valid)
        pr = np.floor(rows + 0.5 + flow[rows, cols, 1]).astype(np.int64)
        pc = np.clip(np.floor(cols + 0.5 + flow[rows, cols, 0]).astype(np.int64) + offset, 0, 159)
        same_part = prev.part[pr, pc] == cur.part[rows, cols]
        du = np.abs(prev.u[pr, pc] - cur.u[rows, cols])[same_part]
        return same_part.mean(), np.median(du), prev.person[pr, pc] == cur.person[rows, cols]

    for t in range(1, 4):
        prev, (_, cur, flow, valid) = frames[t - 1][1], frames[t]
        assert valid.sum() > 300
        same, du, same_person = carried(prev, cur, flow, valid, 0)
        assert same > 0.9 and du < 0.05 and same_person.all()
        off_same, off_du, _ = carried(prev, cur, flow, valid, 1)
        assert 1 - same < 0.6 * (1 - off_same) and du < 0.8 * off_du


def test_frames_are_scenes_and_flicker_only_in_the_image():
    """Each frame is the still render of its scene; a motionless clip keeps its ground truth but
    every frame gets its own noise."""
    clip = _still_clip(4)
    frames = _frames(clip)
    template = body_template()
    for t, (_, rendered, _, _) in enumerate(frames):
        again = render_scene(template, scene_at(clip, t))
        np.testing.assert_array_equal(again.image, rendered.image)
        np.testing.assert_array_equal(again.part, frames[0][1].part)
        np.testing.assert_array_equal(again.u, frames[0][1].u)
    assert not np.array_equal(frames[0][1].image, frames[1][1].image)


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("video"))
    generate_synthetic_video(root, num_clips=2, num_frames=3, size=SIZE, seed=5)
    return root


def test_written_clips_match_their_ground_truth(video_dir):
    clips = list_clips(video_dir)
    assert [os.path.basename(c) for c in clips] == ["clip_000", "clip_001"]
    for clip_dir in clips:
        with open(os.path.join(clip_dir, "annotations.json")) as f:
            coco = json.load(f)
        with open(os.path.join(clip_dir, "clip.json")) as f:
            info = json.load(f)
        assert info["num_frames"] == 3 and len(coco["images"]) == 3
        paths = clip_frame_paths(clip_dir)
        assert [os.path.basename(p) for p in paths] == [i["file_name"] for i in coco["images"]]
        capture = cv2.VideoCapture(os.path.join(clip_dir, "clip.mp4"))
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
        capture.release()
        tracks = set()
        for image in coco["images"]:
            t = image["frame_index"]
            gt = load_clip_ground_truth(clip_dir, t)
            assert cv2.imread(paths[t]).shape == (SIZE, SIZE, 3)
            assert np.isnan(gt.flow).all() == (t == 0)
            anns = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
            for ann in anns:
                mask = mask_util.decode(ann["segmentation"]).astype(bool)
                np.testing.assert_array_equal(mask, gt.track == ann["track_id"])
                tracks.add(ann["track_id"])
                if "dp_x" in ann:
                    x0, y0, w, h = ann["bbox"]
                    cols = np.floor(x0 + np.array(ann["dp_x"]) * w / 256).astype(np.int64)
                    rows = np.floor(y0 + np.array(ann["dp_y"]) * h / 256).astype(np.int64)
                    np.testing.assert_array_equal(gt.part[rows, cols], ann["dp_I"])
                    np.testing.assert_allclose(gt.u[rows, cols], ann["dp_U"], atol=1e-4)
        assert tracks == set(range(1, info["num_people"] + 1))


def test_generation_is_reused_and_validated(video_dir, tmp_path):
    clip_dir = list_clips(video_dir)[0]
    stamp = os.path.getmtime(os.path.join(clip_dir, "annotations.json"))
    generate_synthetic_video(video_dir, num_clips=2, num_frames=3, size=SIZE, seed=5)
    assert os.path.getmtime(os.path.join(clip_dir, "annotations.json")) == stamp
    with pytest.raises(ValueError, match="num_frames"):
        generate_synthetic_video(str(tmp_path), num_clips=1, num_frames=1)
    with pytest.raises(ValueError, match="gt"):
        load_clip_ground_truth(clip_dir, 99)


def test_photo_clip_flow_is_the_camera_motion(tmp_path):
    """An image with an IUV map, animated by pan and zoom: the flow maps each pixel to where the
    same photo point was, and the warped labels follow it up to the nearest-pixel grid."""
    from densepose_ext.data.synthetic.photo_clip import photo_camera, write_photo_clip

    h, w = 60, 80
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    iuv = np.zeros((h, w, 3), np.uint8)
    iuv[10:50, 20:40, 0] = 2
    iuv[10:50, 40:60, 0] = 5
    iuv[..., 1] = np.arange(w, dtype=np.uint8)[None] * 3
    inds = (iuv[..., 0] > 0).astype(np.uint8) * 3
    paths = [str(tmp_path / n) for n in ("im.png", "iuv.png", "inds.png")]
    for path, data in zip(paths, (image, iuv, inds)):
        cv2.imwrite(path, data)
    clip_dir = write_photo_clip(*paths, str(tmp_path / "clip"), num_frames=3, short_side=60)
    (m1, size), (m2, _) = photo_camera((h, w), 60, 1, 3), photo_camera((h, w), 60, 2, 3)
    gt1, gt2 = load_clip_ground_truth(clip_dir, 1), load_clip_ground_truth(clip_dir, 2)
    assert gt2.part.shape == size and set(np.unique(gt2.track)) == {0, 3}
    rows, cols = np.nonzero(gt2.flow_valid)
    x, y = cols + 0.5, rows + 0.5
    photo = np.stack([(x - m2[0, 2]) / m2[0, 0], (y - m2[1, 2]) / m2[1, 1]], 1)
    prev = photo * m1[0, 0] + m1[:, 2]
    np.testing.assert_allclose(gt2.flow[rows, cols], prev - np.stack([x, y], 1), atol=1e-4)
    person = gt2.flow_valid & (gt2.part > 0)
    rows, cols = np.nonzero(person)
    pr = np.floor(rows + 0.5 + gt2.flow[rows, cols, 1]).astype(np.int64)
    pc = np.floor(cols + 0.5 + gt2.flow[rows, cols, 0]).astype(np.int64)
    assert (gt1.part[pr, pc] == gt2.part[rows, cols]).mean() > 0.95
    assert len(clip_frame_paths(clip_dir)) == 3 and not os.path.exists(clip_dir + ".tmp")
    with pytest.raises(ValueError, match="missing.png"):
        write_photo_clip(str(tmp_path / "missing.png"), *paths[1:], str(tmp_path / "c2"))


def test_command_line_video(tmp_path, capsys):
    from densepose_ext.data.synthetic.__main__ import main

    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "still")])  # no --num-images, no --video
    out = str(tmp_path / "video")
    main(["--video", "--out", out, "--num-clips", "1", "--num-frames", "2", "--size", "64"])
    assert "wrote 1 clips of 2 frames" in capsys.readouterr().out
    (clip_dir,) = list_clips(out)
    assert len(clip_frame_paths(clip_dir)) == 2
