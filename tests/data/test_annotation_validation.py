import copy
import json
import logging

import numpy as np
import pytest
from detectron2.structures import BoxMode
from pycocotools import mask as mask_utils

from densepose_ext.data.annotation_validation import (
    InvalidDensePoseAnnotationError,
    bbox_problems,
    densepose_annotation_problems,
    resolve_invalid_annotation_policy,
    validate_densepose_dataset,
)
from densepose_ext.data.datasets.coco import load_densepose_coco_json


def _rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _good() -> dict:
    m = np.zeros((256, 256), bool)
    m[10:50, 10:50] = True
    return {
        "bbox": [0, 0, 5, 5],
        "category_id": 1,
        "dp_x": [1.0, 255.0],
        "dp_y": [0.0, 3.0],
        "dp_I": [1, 24],
        "dp_U": [0.0, 1.0],
        "dp_V": [0.5, 0.5],
        "dp_masks": [_rle(m), []],
    }


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"dp_U": [0.1]}, "length mismatch"),
        ({"dp_I": [0, 3]}, "part index out of range"),
        ({"dp_I": [25, 3]}, "part index out of range"),
        ({"dp_I": [1.5, 3]}, "non-integer"),
        ({"dp_V": [0.5, 1.2]}, "dp_V outside [0, 1]"),
        ({"dp_U": [-0.1, 0.2]}, "dp_U outside [0, 1]"),
        ({"dp_x": [float("nan"), 1.0]}, "NaN"),
        ({"dp_y": [1.0, 300.0]}, "outside the box frame"),
        ({"dp_masks": [{"counts": "PPYo0", "size": [256, 256]}]}, "bad RLE"),
        ({"dp_masks": [{"counts": [5, 5], "size": [256, 256]}]}, "bad RLE"),
        ({"dp_masks": [[]] * 15}, "at most 14"),
        ({"dp_masks": "oops"}, "dp_masks must be"),
        ({"dp_vertex": [1, 2]}, "incomplete CSE"),
    ],
)
def test_problems_are_detected(change, fragment):
    ann = _good()
    ann.update(change)
    problems = densepose_annotation_problems(ann)
    assert any(fragment in p for p in problems), problems


def test_good_and_plain_annotations_have_no_problems():
    assert densepose_annotation_problems(_good()) == []
    assert densepose_annotation_problems({"bbox": [0, 0, 1, 1], "category_id": 1}) == []
    cse = {"dp_x": [1.0], "dp_y": [1.0], "dp_vertex": [3], "ref_model": "smpl_27554"}
    assert densepose_annotation_problems(cse) == []
    ann = _good()
    del ann["dp_V"]
    assert any("incomplete chart" in p for p in densepose_annotation_problems(ann))


def _dataset():
    bad = _good()
    bad["dp_I"] = [1, 30]
    return [
        {"image_id": 11, "annotations": [_good()]},
        {"image_id": 12, "annotations": [_good(), bad]},
    ]


def test_skip_policy_strips_densepose_keys_and_logs(caplog):
    dicts = _dataset()
    with caplog.at_level(logging.WARNING):
        validate_densepose_dataset(dicts, "ds", on_invalid="skip")
    assert "dp_x" in dicts[1]["annotations"][0]
    skipped = dicts[1]["annotations"][1]
    assert not any(k.startswith("dp_") for k in skipped) and skipped["bbox"] == [0, 0, 5, 5]
    assert "image_id=12" in caplog.text and "1 of 3 annotations" in caplog.text


def test_reject_policy_raises_with_image_id():
    with pytest.raises(InvalidDensePoseAnnotationError, match="image_id=12"):
        validate_densepose_dataset(_dataset(), "ds", on_invalid="reject")


def test_policy_resolution(monkeypatch):
    class Meta:
        densepose_invalid_annotations = "reject"

    monkeypatch.delenv("DENSEPOSE_INVALID_ANNOTATIONS", raising=False)
    assert resolve_invalid_annotation_policy() == "skip"
    monkeypatch.setenv("DENSEPOSE_INVALID_ANNOTATIONS", "off")
    assert resolve_invalid_annotation_policy() == "off"
    assert resolve_invalid_annotation_policy(metadata=Meta()) == "reject"
    assert resolve_invalid_annotation_policy("skip", Meta()) == "skip"
    dicts = _dataset()
    validate_densepose_dataset(dicts)  # "off": untouched
    assert "dp_x" in dicts[1]["annotations"][1]
    with pytest.raises(ValueError):
        resolve_invalid_annotation_policy("maybe")


@pytest.mark.parametrize(
    "bbox, fragment",
    [
        ([0, 0, -5, 5], "negative width or height: width=-5, height=5"),
        ([0, 0, 5, -1], "negative width or height: width=5, height=-1"),
        ([0, 0, 5], "4 numbers"),
        ([0, float("nan"), 5, 5], "NaN"),
    ],
)
def test_malformed_boxes_are_reported(bbox, fragment):
    for ann in (dict(_good(), bbox=bbox), {"bbox": bbox, "category_id": 1}):
        assert any(fragment in p for p in bbox_problems(ann)), bbox_problems(ann)
    assert bbox_problems({"bbox": [10, 10, 5, 20], "bbox_mode": BoxMode.XYXY_ABS}) == [
        "bbox has negative width or height: width=-5, height=10"
    ]
    assert bbox_problems({"bbox": [10, 10, 15, 20], "bbox_mode": BoxMode.XYXY_ABS}) == []


def test_messages_name_the_annotation_id_and_bad_boxes_are_removed(caplog):
    good, bad_dp, bad_box = dict(_good(), id=101), dict(_good(), id=102), dict(_good(), id=103)
    bad_dp["dp_I"] = [1, 30]
    bad_box["bbox"] = [0, 0, -3, 5]
    plain_bad_box = {"id": 104, "bbox": [1, 1, 4, -2], "category_id": 1}
    dicts = [{"image_id": 7, "annotations": [good, bad_dp, bad_box, plain_bad_box]}]
    with pytest.raises(InvalidDensePoseAnnotationError) as info:
        validate_densepose_dataset(copy.deepcopy(dicts), "ds", on_invalid="reject")
    message = str(info.value)
    assert "3 malformed" in message and "(id=None)" not in message
    for ann_id in (102, 103, 104):
        assert f"image_id=7 annotation #{ann_id - 101} (id={ann_id})" in message
    assert "negative width or height: width=-3, height=5" in message
    with caplog.at_level(logging.WARNING):
        validate_densepose_dataset(dicts, "ds", on_invalid="skip")
    kept = dicts[0]["annotations"]
    assert [a["id"] for a in kept] == [101, 102]
    assert "dp_I" in kept[0] and "dp_I" not in kept[1] and kept[1]["bbox"] == [0, 0, 5, 5]
    assert "(id=104)" in caplog.text and "Removed 2 of 4 annotations" in caplog.text


def test_coco_loader_keeps_annotation_ids(tmp_path):
    ann = dict(_good(), id=55, image_id=1, bbox=[0, 0, -4, 8], area=1.0, iscrowd=0)
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": 32, "width": 32}],
        "annotations": [ann, dict(_good(), id=56, image_id=1, area=1.0, iscrowd=0)],
        "categories": [{"id": 1, "name": "person"}],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidDensePoseAnnotationError, match=r"\(id=55\): bbox has negative"):
        load_densepose_coco_json(str(tmp_path / "a.json"), str(tmp_path), on_invalid="reject")
    records = load_densepose_coco_json(str(tmp_path / "a.json"), str(tmp_path), on_invalid="skip")
    assert [a["id"] for a in records[0]["annotations"]] == [56]
