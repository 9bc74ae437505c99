"""Random-weight models that still detect people (benchmarks need detections, not accuracy)."""

import os

import torch


def save_detecting_checkpoint(model: torch.nn.Module, path: str) -> str:
    """Biases the box classifier and the coarse segmentation to foreground (so that every image
    keeps its detections and DensePose foreground), then saves `model` to `path`."""
    from detectron2.checkpoint import DetectionCheckpointer

    with torch.no_grad():
        cls_score = model.roi_heads.box_predictor.cls_score
        cls_score.weight.mul_(0.01)
        cls_score.bias.zero_()
        cls_score.bias[:-1] = 4.0  # foreground classes before the background logit
        dp = model.roi_heads.densepose_predictor
        coarse = getattr(dp, "ann_index_lowres", None) or dp.coarse_segm_lowres
        coarse.bias[1:] += 2.0
    directory, name = os.path.split(path)
    DetectionCheckpointer(model, save_dir=directory).save(os.path.splitext(name)[0])
    return path
