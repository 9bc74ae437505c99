"""`DATA_SAMPLER.TYPE` -> `PredictionToGroundTruthSampler` with the matching DensePose sampler.

Register more with `@BOOTSTRAP_SAMPLER_REGISTRY.register()` on a builder
`(cfg, DATA_SAMPLER cfg node, embedder or None, generator) -> sampler`; its name is the TYPE.
"""

from typing import Any, Callable, Dict, Optional

import torch

from ...config import bootstrap_config_node
from ...utils.registry import NamedRegistry, RegistryDictView
from .chart_samplers import DensePoseConfidenceBasedSampler, DensePoseUniformSampler
from .cse_samplers import DensePoseCSEConfidenceBasedSampler, DensePoseCSEUniformSampler
from .gt_sampler import MaskFromDensePoseSampler, PredictionToGroundTruthSampler

__all__ = [
    "BOOTSTRAP_SAMPLER_REGISTRY",
    "DENSEPOSE_SAMPLERS",
    "build_densepose_sampler",
    "build_data_sampler",
]

BOOTSTRAP_SAMPLER_REGISTRY = NamedRegistry("BOOTSTRAP_SAMPLER", "bootstrap DATA_SAMPLER.TYPE")
BOOTSTRAP_SAMPLER_REGISTRY.__doc__ = "Pseudo-GT samplers of bootstrapping, by DATA_SAMPLER.TYPE."


@BOOTSTRAP_SAMPLER_REGISTRY.register()
def densepose_uniform(cfg, sampler_cfg, embedder, generator):
    return DensePoseUniformSampler(sampler_cfg.COUNT_PER_CLASS, generator=generator)


def _register_chart_confidence(name: str, channel: str) -> None:
    def build(cfg, sampler_cfg, embedder, generator):
        return DensePoseConfidenceBasedSampler(
            channel, sampler_cfg.COUNT_PER_CLASS, generator=generator
        )

    BOOTSTRAP_SAMPLER_REGISTRY.register_as(name)(build)


_register_chart_confidence("densepose_UV_confidence", "sigma_2")
_register_chart_confidence("densepose_fine_segm_confidence", "fine_segm_confidence")
_register_chart_confidence("densepose_coarse_segm_confidence", "coarse_segm_confidence")


def _cse_common(cfg, sampler_cfg) -> Dict[str, Any]:
    return dict(
        class_to_mesh_name=cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING,
        count_per_class=sampler_cfg.COUNT_PER_CLASS,
        use_gt_categories=sampler_cfg.USE_GROUND_TRUTH_CATEGORIES,
    )


@BOOTSTRAP_SAMPLER_REGISTRY.register()
def densepose_cse_uniform(cfg, sampler_cfg, embedder, generator):
    return DensePoseCSEUniformSampler(
        embedder, generator=generator, **_cse_common(cfg, sampler_cfg)
    )


@BOOTSTRAP_SAMPLER_REGISTRY.register()
def densepose_cse_coarse_segm_confidence(cfg, sampler_cfg, embedder, generator):
    return DensePoseCSEConfidenceBasedSampler(
        embedder,
        confidence_channel="coarse_segm_confidence",
        generator=generator,
        **_cse_common(cfg, sampler_cfg),
    )


DENSEPOSE_SAMPLERS = RegistryDictView(BOOTSTRAP_SAMPLER_REGISTRY)  # deprecated dict view


def build_densepose_sampler(
    cfg, sampler_cfg, embedder: Optional[Any] = None, generator: Optional[torch.Generator] = None
) -> Callable:
    """The DensePose sampler of `DATA_SAMPLER` (missing keys take the schema defaults)."""
    sampler_cfg = bootstrap_config_node("DATA_SAMPLER", sampler_cfg)
    builder = BOOTSTRAP_SAMPLER_REGISTRY.get(sampler_cfg.TYPE)
    return builder(cfg, sampler_cfg, embedder, generator)


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
