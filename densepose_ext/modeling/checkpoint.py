"""`DensePoseCheckpointer`: detectron2's checkpointer plus the raw-HRNet-weights rename rule."""

import re
from typing import Any, Dict

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.utils.file_io import PathManager

__all__ = ["CheckpointFileError", "DensePoseCheckpointer", "is_raw_hrnet_state_dict"]

# signature of the raw HRNet ImageNet / pose weights distributed with HRNet
RAW_HRNET_NUM_KEYS = 1956
RAW_HRNET_NUM_STAGE_KEYS = 1716
RAW_HRNET_PREFIX = "backbone.bottom_up."


# a checkpoint is a torch.save zip archive or a pickle of protocol >= 2 (both .pth and .pkl)
CHECKPOINT_MAGIC = (b"PK\x03\x04", b"\x80")


class CheckpointFileError(ValueError):
    """A file that is not a checkpoint or cannot be read as one; one line naming the file."""


def _file_start(filename: str, size: int = 64) -> bytes:
    try:
        with PathManager.open(filename, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def describe_unreadable(filename: str, error: BaseException) -> str:
    """Why `filename` did not load, in one line: "not a checkpoint (it starts with text ...)"
    rather than the unpickler's complaint, or the first sentence of the loader's message (torch's
    `weights_only` explanation runs to 600 characters)."""
    start = _file_start(filename)
    if start and not start.startswith(CHECKPOINT_MAGIC):
        text = start.decode("utf-8", errors="replace").split("\n")[0][:40]
        looks = f"it starts with {text!r}" if text.isprintable() else "unknown binary content"
        return (
            f"cannot load checkpoint {filename!r}: not a checkpoint file ({looks}); expected a "
            ".pth / .pkl file written by torch.save or detectron2"
        )
    text = " ".join(str(error).split())
    refused = re.search(r"WeightsUnpickler error: ([^.]*)", text)
    if refused:  # torch.load(weights_only=True) met a class it does not trust
        return (
            f"cannot read checkpoint {filename!r}: it holds more than tensors and torch refuses "
            f"to unpickle it safely ({refused.group(1)})"
        )
    return f"cannot read checkpoint {filename!r}: {type(error).__name__}: {text.split('. ')[0]}"


def is_raw_hrnet_state_dict(model_state: Dict[str, Any]) -> bool:
    """True for exactly 1956 keys of which exactly 1716 start with "stage"."""
    num_stage = sum(1 for k in model_state if k.startswith("stage"))
    return len(model_state) == RAW_HRNET_NUM_KEYS and num_stage == RAW_HRNET_NUM_STAGE_KEYS


class DensePoseCheckpointer(DetectionCheckpointer):
    """Loads like `DetectionCheckpointer`; raw HRNet weights get the `backbone.bottom_up.` prefix.

    There are no other renames: DensePose model-zoo pickles load by exact key name.
    """

    def _load_file(self, filename: str) -> Dict[str, Any]:
        try:
            loaded = super()._load_file(filename)
        except Exception as e:  # text, truncated archive, unpickler / weights_only refusal
            raise CheckpointFileError(describe_unreadable(filename, e)) from e
        model_state = loaded.get("model")
        if isinstance(model_state, dict) and is_raw_hrnet_state_dict(model_state):
            self.logger.info("Raw HRNet weights detected: prefixing keys with " + RAW_HRNET_PREFIX)
            loaded["model"] = {RAW_HRNET_PREFIX + k: v for k, v in model_state.items()}
        return loaded
