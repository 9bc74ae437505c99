"""Flicker, accuracy and tracking metrics on hand-made frames; dump records -> dense frames."""

import numpy as np
import pytest
import torch

from densepose_ext.evaluation.temporal import (
    ClipTemporalMetrics,
    DenseFrame,
    boxes_from_track_map,
    carry_back,
    frame_accuracy,
    label_consistency,
    tracking_metrics,
    uv_changes,
)
from densepose_ext.evaluation.video_dumps import (
    dense_frame,
    frame_records,
    read_dump_records,
    record_track_ids,
)
from densepose_ext.structures.chart_result import DensePoseChartResult


def _flow(shape, dx=0.0, dy=0.0):
    flow = np.zeros(shape + (2,), dtype=np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def _frame(labels, u=None, v=None):
    labels = np.asarray(labels, dtype=np.int64)
    u = np.zeros(labels.shape, np.float32) if u is None else np.asarray(u, np.float32)
    v = np.zeros(labels.shape, np.float32) if v is None else np.asarray(v, np.float32)
    return DenseFrame(labels, u, v)


def test_carry_back_reads_where_points_came_from():
    prev = np.array([[10, 11, 12, 13]])
    valid = np.array([[True, True, False, True]])
    index, (values,) = carry_back([prev], _flow((1, 4), dx=-1.0), valid)
    # pixel 0 came from outside the image: dropped; pixel 2 is invalid
    np.testing.assert_array_equal(index, [1, 3])
    np.testing.assert_array_equal(values, [10, 12])
    index, (values,) = carry_back([prev], _flow((1, 4), dx=0.49), np.ones((1, 4), bool))
    np.testing.assert_array_equal(values, [10, 11, 12, 13])  # nearest pixel of the point


def test_label_consistency_follows_the_motion():
    prev = np.array([[1, 2, 3, 0, 0]])
    cur = np.array([[0, 1, 2, 3, 0]])  # everything moved right by one pixel
    person = np.array([[False, True, True, True, False]])
    valid = np.ones((1, 5), bool)
    assert label_consistency(prev, cur, _flow((1, 5), dx=-1.0), valid, person) == (3, 3)
    assert label_consistency(prev, cur, _flow((1, 5)), valid, person) == (0, 3)
    flicker = np.array([[0, 1, 5, 3, 0]])
    assert label_consistency(prev, flicker, _flow((1, 5), dx=-1.0), valid, person) == (2, 3)
    missed = np.zeros((1, 5), np.int64)
    assert label_consistency(missed, missed, _flow((1, 5)), valid, person) == (0, 0)
    lost = label_consistency(prev, missed, _flow((1, 5), dx=-1.0), valid, person)
    assert lost == (0, 3)  # the person disappeared: every pixel disagrees
    no_motion = np.zeros((1, 5), bool)
    assert label_consistency(prev, cur, _flow((1, 5), dx=-1.0), no_motion, person) == (0, 0)


def test_uv_changes_only_on_equal_parts():
    prev = _frame([[1, 1, 2]], u=[[0.2, 0.5, 0.5]], v=[[0.1, 0.1, 0.1]])
    cur = _frame([[1, 1, 3]], u=[[0.2, 0.8, 0.5]], v=[[0.5, 0.1, 0.1]])
    changes = uv_changes(prev, cur, _flow((1, 3)), np.ones((1, 3), bool), np.ones((1, 3), bool))
    np.testing.assert_allclose(changes, [0.4, 0.3], atol=1e-6)  # the third pixel changed part


def test_frame_accuracy_on_gt_person_pixels():
    gt = _frame([[0, 1, 1, 2]], u=[[0, 0.5, 0.5, 0.5]], v=[[0, 0.5, 0.5, 0.5]])
    pred = _frame([[4, 1, 2, 2]], u=[[0, 0.8, 0.5, 0.5]], v=[[0, 0.1, 0.5, 0.5]])
    right, total, errors = frame_accuracy(pred, gt)
    assert (right, total) == (2, 3)  # the background pixel does not count
    np.testing.assert_allclose(sorted(errors), [0.0, 0.5], atol=1e-6)


def test_boxes_from_track_map():
    track = np.zeros((6, 8), dtype=np.uint8)
    track[1:4, 2:5] = 2
    track[5, 7] = 1  # a sliver: too small
    ids, boxes = boxes_from_track_map(track, min_area=2)
    assert ids == [2]
    np.testing.assert_array_equal(boxes, [[2, 1, 5, 4]])


def _two_people(num_frames):
    boxes = np.array([[0, 0, 10, 20], [30, 0, 40, 20]], dtype=np.float64)
    return [([1, 2], boxes + [t, 0, t, 0]) for t in range(num_frames)]


def test_tracking_metrics_count_identity_switches():
    gt = _two_people(4)
    perfect = [([7, 8], b) for _, b in gt]
    assert tracking_metrics(gt, perfect) == {"idf1": 1.0, "id_switches": 0, "mota": 1.0}
    swapped = [([7, 8] if t < 2 else [8, 7], b) for t, (_, b) in enumerate(gt)]
    metrics = tracking_metrics(gt, swapped)
    assert metrics["id_switches"] == 2
    assert metrics["idf1"] == pytest.approx(0.5)  # the best one-to-one identity map: half right
    missed = [([7], b[:1]) if t == 1 else ([7, 8], b) for t, (_, b) in enumerate(gt)]
    metrics = tracking_metrics(gt, missed)
    assert metrics["id_switches"] == 0 and metrics["mota"] == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="frames"):
        tracking_metrics(gt, perfect[:3])


def test_clip_metrics_of_a_moving_strip():
    """A 2-pixel person moving right by one pixel a frame; the prediction flickers in frame 2."""
    width = 6
    gts, tracks, flows = [], [], []
    for t in range(3):
        labels = np.zeros((1, width), np.int64)
        labels[0, t : t + 2] = [1, 2]
        u = np.where(labels > 0, 0.5, 0.0)
        gts.append(_frame(labels, u, u))
        tracks.append((labels > 0).astype(np.uint8))
        flows.append(_flow((1, width), dx=-1.0))
    valid = [np.zeros((1, width), bool)] + [t > 0 for t in tracks[1:]]
    exact = ClipTemporalMetrics()
    for t in range(3):
        exact.add_frame(gts[t], gts[t], tracks[t], flows[t], valid[t], [5], np.zeros((1, 4)))
    summary = exact.summary()
    assert summary["consistency"] == 1.0 and summary["part_accuracy"] == 1.0
    assert summary["uv_change_median"] == 0.0 and summary["uv_error"] == 0.0
    last = _frame([[0, 0, 1, 1, 0, 0]], [[0, 0, 0.8, 0.9, 0, 0]], [[0, 0, 0.5, 0.5, 0, 0]])
    flicker = [gts[0], gts[1], last]
    flickering = ClipTemporalMetrics()
    for t in range(3):
        flickering.add_frame(flicker[t], gts[t], tracks[t], flows[t], valid[t])
    summary = flickering.summary()
    assert summary["consistency"] == pytest.approx(3 / 4)  # 2 + 1 of 2 + 2 carried labels
    assert summary["part_accuracy"] == pytest.approx(5 / 6)
    # changes: 0, 0 (frame 1) and 0.3 (frame 2; its other pixel changed part): p90 = 0.24
    assert summary["uv_change_median"] == 0.0
    assert summary["uv_change_p90"] == pytest.approx(0.24, abs=1e-6)
    assert "idf1" not in summary  # no track ids: no tracking metrics


def _record(name, boxes, scores, labels_list, track_ids=None, frame_index=None):
    results = [
        DensePoseChartResult(labels=torch.as_tensor(lab), uv=torch.full((2,) + lab.shape, 0.5))
        for lab in labels_list
    ]
    record = {
        "file_name": name,
        "scores": torch.tensor(scores),
        "pred_boxes_XYXY": torch.tensor(boxes, dtype=torch.float32),
        "pred_densepose": results,
    }
    if track_ids is not None:
        record["track_ids"] = torch.tensor(track_ids)
    if frame_index is not None:
        record["frame_index"] = frame_index
    return record


def test_dump_records_to_dense_frames(tmp_path):
    lab = np.full((2, 3), 7, dtype=np.int64)
    a = _record("/x/000001.jpg", [[1, 1, 4, 3]], [0.9], [lab], track_ids=[4])
    b = _record("/x/000000.jpg", [], [], [])
    frames = frame_records([a, b], ["000000.jpg", "000001.jpg", "000002.jpg"])
    assert frames[0] is b and frames[1] is a and frames[2] is None
    dense = dense_frame(a, 4, 5)
    expected = np.zeros((4, 5), np.int64)
    expected[1:3, 1:4] = 7
    np.testing.assert_array_equal(dense.labels, expected)
    np.testing.assert_allclose(dense.u[1:3, 1:4], 127 / 255)  # quantised as in IUV images
    assert dense_frame(None, 4, 5).labels.sum() == 0 and dense_frame(b, 4, 5).labels.sum() == 0
    assert record_track_ids(a) == [4] and record_track_ids(b) is None
    video = [_record("v.mp4", [], [], [], frame_index=i) for i in (1, 0)]
    assert [r["frame_index"] for r in frame_records(video, ["f0", "f1"])] == [0, 1]
    path = tmp_path / "dump.pkl"
    torch.save([a, b], path)
    assert len(read_dump_records(str(path))) == 2
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="bad.pkl"):
        read_dump_records(str(tmp_path / "bad.pkl"))
