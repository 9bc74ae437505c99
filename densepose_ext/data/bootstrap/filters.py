"""Filters applied to the master model's outputs before sampling (`FILTER.TYPE`)."""

from typing import Any, Callable, Dict, List, Optional

__all__ = ["ScoreBasedFilter", "INFERENCE_FILTERS", "build_inference_filter"]


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


def _score_filter(filter_cfg) -> ScoreBasedFilter:
    min_value = filter_cfg.get("MIN_VALUE", None)
    return ScoreBasedFilter() if min_value is None else ScoreBasedFilter(min_score=min_value)


# FILTER.TYPE -> builder(filter cfg node)
INFERENCE_FILTERS: Dict[str, Callable[[Any], Callable]] = {"detection_score": _score_filter}


def build_inference_filter(filter_cfg) -> Optional[Callable]:
    """Filter for `FILTER` of a bootstrap dataset spec; None when TYPE is empty."""
    if not filter_cfg.TYPE:
        return None
    if filter_cfg.TYPE not in INFERENCE_FILTERS:
        raise KeyError(
            f"unknown bootstrap FILTER.TYPE {filter_cfg.TYPE!r}; known: {sorted(INFERENCE_FILTERS)}"
        )
    return INFERENCE_FILTERS[filter_cfg.TYPE](filter_cfg)
