"""`BoxTracker` on scripted box sequences: crossing, occlusion gaps, entering and leaving."""

import numpy as np
import pytest

from densepose_ext.video.tracking import BoxTracker, appearance_distance, box_iou


def box(cx: float, cy: float = 100.0, w: float = 40.0, h: float = 100.0) -> list:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def run(tracker: BoxTracker, frames, appearance=None) -> list:
    """Track ids per frame; `frames`: list of lists of boxes (frame index = position)."""
    out = []
    for t, boxes in enumerate(frames):
        feats = None if appearance is None else np.asarray(appearance[t], dtype=np.float64)
        out.append(tracker.update(t, np.array(boxes, dtype=np.float64).reshape(-1, 4), feats))
    return [ids.tolist() for ids in out]


def test_box_iou_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], dtype=np.float64)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10]], dtype=np.float64)
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 1.0], [0.0, 0.0]])


def test_appearance_distance_ignores_unseen_entries():
    a = np.array([[0.1, np.nan, 0.5]])
    b = np.array([[0.3, 0.9, 0.5], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(appearance_distance(a, b), [[0.1, 0.0]])


@pytest.mark.parametrize("order", ["same", "swapped"])
def test_two_people_crossing_keep_their_ids(order):
    """A walks right, B walks left through A (boxes coincide at frame 10); the detections come
    in either order, so only the tracker's motion prediction can tell them apart."""
    frames, truth = [], []
    for t in range(21):
        a, b = box(100 + 10 * t), box(300 - 10 * t)
        swap = order == "swapped" and t % 2 == 1
        frames.append([b, a] if swap else [a, b])
        truth.append(["b", "a"] if swap else ["a", "b"])
    ids = run(BoxTracker(appearance_weight=0.0), frames)
    identity = {}
    for frame_ids, names in zip(ids, truth):
        for track_id, name in zip(frame_ids, names):
            assert identity.setdefault(name, track_id) == track_id
    assert identity["a"] != identity["b"]


def test_crossing_with_one_person_hidden_for_three_frames():
    frames = []
    for t in range(21):
        a, b = box(100 + 10 * t), box(300 - 10 * t)
        frames.append([a] if 9 <= t <= 11 else [a, b])  # B behind A while they overlap
    ids = run(BoxTracker(appearance_weight=0.0), frames)
    assert all(frame[0] == 1 for frame in ids)
    assert all(frame[1] == 2 for t, frame in enumerate(ids) if len(frame) == 2)


def test_occlusion_gap_within_max_missed_keeps_id():
    frames = [[box(100 + 3 * t)] if not 5 <= t < 10 else [] for t in range(15)]
    ids = run(BoxTracker(max_missed=8), frames)
    assert {i for frame in ids for i in frame} == {1}


def test_gap_longer_than_max_missed_starts_a_new_track():
    frames = [[box(100)] if not 3 <= t < 13 else [] for t in range(16)]
    ids = run(BoxTracker(max_missed=5), frames)
    assert ids[2] == [1] and ids[13] == [2]


def test_enter_and_leave():
    frames = []
    for t in range(30):
        boxes = []
        if t <= 10:
            boxes.append(box(100 + 2 * t))
        if t >= 5:
            boxes.append(box(400 - 2 * t, cy=300))
        if t >= 25:
            boxes.append(box(600, cy=500))
        frames.append(boxes)
    ids = run(BoxTracker(max_missed=3), frames)
    assert ids[0] == [1] and ids[5] == [1, 2] and ids[10] == [1, 2]
    assert ids[11] == [2] and ids[24] == [2]
    assert ids[25] == [2, 3]  # a newcomer gets a fresh id, ids are never reused
    assert ids[29] == [2, 3]


def test_appearance_separates_people_standing_at_the_same_place():
    """Two people whose boxes coincide (one behind the other): only the colours tell them
    apart; without the appearance cue the tracker cannot."""
    red, blue = [0.1, 0.1, 0.9], [0.9, 0.1, 0.1]
    frames = [[box(100), box(100)] for _ in range(10)]
    colours = [[red, blue] if t % 2 == 0 else [blue, red] for t in range(10)]
    ids = run(BoxTracker(appearance_weight=1.0), frames, colours)
    for t, frame in enumerate(ids):
        expected = [1, 2] if t % 2 == 0 else [2, 1]
        assert frame == expected


def test_ids_are_int64_and_empty_frames_are_fine():
    tracker = BoxTracker()
    empty = tracker.update(0, np.zeros((0, 4)))
    assert empty.dtype == np.int64 and empty.shape == (0,)
    assert tracker.update(1, np.array([box(10)])).tolist() == [1]
