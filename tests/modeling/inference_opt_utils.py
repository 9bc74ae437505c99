"""Plain vs optimized models on random weights, for the inference_opt agreement tests."""

import copy
from typing import List

import torch
from detectron2.layers import FrozenBatchNorm2d
from detectron2.modeling import build_model
from detectron2.structures import Instances
from model_utils import load_config
from torch import nn

from densepose_ext import optimize_for_inference
from densepose_ext.config import clear_external_files, is_cse
from densepose_ext.converters import chart_outputs_to_results
from densepose_ext.converters.boxes import given_box_instances
from densepose_ext.converters.cse_vertices import cse_output_to_results

IMAGE_HW = (128, 160)
BOXES = [[10.0, 12.0, 90.0, 120.0], [70.0, 30.0, 150.0, 110.5], [40.5, 60.0, 80.0, 100.0]]


def small_model_config(config: str, small: bool = True):
    """The config with no external file; `small`: ResNet-18 with a 128-channel FPN and decoder
    or a one-module-per-stage HRNet, 2 x 128 head (still wide enough for the Winograd
    convolutions), at most 2000 vertices per CSE mesh."""
    cfg = clear_external_files(load_config(config))
    if small:
        if cfg.MODEL.BACKBONE.NAME == "build_resnet_fpn_backbone":
            cfg.MODEL.RESNETS.DEPTH = 18
            cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
            cfg.MODEL.FPN.OUT_CHANNELS = 128
            # the decoder output is the head input: as wide as the FPN
            cfg.MODEL.ROI_DENSEPOSE_HEAD.DECODER_CONV_DIMS = 128
            cfg.MODEL.ROI_DENSEPOSE_HEAD.DECODER_NUM_CLASSES = 128
        else:  # HRNet: one module per stage, one block per branch
            for stage in ("STAGE2", "STAGE3", "STAGE4"):
                node = cfg.MODEL.HRNET[stage]
                node.NUM_MODULES = 1
                node.NUM_BLOCKS = [1] * len(node.NUM_BLOCKS)
        head = cfg.MODEL.ROI_DENSEPOSE_HEAD
        head.NUM_STACKED_CONVS = 2
        head.CONV_HEAD_DIM = 128
        for spec in head.CSE.EMBEDDERS.values():  # random embedders: any vertex count will do
            spec.NUM_VERTICES = min(spec.NUM_VERTICES, 2000)
    return cfg


def randomize(model: torch.nn.Module, seed: int = 0) -> None:
    """Random batch-norm statistics (so folding matters), random predictor biases, U/V layers
    scaled to outputs of order 1 (random weights otherwise give U/V in the hundreds) and random
    CSE embedders."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "running_var", None) is not None:
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=g) + 0.5)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=g) * 0.1)
                if getattr(module, "weight", None) is not None:
                    module.weight.copy_(torch.rand(module.weight.shape, generator=g) + 0.5)
                    module.bias.copy_(torch.randn(module.bias.shape, generator=g) * 0.1)
        predictor = model.roi_heads.densepose_predictor
        for module in predictor.modules():  # zero biases tie the logits wherever features are 0
            if isinstance(module, torch.nn.ConvTranspose2d):
                module.bias.copy_(torch.randn(module.bias.shape, generator=g) * 0.5)
        for name in ("u_lowres", "v_lowres"):
            layer = getattr(predictor, name, None)
            if layer is not None:
                layer.weight.mul_(1e-3)
        embedder = model.roi_heads.embedder
        if embedder is not None:
            for tensor in list(embedder.parameters()) + list(embedder.buffers()):
                tensor.copy_(torch.randn(tensor.shape, generator=g))


def _set_statistics(norm, args):
    x = args[0]
    norm.running_mean.copy_(x.mean(dim=(0, 2, 3)))
    norm.running_var.copy_(x.var(dim=(0, 2, 3)) + 1e-3)


def calibrate_batch_norms(model: torch.nn.Module) -> None:
    """Batch-norm statistics measured on a test image, layer after layer, as training would leave
    them: with random statistics the activations of a deep backbone grow to ~1e5 and the RPN finds
    no box."""
    norms = [m for m in model.modules() if isinstance(m, (FrozenBatchNorm2d, nn.BatchNorm2d))]
    hooks = [norm.register_forward_pre_hook(_set_statistics) for norm in norms]
    try:
        with torch.no_grad():
            model.backbone(model.preprocess_image(given_boxes_inputs(seed=5)).tensor)
    finally:
        for hook in hooks:
            hook.remove()


def build_pair(cfg, **optimize_kwargs):
    torch.manual_seed(0)
    plain = build_model(cfg).eval()
    randomize(plain)
    calibrate_batch_norms(plain)
    optimized = optimize_for_inference(copy.deepcopy(plain), **optimize_kwargs)
    return plain, optimized


def given_boxes_inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (3, *IMAGE_HW), generator=g).float()
    return [{"image": image, "height": IMAGE_HW[0], "width": IMAGE_HW[1]}]


def given_instances() -> List[Instances]:
    return [given_box_instances(IMAGE_HW, BOXES)]


def instances_on_given_boxes(model, inputs=None) -> Instances:
    """The model's outputs (DensePose, masks, keypoints as configured) on `BOXES`."""
    with torch.inference_mode():
        (out,) = model.inference(inputs or given_boxes_inputs(), given_instances())
    return out["instances"]


def results_on_given_boxes(model, cfg, inputs=None) -> list:
    """Per-box results (chart or CSE) of the model on `BOXES`."""
    inst = instances_on_given_boxes(model, inputs)
    with torch.inference_mode():
        return convert(inst, model, cfg)


def convert(inst: Instances, model, cfg) -> list:
    boxes = inst.pred_boxes.tensor
    if is_cse(cfg):
        return cse_output_to_results(
            inst.pred_densepose,
            boxes,
            inst.pred_classes,
            model.roi_heads.embedder,
            cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING,
        )
    return chart_outputs_to_results(inst.pred_densepose, boxes)
