"""Model outputs -> training samples: `pred_*` fields turned into `gt_*` fields by samplers."""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from detectron2.structures import BitMasks, Instances

from ...converters.to_mask import ToMaskConverter

__all__ = ["MaskFromDensePoseSampler", "PredictionToGroundTruthSampler"]


class MaskFromDensePoseSampler:
    """`pred_densepose` (chart or CSE) + `pred_boxes` -> image-size bool `BitMasks` [N, H, W]."""

    def __call__(self, instances: Instances) -> BitMasks:
        return ToMaskConverter.convert(
            instances.pred_densepose, instances.pred_boxes, instances.image_size
        )


@dataclass
class _FieldSampler:
    src: str
    dst: Optional[str]  # None: the source field is just removed
    func: Optional[Callable[[Instances], Any]]  # None: copy


class PredictionToGroundTruthSampler:
    """Applies registered (src -> dst) field samplers to the `instances` of each model output.

    Defaults: pred_boxes -> gt_boxes and pred_classes -> gt_classes (copies), scores removed.
    Source fields are removed once all samplers have run;
    every output gets `dataset` = dataset_name.
    """

    def __init__(self, dataset_name: str = ""):
        self.dataset_name = dataset_name
        self._samplers: Dict[tuple, _FieldSampler] = {}
        self.register_sampler("pred_boxes", "gt_boxes", None)
        self.register_sampler("pred_classes", "gt_classes", None)
        self.register_sampler("scores", None, None)

    def register_sampler(
        self, src: str, dst: Optional[str], func: Optional[Callable] = None
    ) -> None:
        self._samplers[(src, dst)] = _FieldSampler(src, dst, func)

    def __call__(self, model_outputs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        for output in model_outputs:
            instances: Instances = output["instances"]
            for sampler in self._samplers.values():
                if sampler.dst is None or not instances.has(sampler.src):
                    continue
                value = (
                    instances.get(sampler.src) if sampler.func is None else sampler.func(instances)
                )
                instances.set(sampler.dst, value)
            for sampler in self._samplers.values():
                if sampler.src != sampler.dst and instances.has(sampler.src):
                    instances.remove(sampler.src)
            output["dataset"] = self.dataset_name
        return model_outputs
