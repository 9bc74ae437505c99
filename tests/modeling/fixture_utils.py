"""Loading the golden numeric fixtures (tests/fixtures/golden, see its README.md) into our model."""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling import build_roi_heads
from detectron2.structures import Boxes, Instances
from fixture_paths import golden_case_dir

from densepose_ext.config import get_densepose_cfg

FEATURE_STRIDES = {"p2": 4, "p3": 8, "p4": 16, "p5": 32}
DENSEPOSE_PREFIXES = (
    "roi_heads.decoder.",
    "roi_heads.densepose_head.",
    "roi_heads.densepose_predictor.",
    "roi_heads.embedder.",
)


@dataclass
class GoldenCase:
    """One fixture case: config, inputs, reference weights/outputs/intermediates as numpy dicts."""

    name: str
    directory: Path
    cfg: object
    inputs: Dict[str, np.ndarray]
    weights: Dict[str, np.ndarray]  # full state-dict names, original order
    outputs: Dict[str, np.ndarray]  # raw fields sampled every `raw_stride` rows and columns
    intermediates: Dict[str, np.ndarray]  # empty for the compact copy in the repository
    raw_stride: int = 1

    def raw(self, value: torch.Tensor) -> np.ndarray:
        """Our raw output field sampled like the stored reference (every `raw_stride` pixel)."""
        return value.numpy()[..., :: self.raw_stride, :: self.raw_stride]

    def features(self) -> Dict[str, torch.Tensor]:
        return {k: torch.from_numpy(self.inputs[k]) for k in FEATURE_STRIDES}

    def instances(self) -> Instances:
        h, w = (int(v) for v in self.inputs["image_size"])
        inst = Instances((h, w))
        inst.pred_boxes = Boxes(torch.from_numpy(self.inputs["boxes"]))
        inst.pred_classes = torch.from_numpy(self.inputs["pred_classes"])
        return inst


def _load_npz(path: Path) -> Dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _inputs_path(directory: Path) -> Path:
    """`inputs.npz`, or the file named by `inputs.link` (cases sharing their inputs)."""
    link = directory / "inputs.link"
    if link.is_file():
        return (directory / link.read_text().strip()).resolve()
    return directory / "inputs.npz"


def load_golden_case(name: str, root: Optional[Path] = None) -> GoldenCase:
    """Reads the case `name` from `root` (default: the copy shipped in tests/fixtures/golden).

    `root` may also hold the full fixtures (with `intermediates.npz`, raw fields at full size).
    """
    directory = Path(root) / name if root is not None else golden_case_dir(name)
    if not (directory / "config.yaml").is_file():
        raise FileNotFoundError(f"golden fixture missing: {directory}")
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(directory / "config.yaml"))
    cfg.freeze()
    outputs = _load_npz(directory / "outputs.npz")
    raw_stride = int(outputs.pop("raw_stride", 1))
    intermediates_path = directory / "intermediates.npz"
    return GoldenCase(
        name,
        directory,
        cfg,
        _load_npz(_inputs_path(directory)),
        _load_npz(directory / "weights.npz"),
        outputs,
        _load_npz(intermediates_path) if intermediates_path.is_file() else {},
        raw_stride,
    )


def fpn_input_shape(channels: int) -> Dict[str, ShapeSpec]:
    return {k: ShapeSpec(channels=channels, stride=s) for k, s in FEATURE_STRIDES.items()}


def densepose_state_dict(roi_heads: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """State-dict entries of the DensePose submodules,
    named as in a full model (`roi_heads.` prefix)."""
    full = {"roi_heads." + k: v for k, v in roi_heads.state_dict().items()}
    return {k: v for k, v in full.items() if k.startswith(DENSEPOSE_PREFIXES)}


def build_golden_roi_heads(case: GoldenCase) -> torch.nn.Module:
    """ROI heads of the case's config with the fixture weights loaded strictly, in eval mode."""
    channels = int(case.inputs["p2"].shape[1])
    roi_heads = build_roi_heads(case.cfg, fpn_input_shape(channels))
    by_module: Dict[str, dict] = {}
    for key, value in case.weights.items():
        prefix = next(p for p in DENSEPOSE_PREFIXES if key.startswith(p))
        by_module.setdefault(prefix, {})[key[len(prefix) :]] = torch.from_numpy(value)
    for prefix, state in by_module.items():
        module = getattr(roi_heads, prefix[len("roi_heads.") : -1])
        module.load_state_dict(state, strict=True)
    return roi_heads.eval()


def run_golden_case(case: GoldenCase, roi_heads: torch.nn.Module) -> Instances:
    """Runs the DensePose branch on the fixture boxes (the `forward_with_given_boxes` path)."""
    with torch.no_grad():
        (result,) = roi_heads.forward_with_given_boxes(case.features(), [case.instances()])
    return result
