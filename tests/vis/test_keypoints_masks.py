"""`keypoints` and `masks` visualizers (cascade models' extra outputs) and their predictions."""

import numpy as np
import torch
from detectron2.structures import Boxes, Instances

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.vis.keypoints import KeypointSkeletonVisualizer, coco_skeleton
from densepose_ext.vis.masks import InstanceMaskVisualizer
from densepose_ext.vis.registry import build_visualizer, parse_visualizer_names


def _prediction(with_outputs: bool = True) -> ImagePrediction:
    inst = Instances((40, 60))
    inst.pred_boxes = Boxes(torch.tensor([[5.0, 5.0, 30.0, 35.0], [20.0, 10.0, 50.0, 30.0]]))
    inst.scores = torch.tensor([0.9, 0.6])
    inst.pred_classes = torch.zeros(2, dtype=torch.int64)
    if with_outputs:
        masks = torch.zeros(2, 40, 60, dtype=torch.bool)
        masks[0, 5:35, 5:30] = True
        masks[1, 10:30, 20:50] = True
        inst.pred_masks = masks
        kps = torch.zeros(2, 17, 3)
        kps[0, :, 0] = torch.linspace(6, 28, 17)
        kps[0, :, 1] = torch.linspace(6, 33, 17)
        kps[0, :, 2] = 1.0
        kps[0, 16] = torch.tensor([55.0, 3.0, -1.0])  # below the threshold: not drawn
        kps[1, :, 2] = -1.0
        inst.pred_keypoints = kps
    return ImagePrediction.from_instances(inst)


def test_from_instances_keeps_masks_and_keypoints():
    prediction = _prediction()
    assert prediction.masks.shape == (2, 40, 60) and prediction.masks.dtype == torch.bool
    assert prediction.keypoints.shape == (2, 17, 3)
    bare = _prediction(with_outputs=False)
    assert bare.masks is None and bare.keypoints is None


def test_masks_drawn_inside_masks_only_higher_score_on_top():
    canvas = np.full((40, 60, 3), 100, dtype=np.uint8)
    InstanceMaskVisualizer(alpha=1.0).draw(canvas, _prediction())
    assert (canvas[0, 0] == 100).all() and (canvas[38, 58] == 100).all()
    first, second = canvas[7, 7].copy(), canvas[28, 45].copy()
    assert not (first == 100).all() and not (second == 100).all() and (first != second).any()
    assert (canvas[20, 25] == first).all()  # overlap: detection 0 (score 0.9) on top


def test_keypoints_and_skeleton_drawn_above_threshold():
    canvas = np.zeros((40, 60, 3), dtype=np.uint8)
    prediction = _prediction()
    KeypointSkeletonVisualizer().draw(canvas, prediction)
    kps = prediction.keypoints[0].numpy()
    for j in range(16):
        x, y = (int(round(c)) for c in kps[j, :2])
        assert canvas[y, x].any()
    x, y = (int(round(c)) for c in kps[16, :2])
    assert not canvas[y, x].any()
    assert canvas.any(axis=2).sum() > 16 * 5  # lines between the points too
    assert len(coco_skeleton()) == 14


def test_missing_outputs_draw_nothing_and_names_registered():
    canvas = np.zeros((40, 60, 3), dtype=np.uint8)
    bare = _prediction(with_outputs=False)
    KeypointSkeletonVisualizer().draw(canvas, bare)
    InstanceMaskVisualizer().draw(canvas, bare)
    assert not canvas.any()
    assert parse_visualizer_names("bbox,masks,keypoints") == ["bbox", "masks", "keypoints"]
    assert build_visualizer("masks,keypoints") is not None
