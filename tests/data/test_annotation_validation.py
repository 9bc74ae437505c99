import logging

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from densepose_ext.data.annotation_validation import (
    InvalidDensePoseAnnotationError,
    densepose_annotation_problems,
    resolve_invalid_annotation_policy,
    validate_densepose_dataset,
)


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
