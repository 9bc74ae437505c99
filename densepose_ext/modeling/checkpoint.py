"""`DensePoseCheckpointer`: detectron2's checkpointer plus the raw-HRNet-weights rename rule."""

from typing import Any, Dict

from detectron2.checkpoint import DetectionCheckpointer

__all__ = ["DensePoseCheckpointer", "is_raw_hrnet_state_dict"]

# signature of the raw HRNet ImageNet / pose weights distributed with HRNet
RAW_HRNET_NUM_KEYS = 1956
RAW_HRNET_NUM_STAGE_KEYS = 1716
RAW_HRNET_PREFIX = "backbone.bottom_up."


def is_raw_hrnet_state_dict(model_state: Dict[str, Any]) -> bool:
    """True for exactly 1956 keys of which exactly 1716 start with "stage"."""
    num_stage = sum(1 for k in model_state if k.startswith("stage"))
    return len(model_state) == RAW_HRNET_NUM_KEYS and num_stage == RAW_HRNET_NUM_STAGE_KEYS


class DensePoseCheckpointer(DetectionCheckpointer):
    """Loads like `DetectionCheckpointer`; raw HRNet weights get the `backbone.bottom_up.` prefix.

    There are no other renames: DensePose model-zoo pickles load by exact key name.
    """

    def _load_file(self, filename: str) -> Dict[str, Any]:
        loaded = super()._load_file(filename)
        model_state = loaded.get("model")
        if isinstance(model_state, dict) and is_raw_hrnet_state_dict(model_state):
            self.logger.info("Raw HRNet weights detected: prefixing keys with " + RAW_HRNET_PREFIX)
            loaded["model"] = {RAW_HRNET_PREFIX + k: v for k, v in model_state.items()}
        return loaded
