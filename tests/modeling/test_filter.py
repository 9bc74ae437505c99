import torch
from detectron2.structures import BitMasks, Boxes, Instances

from densepose_ext.modeling.filter import DensePoseDataFilter
from densepose_ext.structures import DensePoseDataRelative, DensePoseList


def _data():
    return DensePoseDataRelative(
        {"dp_x": [1.0], "dp_y": [1.0], "dp_I": [1], "dp_U": [0.5], "dp_V": [0.5]}
    )


def _proposals(with_dp=True, with_masks=False):
    inst = Instances((20, 20))
    gt = torch.tensor([[0.0, 0, 10, 10]] * 4)
    inst.gt_boxes = Boxes(gt)
    # IoU with the GT box: 1.0, 0.8, exactly 0.7 (strict test drops it), 1.0
    inst.proposal_boxes = Boxes(
        torch.tensor([[0.0, 0, 10, 10], [0.0, 0, 10, 8], [0.0, 0, 10, 7], [0.0, 0, 10, 10]])
    )
    if with_dp:
        inst.gt_densepose = DensePoseList([_data(), _data(), _data(), None], gt, (20, 20))
    if with_masks:
        inst.gt_masks = BitMasks(torch.ones(4, 20, 20, dtype=torch.bool))
    return inst


def test_keeps_high_iou_proposals_with_densepose_gt():
    features = [torch.zeros(2, 1, 4, 4)]
    out_features, out = DensePoseDataFilter(0.7, keep_masks=False)(
        features, [_proposals(), _proposals(with_dp=False)]
    )
    assert out_features is features
    assert len(out) == 2  # the image without GT stays (empty) so images and features stay aligned
    assert out[0].proposal_boxes.tensor[:, 3].tolist() == [10.0, 8.0]
    assert len(out[1]) == 0


def test_masks_mode_keeps_proposals_without_densepose():
    _, out = DensePoseDataFilter(0.7, keep_masks=True)(
        None, [_proposals(with_masks=True), _proposals(False, True)]
    )
    assert len(out[0]) == 3 and len(out[1]) == 3
