"""The model side of `apply_net.py` (and of the tools built on it: `--ray` workers, the web app):
the config from the command line, the predictor of `--backend`, the CSE context, the meshes the
outputs need, and the check that the outputs suit the model."""

import argparse
import os

from detectron2.config import CfgNode

from ..config import is_cse
from ..converters.prediction import CseContext
from ..data.meshes import (
    MESH_DIR_ENV,
    check_mesh_names,
    check_mesh_vertex_counts,
    parse_mesh_options,
    register_local_meshes,
    require_meshes,
)
from ..engine.inference_config import inference_config
from ..engine.predictor import BackendError, BatchPredictor, InstancesPredictor
from ..utils.cli import UsageError
from .backend import ExportedPredictor

__all__ = [
    "CHART_ONLY",
    "CSE_ONLY",
    "build_predictor",
    "check_model_kind",
    "cse_context",
    "prepare_meshes",
    "setup_config",
]

CHART_ONLY = {"dp_segm", "dp_u", "dp_v", "dp_contour", "dp_iuv_texture", "iuv_png"}
CSE_ONLY = {"dp_vertex", "dp_cse_texture"}


def setup_config(args: argparse.Namespace) -> CfgNode:
    """Config file + --opts + command-line thresholds; MODEL.WEIGHTS = the local checkpoint."""
    return inference_config(
        args.cfg, args.model, args.opts, args.min_score, args.nms_thresh, args.device
    )


def check_model_kind(cfg: CfgNode, needed: set, what: str) -> None:
    """UsageError when chart-only outputs are requested from a CSE model, or the reverse."""
    if not cfg.MODEL.DENSEPOSE_ON and needed - {"bbox", "pkl", "npz", "json", "masks", "keypoints"}:
        raise UsageError(
            f"{what} {', '.join(sorted(needed))} need DensePose, but MODEL.DENSEPOSE_ON is off"
        )
    for name, head_on, key in (
        ("masks", cfg.MODEL.MASK_ON, "MODEL.MASK_ON"),
        ("keypoints", cfg.MODEL.KEYPOINT_ON, "MODEL.KEYPOINT_ON"),
    ):
        if name in needed and not head_on:
            raise UsageError(f"{what} {name} need a model with {key} (e.g. configs/cascade/)")
    wrong = needed & (CHART_ONLY if is_cse(cfg) else CSE_ONLY)
    if wrong:
        kind = "chart" if is_cse(cfg) else "CSE"
        raise UsageError(
            f"{what} {', '.join(sorted(wrong))} need a {kind} model; the config's predictor is "
            f"{cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME}"
        )


def prepare_meshes(args: argparse.Namespace, cfg: CfgNode, names: set) -> None:
    """Registers --mesh / $DENSEPOSE_MESH_DIR files, then loads the meshes the visualizers need,
    so that a missing file is one error before the run."""
    embedders = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS
    local = parse_mesh_options(args.mesh)
    check_mesh_names(local, [*embedders, *cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.values()])
    register_local_meshes(local, os.environ.get(MESH_DIR_ENV) or None, names=list(embedders))
    meshes = []
    if is_cse(cfg) and names & CSE_ONLY:
        meshes = [m for m in cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.values() if m in embedders]
        require_meshes(meshes, extras=("texcoords",) if "dp_cse_texture" in names else ())
    check_mesh_vertex_counts(
        {m: embedders[m].NUM_VERTICES for m in [*meshes, *local] if m in embedders}
    )


def build_predictor(args: argparse.Namespace, cfg: CfgNode):
    """The model runner of --backend: our model (fast path unless --no-optimize) or a file."""
    if args.fp16 and not cfg.MODEL.DEVICE.startswith("cuda"):
        raise UsageError(f"--fp16 needs a CUDA device; the device is {cfg.MODEL.DEVICE!r}")
    if args.backend == "torch":
        if args.exported_model:
            raise UsageError("--exported-model needs --backend torchscript or onnxruntime")
        return BatchPredictor(
            cfg,
            optimize=args.optimize,
            fp16=args.fp16,
            precision=getattr(args, "precision", "fp32"),
            calibration=getattr(args, "calibration", None),
        )
    if args.fp16:
        raise UsageError("--fp16 applies to --backend torch (export with --fp16 instead)")
    if getattr(args, "precision", "fp32") != "fp32":
        raise UsageError(f"--precision {args.precision} applies to --backend torch")
    try:
        return ExportedPredictor(cfg, args.backend, args.exported_model, cfg.MODEL.DEVICE)
    except BackendError as e:
        raise UsageError(str(e)) from e


def cse_context(predictor: InstancesPredictor, cfg: CfgNode):
    if not is_cse(cfg) or predictor.embedder is None:
        return None
    return CseContext(predictor.embedder, cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)
