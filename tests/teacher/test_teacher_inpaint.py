"""Inpainted files: original points exact, new points in the mask, loader and mapper accept them."""

import json
import os

import numpy as np
import pytest
import torch
from detectron2.data import transforms as T
from teacher_test_data import ellipse_mask, write_teacher_dataset

from densepose_ext.data.dataset_mapper import DatasetMapper
from densepose_ext.data.datasets.coco import load_densepose_coco_json
from densepose_ext.structures.transform_data import DensePoseTransformData
from densepose_ext.teacher import (
    TeacherConfig,
    TeacherNet,
    inpaint_coco_json,
    new_point_locations,
)

POINT_KEYS = ("dp_x", "dp_y", "dp_I", "dp_U", "dp_V")


@pytest.fixture(scope="module")
def inpainted(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("teacher_inpaint"))
    files = write_teacher_dataset(d)
    torch.manual_seed(0)
    model = TeacherNet(TeacherConfig(crop_size=16, width=4)).eval()
    out = os.path.join(d, "inpainted.json")
    stats = inpaint_coco_json(files["json_file"], files["image_root"], model, out, grid_step=16)
    with open(files["json_file"]) as f:
        original = json.load(f)
    with open(out) as f:
        written = json.load(f)
    return files, original, written, stats, out


def test_grid_and_random_locations_lie_in_the_mask():
    mask = ellipse_mask()
    x, y = new_point_locations(mask, grid_step=16)
    assert len(x) > 150 and mask[y.astype(int), x.astype(int)].all()
    assert set(np.unique(x % 16)) == {8.0}
    x, y = new_point_locations(mask, points_per_person=500, rng=np.random.default_rng(1))
    assert len(x) == 500 and len(set(zip(x, y))) == 500
    assert mask[y.astype(int), x.astype(int)].all()
    with pytest.raises(ValueError, match="exactly one"):
        new_point_locations(mask)


def test_original_points_are_kept_bit_for_bit_and_new_ones_flagged(inpainted):
    _, original, written, stats, _ = inpainted
    assert stats.people == 4 and stats.images == 2 and not stats.errors
    mask = ellipse_mask()
    assert len(written["annotations"]) == len(original["annotations"])
    for before, after in zip(original["annotations"], written["annotations"]):
        if "dp_x" not in before:
            assert after == before  # people without DensePose are untouched
            continue
        n = len(before["dp_x"])
        flags = after["dp_inpainted"]
        assert flags[:n] == [0] * n and set(flags[n:]) == {1}
        for key in POINT_KEYS:
            assert len(after[key]) == len(flags)
            assert after[key][:n] == before[key]
            assert json.dumps(after[key][:n]) == json.dumps(before[key])  # same text
        x, y = np.array(after["dp_x"][n:]), np.array(after["dp_y"][n:])
        assert mask[y.astype(int), x.astype(int)].all()
        parts = np.array(after["dp_I"][n:])
        assert parts.min() >= 1 and parts.max() <= 24 and (parts == np.round(parts)).all()
        for key in ("dp_U", "dp_V"):
            values = np.array(after[key][n:])
            assert values.min() >= 0 and values.max() <= 1
        assert after["dp_masks"] == before["dp_masks"] and after["bbox"] == before["bbox"]


def test_inpainted_file_loads_and_maps_with_flip(inpainted):
    files, original, _, _, out = inpainted
    records = load_densepose_coco_json(out, files["image_root"], on_invalid="reject")
    anns = [a for r in records for a in r["annotations"] if "dp_x" in a]
    assert len(anns) == 4 and all(len(a["dp_inpainted"]) == len(a["dp_x"]) > 30 for a in anns)
    mapper = DatasetMapper(
        True,
        augmentations=[T.RandomFlip(prob=1.0)],
        densepose_transform_data=DensePoseTransformData.load(files["flip_tables"]),
    )
    mapped = mapper(records[0])
    datas = [d for d in mapped["instances"].gt_densepose if d is not None]
    assert len(datas) == 2
    for data, ann in zip(datas, anns[:2]):
        n_orig = 30
        assert data.inpainted.tolist() == [False] * n_orig + [True] * (len(data) - n_orig)
        expected_x = 256 - torch.tensor(ann["dp_x"], dtype=torch.float32)
        assert torch.allclose(data.x, expected_x)


def test_bad_flags_are_rejected_by_validation(inpainted, tmp_path):
    files, _, written, _, _ = inpainted
    broken = dict(written)
    anns = [dict(a) for a in written["annotations"]]
    anns[0]["dp_inpainted"] = anns[0]["dp_inpainted"][:-1]
    anns[1]["dp_inpainted"] = [2] * len(anns[1]["dp_x"])
    broken["annotations"] = anns
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="length mismatch") as info:
        load_densepose_coco_json(str(path), files["image_root"], on_invalid="reject")
    assert "dp_inpainted must hold 0 / 1 flags" in str(info.value)


def test_unreadable_images_are_reported_and_left_unchanged(inpainted, tmp_path):
    files, original, _, _, _ = inpainted
    model = TeacherNet(TeacherConfig(crop_size=16, width=4)).eval()
    out = str(tmp_path / "out.json")
    stats = inpaint_coco_json(files["json_file"], str(tmp_path), model, out, points_per_person=10)
    assert stats.people == 0 and len(stats.errors) == 2 and "cannot read" in stats.errors[0]
    with open(out) as f:
        assert json.load(f)["annotations"] == original["annotations"]
