"""Synthetic COCO keypoints against the render: body parts, the drawn eyes, flips, COCO fields."""

import numpy as np
import pytest
from detectron2.data import MetadataCatalog
from detectron2.data import detection_utils as utils

from densepose_ext.data.synthetic.export import coco_keypoints
from densepose_ext.data.synthetic.generate import body_template, render_example
from densepose_ext.data.synthetic.keypoints import (
    KEYPOINT_FLIP_MAP,
    KEYPOINT_NAMES,
    KEYPOINT_PARTS,
    keypoint_metadata,
)
from densepose_ext.data.synthetic.scene import mirror_scene, render_scene, sample_scene

_NUM_IMAGES = 10


@pytest.fixture(scope="module")
def renders():
    return [render_example(i, seed=11, size=192) for i in range(_NUM_IMAGES)]


def _flip_indices() -> np.ndarray:
    pairs = dict(KEYPOINT_FLIP_MAP)
    pairs.update({b: a for a, b in KEYPOINT_FLIP_MAP})
    return np.array([KEYPOINT_NAMES.index(pairs.get(n, n)) for n in KEYPOINT_NAMES])


def test_visible_keypoints_lie_on_their_body_part(renders):
    counts = np.zeros(3, dtype=np.int64)
    for rendered, _ in renders:
        for k, kps in enumerate(rendered.keypoints):
            for j, (x, y, vis) in enumerate(kps):
                counts[int(vis)] += 1
                if vis != 2:
                    continue
                r, c = int(np.floor(y)), int(np.floor(x))
                assert rendered.person[r, c] == k
                assert rendered.part[r, c] in KEYPOINT_PARTS[KEYPOINT_NAMES[j]]
    # most keypoints are visible, self-occlusion (e.g. faces seen from behind) is common
    assert counts[2] > 0.5 * counts.sum() and counts[1] > 0.1 * counts.sum()


def test_visible_eyes_are_on_the_drawn_eyes(renders):
    """The texture darkens the eyes: visible eye keypoints sit on darker pixels than the head."""
    eye_values, head_values = [], []
    for rendered, _ in renders:
        gray = rendered.image.astype(np.float64).mean(axis=2)
        for k, kps in enumerate(rendered.keypoints):
            head = (rendered.person == k) & np.isin(rendered.part, (23, 24))
            if head.sum() < 150:
                continue
            for j in (KEYPOINT_NAMES.index("left_eye"), KEYPOINT_NAMES.index("right_eye")):
                if kps[j, 2] == 2:
                    eye_values.append(gray[int(kps[j, 1]), int(kps[j, 0])])
                    head_values.append(gray[head].mean())
    assert len(eye_values) >= 3
    assert np.mean(eye_values) < np.mean(head_values) - 15


def test_front_keypoints_hidden_when_facing_away(renders):
    """The nose is visible exactly on people whose face (front of the head) is rendered."""
    nose = KEYPOINT_NAMES.index("nose")
    seen = set()
    for rendered, _ in renders:
        for kps in rendered.keypoints:
            seen.add(int(kps[nose, 2]))
    assert {1, 2} <= seen


def test_mirrored_scene_flips_keypoints_with_the_flip_map():
    template = body_template()
    flip = _flip_indices()
    agree, total = 0, 0
    for index in range(4):
        scene = sample_scene(np.random.default_rng([5, index]), 160, 160)
        a = render_scene(template, scene)
        b = render_scene(template, mirror_scene(scene))
        for kp_a, kp_b in zip(a.keypoints, b.keypoints):
            mirrored = kp_b[flip]
            np.testing.assert_allclose(mirrored[:, 0], 160 - kp_a[:, 0], atol=1e-6)
            np.testing.assert_allclose(mirrored[:, 1], kp_a[:, 1], atol=1e-6)
            agree += int((mirrored[:, 2] == kp_a[:, 2]).sum())
            total += 17
    # visibility may differ only where a keypoint falls on a pixel boundary
    assert agree >= 0.95 * total


def test_coco_fields_in_annotations(renders):
    for _, annotations in renders:
        for ann in annotations:
            kps = np.array(ann["keypoints"]).reshape(17, 3)
            assert ann["num_keypoints"] == int((kps[:, 2] > 0).sum())
            assert (kps[kps[:, 2] == 0] == 0).all()
            assert set(np.unique(kps[:, 2])) <= {0, 1, 2}
    fields = coco_keypoints(np.array([[10.5, 20.5, 2.0]] * 16 + [[-3.0, 4.0, 0.0]]))
    assert fields["keypoints"][:3] == [10.0, 20.0, 2] and fields["keypoints"][-3:] == [0, 0, 0]
    assert fields["num_keypoints"] == 16


def test_keypoint_metadata_gives_detectron2_flip_indices():
    name = "synthetic_keypoint_metadata_test"
    MetadataCatalog.get(name).set(**keypoint_metadata())
    indices = utils.create_keypoint_hflip_indices([name])
    np.testing.assert_array_equal(indices, _flip_indices())
    assert len(KEYPOINT_FLIP_MAP) == 8
