"""`DATA_SAMPLER.TYPE` -> `PredictionToGroundTruthSampler` with the matching DensePose sampler."""

from typing import Any, Callable, Dict, Optional

import torch

from .chart_samplers import DensePoseConfidenceBasedSampler, DensePoseUniformSampler
from .cse_samplers import DensePoseCSEConfidenceBasedSampler, DensePoseCSEUniformSampler
from .gt_sampler import MaskFromDensePoseSampler, PredictionToGroundTruthSampler

__all__ = ["DENSEPOSE_SAMPLERS", "build_densepose_sampler", "build_data_sampler"]


def _count(sampler_cfg) -> int:
    return int(sampler_cfg.get("COUNT_PER_CLASS", 8))


def _chart_confidence(channel: str):
    def build(cfg, sampler_cfg, embedder, generator):
        return DensePoseConfidenceBasedSampler(channel, _count(sampler_cfg), generator=generator)

    return build


def _cse_common(cfg, sampler_cfg) -> Dict[str, Any]:
    return dict(
        class_to_mesh_name=cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING,
        count_per_class=_count(sampler_cfg),
        use_gt_categories=sampler_cfg.USE_GROUND_TRUTH_CATEGORIES,
    )


# TYPE -> builder(cfg, DATA_SAMPLER cfg node, embedder or None, generator) -> densepose sampler
DENSEPOSE_SAMPLERS: Dict[str, Callable] = {
    "densepose_uniform": lambda cfg, s, e, g: DensePoseUniformSampler(_count(s), generator=g),
    "densepose_UV_confidence": _chart_confidence("sigma_2"),
    "densepose_fine_segm_confidence": _chart_confidence("fine_segm_confidence"),
    "densepose_coarse_segm_confidence": _chart_confidence("coarse_segm_confidence"),
    "densepose_cse_uniform": lambda cfg, s, e, g: DensePoseCSEUniformSampler(
        e, generator=g, **_cse_common(cfg, s)
    ),
    "densepose_cse_coarse_segm_confidence": lambda cfg, s, e, g: DensePoseCSEConfidenceBasedSampler(
        e, confidence_channel="coarse_segm_confidence", generator=g, **_cse_common(cfg, s)
    ),
}


def build_densepose_sampler(
    cfg, sampler_cfg, embedder: Optional[Any] = None, generator: Optional[torch.Generator] = None
) -> Callable:
    if sampler_cfg.TYPE not in DENSEPOSE_SAMPLERS:
        raise KeyError(
            f"unknown DATA_SAMPLER.TYPE {sampler_cfg.TYPE!r}; known: {sorted(DENSEPOSE_SAMPLERS)}"
        )
    return DENSEPOSE_SAMPLERS[sampler_cfg.TYPE](cfg, sampler_cfg, embedder, generator)


def build_data_sampler(
    cfg, sampler_cfg, embedder: Optional[Any] = None, generator: Optional[torch.Generator] = None
) -> Optional[PredictionToGroundTruthSampler]:
    """pred_boxes/pred_classes -> gt_*, scores dropped, pred_densepose -> gt_densepose + gt_masks.

    None when DATA_SAMPLER.TYPE is empty (outputs are then passed on unchanged).
    """
    if not sampler_cfg.TYPE:
        return None
    sampler = PredictionToGroundTruthSampler()
    sampler.register_sampler(
        "pred_densepose",
        "gt_densepose",
        build_densepose_sampler(cfg, sampler_cfg, embedder, generator),
    )
    sampler.register_sampler("pred_densepose", "gt_masks", MaskFromDensePoseSampler())
    return sampler
