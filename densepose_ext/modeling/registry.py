"""Registries users extend with their own DensePose heads, predictors and losses."""

from detectron2.utils.registry import Registry

ROI_DENSEPOSE_HEAD_REGISTRY = Registry("ROI_DENSEPOSE_HEAD")
ROI_DENSEPOSE_HEAD_REGISTRY.__doc__ = (
    "DensePose head bodies, selected by MODEL.ROI_DENSEPOSE_HEAD.NAME."
)

DENSEPOSE_PREDICTOR_REGISTRY = Registry("DENSEPOSE_PREDICTOR")
DENSEPOSE_PREDICTOR_REGISTRY.__doc__ = (
    "DensePose predictors, selected by MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME."
)

DENSEPOSE_LOSS_REGISTRY = Registry("DENSEPOSE_LOSS")
DENSEPOSE_LOSS_REGISTRY.__doc__ = (
    "DensePose losses, selected by MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME."
)


def build_densepose_head(cfg, input_channels: int):
    return ROI_DENSEPOSE_HEAD_REGISTRY.get(cfg.MODEL.ROI_DENSEPOSE_HEAD.NAME)(cfg, input_channels)


def build_densepose_predictor(cfg, input_channels: int):
    return DENSEPOSE_PREDICTOR_REGISTRY.get(cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME)(
        cfg, input_channels
    )


def build_densepose_losses(cfg):
    return DENSEPOSE_LOSS_REGISTRY.get(cfg.MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME)(cfg)
