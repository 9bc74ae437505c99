"""Filters applied to the master model's outputs before sampling (`FILTER.TYPE`)."""

from typing import Any, Callable, Dict, List, Optional

from ...config import bootstrap_config_node
from ...utils.registry import NamedRegistry, RegistryDictView

__all__ = [
    "BOOTSTRAP_FILTER_REGISTRY",
    "INFERENCE_FILTERS",
    "ScoreBasedFilter",
    "build_inference_filter",
]


class ScoreBasedFilter:
    """Keeps detections with `scores` >= min_score; outputs without scores are left untouched."""

    def __init__(self, min_score: float = 0.8):
        self.min_score = float(min_score)

    def __call__(self, model_outputs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        for output in model_outputs:
            instances = output["instances"]
            if not instances.has("scores"):
                continue
            output["instances"] = instances[instances.scores >= self.min_score]
        return model_outputs


BOOTSTRAP_FILTER_REGISTRY = NamedRegistry("BOOTSTRAP_FILTER", "bootstrap FILTER.TYPE")
BOOTSTRAP_FILTER_REGISTRY.__doc__ = (
    "Filters of the master model's outputs, by FILTER.TYPE: builder(FILTER cfg node) -> filter."
)


@BOOTSTRAP_FILTER_REGISTRY.register()
def detection_score(filter_cfg) -> ScoreBasedFilter:
    return ScoreBasedFilter(min_score=filter_cfg.MIN_VALUE)


INFERENCE_FILTERS = RegistryDictView(BOOTSTRAP_FILTER_REGISTRY)  # deprecated dict view


def build_inference_filter(filter_cfg) -> Optional[Callable]:
    """Filter for `FILTER` of a bootstrap dataset spec (missing keys take the schema defaults);
    None when TYPE is empty."""
    filter_cfg = bootstrap_config_node("FILTER", filter_cfg)
    if not filter_cfg.TYPE:
        return None
    return BOOTSTRAP_FILTER_REGISTRY.get(filter_cfg.TYPE)(filter_cfg)
