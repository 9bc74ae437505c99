"""Tiny DensePose models for export tests: small backbone / head, well-scaled random weights."""

import os
import sys
import textwrap
from pathlib import Path

import torch
from torch import nn

from densepose_ext.config import clear_external_files, get_densepose_cfg
from densepose_ext.export import build_export_model

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS_DIR = REPO_ROOT / "configs"
RUNNER = REPO_ROOT / "densepose_ext" / "export" / "run.py"
IMAGE_HW = (192, 264)  # an input that ResizeShortestEdge(192, 320) leaves at its size


def tiny_config(relative_path: str):
    """`configs/<relative_path>` shrunk for CPU tests: ResNet-18, 32/64 channels, 192 px input."""
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(CONFIGS_DIR / relative_path))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.RESNETS.DEPTH = 18
    cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
    # GroupNorm(32) of the DeepLab head needs >= 64 channels on its 1x1 pooled branch
    cfg.MODEL.FPN.OUT_CHANNELS = 64 if "DL" in relative_path else 32
    cfg.MODEL.PIXEL_STD = [58.0, 58.0, 58.0]  # keeps random-weight activations O(1)
    cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64
    cfg.MODEL.RPN.POST_NMS_TOPK_TEST = 100
    cfg.TEST.DETECTIONS_PER_IMAGE = 8
    cfg.INPUT.MIN_SIZE_TEST = 192  # larger than the exporter's tracing resize (160, 256)
    cfg.INPUT.MAX_SIZE_TEST = 320
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    head.NUM_STACKED_CONVS = 2
    head.CONV_HEAD_DIM = 64
    head.DECODER_CONV_DIMS = 32
    head.DECODER_NUM_CLASSES = (
        cfg.MODEL.FPN.OUT_CHANNELS
    )  # the head's input width, as in real configs
    return clear_external_files(cfg)


def tame_weights(model: nn.Module, seed: int = 0) -> nn.Module:
    """Variance-preserving random weights, small box / anchor deltas, foreground-biased scores.

    Default inits blow activations up to hundreds, which turns float rounding into large absolute
    differences; here outputs stay O(1-10) and every image gets detections with distinct scores.
    """
    g = torch.Generator().manual_seed(seed)
    small = ("anchor_deltas", "bbox_pred", "cls_score")
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                w = m.weight
                fan_in = (
                    w[0].numel()
                    if not isinstance(m, nn.ConvTranspose2d)
                    else w.shape[0] * w[0, 0].numel() / 4
                )
                gain = 0.1 if any(s in name for s in small) else 1.0
                w.copy_(torch.randn(w.shape, generator=g) * gain / fan_in**0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        bias = model.roi_heads.box_predictor.cls_score.bias
        bias[:-1] = 2.0  # foreground classes; background is last
        bias[-1] = 0.0
        for name, value in list(model.named_parameters()) + list(model.named_buffers()):
            if name.startswith("roi_heads.embedder."):
                value.copy_(torch.randn(value.shape, generator=g))
    return model


def tiny_model(cfg, seed: int = 0) -> nn.Module:
    return tame_weights(build_export_model(cfg), seed)


def save_checkpoint(model: nn.Module, path) -> str:
    torch.save({"model": model.state_dict()}, str(path))
    return str(path)


def random_image(hw=IMAGE_HW, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (*hw, 3), dtype=torch.uint8, generator=g)


BLOCKER = textwrap.dedent(
    """
    import sys

    class _BlockPackages:
        blocked = ("detectron2", "densepose_ext")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.blocked:
                raise ImportError(f"{name} is blocked in this interpreter")
            return None

    sys.meta_path.insert(0, _BlockPackages())
    """
)


def isolated_env(directory: Path) -> dict:
    """Environment whose `sitecustomize` makes `import detectron2` / `import densepose_ext` fail."""
    site_dir = directory / "blocker"
    site_dir.mkdir(exist_ok=True)
    (site_dir / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site_dir)
    env["OMP_NUM_THREADS"] = "1"
    return env


PYTHON = sys.executable
