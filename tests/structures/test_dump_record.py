"""The dump record: dict round trip, key order and reading dumps written before `pred_classes`."""

import pytest
import torch

from densepose_ext.structures.dump_record import CLASSES_KEY, DumpRecord, is_dump_record


def test_round_trip_keeps_every_field():
    record = DumpRecord(
        file_name="v.mp4",
        boxes_xyxy=torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 5.0, 5.0]]),
        scores=torch.tensor([0.9, 0.4]),
        classes=torch.tensor([1, 0]),
        densepose=["a", "b"],
        frame_index=7,
        masks=torch.ones(2, 6, 6, dtype=torch.bool),
    )
    as_dict = record.to_dict()
    assert list(as_dict) == [
        "file_name",
        "frame_index",
        "scores",
        "pred_boxes_XYXY",
        "pred_classes",
        "pred_densepose",
        "pred_masks",
    ]
    assert is_dump_record(as_dict) and not is_dump_record({"image_id": 1})
    back = DumpRecord.from_dict(as_dict)
    assert back.file_name == "v.mp4" and back.frame_index == 7 and back.densepose == ["a", "b"]
    assert back.classes.tolist() == [1, 0] and back.classes.dtype == torch.int64
    assert torch.equal(back.boxes_xyxy, record.boxes_xyxy) and back.keypoints is None


def test_older_dump_without_classes_reads_as_class_zero():
    old = {"file_name": "a.jpg", "scores": torch.tensor([0.5]), "pred_boxes_XYXY": [[0, 0, 1, 1]]}
    record = DumpRecord.from_dict(old)
    assert record.classes.tolist() == [0] and record.densepose is None and len(record) == 1
    assert CLASSES_KEY in record.to_dict()


def test_mismatched_lengths_are_an_error():
    bad = {"file_name": "a.jpg", "scores": [0.5, 0.4], "pred_boxes_XYXY": [[0, 0, 1, 1]]}
    with pytest.raises(ValueError, match="a.jpg.*1 boxes, 2 scores"):
        DumpRecord.from_dict(bad)
