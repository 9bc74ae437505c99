"""Training path of `DensePoseROIHeads`:
the configured loss gets the filtered proposals and outputs."""

import torch
from detectron2.modeling import build_roi_heads
from detectron2.structures import Boxes, Instances
from detectron2.utils.events import EventStorage
from model_utils import random_features, roi_input_shape, small_chart_config

from densepose_ext.modeling.registry import DENSEPOSE_LOSS_REGISTRY
from densepose_ext.structures import DensePoseChartPredictorOutput

CALLS = []


class _RecordingLoss:
    def __init__(self, cfg):
        pass

    def __call__(self, proposals, outputs, embedder=None):
        CALLS.append((proposals, outputs, embedder))
        return {"loss_densepose_test": outputs.u.sum() * 0}


if "_RecordingDensePoseLossForTests" not in DENSEPOSE_LOSS_REGISTRY:
    DENSEPOSE_LOSS_REGISTRY._do_register("_RecordingDensePoseLossForTests", _RecordingLoss)


class _GtList(list):
    """Per-instance DensePose GT (None = no annotation), indexable like an Instances field."""

    def __getitem__(self, item):
        if isinstance(item, torch.Tensor):
            return (
                _GtList(list.__getitem__(self, int(i)) for i in item.reshape(-1).tolist())
                if item.dtype != torch.bool
                else _GtList(x for x, keep in zip(self, item.tolist()) if keep)
            )
        return list.__getitem__(self, item)


def test_loss_called_with_filtered_proposals():
    cfg = small_chart_config(LOSS_NAME="_RecordingDensePoseLossForTests")
    cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 16
    shape = roi_input_shape(cfg, channels=32)
    torch.manual_seed(0)
    roi_heads = build_roi_heads(cfg, shape).train()
    hw = (96, 128)
    gt_boxes = torch.tensor([[10.0, 10.0, 60.0, 80.0], [70.0, 5.0, 120.0, 60.0]])
    targets = Instances(hw, gt_boxes=Boxes(gt_boxes), gt_classes=torch.zeros(2, dtype=torch.int64))
    targets.gt_densepose = _GtList(["annotation", None])  # only the first person has DensePose GT
    jitter = torch.tensor([[1.0, -1.0, 0.5, 1.0], [20.0, 20.0, 20.0, 20.0], [0.0, 0.0, 0.0, 0.0]])
    proposal_boxes = torch.cat([gt_boxes[0] + jitter, gt_boxes[1:] + jitter[:1]])
    proposals = Instances(hw, proposal_boxes=Boxes(proposal_boxes), objectness_logits=torch.ones(4))
    CALLS.clear()
    with EventStorage():
        _, losses = roi_heads(None, random_features(shape, hw), [proposals], [targets])
    assert "loss_densepose_test" in losses and "loss_cls" in losses
    ((dp_proposals, outputs, embedder),) = CALLS
    assert embedder is None and isinstance(outputs, DensePoseChartPredictorOutput)
    (image_proposals,) = dp_proposals
    # kept: foreground proposals of person 0 with IoU > 0.7 (the far-off jitter and person 1 are
    # dropped)
    assert len(image_proposals) == len(outputs) >= 1
    assert all(d == "annotation" for d in image_proposals.gt_densepose)
