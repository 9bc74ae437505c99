"""Command line of `apply_net.py`: `show` (visualizations) and `dump` (results files).

Arguments, defaults and output names follow the original DensePose tool; extras: --batch-size,
--device, --colormap, --alpha, --background, --format, --output_dir, --no-progress, and the
fast-path options --no-optimize, --fp16, --no-overlap, --backend, --exported-model.
"""

import argparse
import json
import logging
import os
import sys
from typing import List, Optional

import torch
from detectron2.config import CfgNode

from ..config import ConfigError, is_cse, load_densepose_config
from ..converters.prediction import CseContext
from ..data.meshes import (
    MESH_DIR_ENV,
    add_mesh_option,
    parse_mesh_options,
    register_local_meshes,
    require_meshes,
)
from ..utils.cli_logging import logging_to_stderr
from ..utils.files import ExternalFileError, resolve_file
from ..utils.third_party_noise import silence_third_party_noise
from ..vis.base import BACKGROUNDS, VisStyle
from ..vis.hint_image import HINT_PRESETS, HintImageRenderer
from ..vis.registry import VisOptions, build_visualizer, parse_visualizer_names
from .backend import BACKENDS, BackendError, ExportedPredictor
from .dump_writers import DUMP_FORMATS, IuvPngWriter, JsonWriter, NpzWriter, PickleWriter
from .files import ItemNamer
from .inputs import InputError, count_frames, list_inputs, read_inputs
from .pipeline import run_apply_overlapped
from .predictor import BatchPredictor
from .runner import RunStats, run_apply
from .show_writer import ShowWriter

__all__ = ["build_parser", "main", "setup_config"]

logger = logging.getLogger("apply_net")

CHART_ONLY = {"dp_segm", "dp_u", "dp_v", "dp_contour", "dp_iuv_texture", "iuv_png"}
CSE_ONLY = {"dp_vertex", "dp_cse_texture"}


class UsageError(ValueError):
    """A bad argument combination, reported in one line before anything is loaded."""


def _add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cfg", metavar="<config>", help="config file (YAML)")
    parser.add_argument(
        "model", metavar="<model>", help="model weights: local path or URL (cached)"
    )
    parser.add_argument(
        "input", metavar="<input>", help="image file, directory, glob pattern or video"
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size",
        "--batch_size",
        dest="batch_size",
        type=int,
        default=1,
        help="images per forward pass (default: 1)",
    )
    parser.add_argument(
        "--device",
        default=None,
        help="torch device (default: MODEL.DEVICE if given in --opts, else cuda if available, else "
        "cpu)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    _add_speed_options(parser)
    parser.add_argument(
        "-v",
        "--verbosity",
        action="count",
        default=0,
        help="-v: info, -vv: debug (default: warnings only)",
    )
    add_mesh_option(parser)
    # consumes the rest of the command line, as in the original: must come last
    parser.add_argument(
        "--opts",
        nargs=argparse.REMAINDER,
        default=[],
        help="config overrides KEY VALUE ... (must be the last option)",
    )


def _add_speed_options(parser: argparse.ArgumentParser) -> None:
    """Fast-path options (docs/inference.md)."""
    parser.add_argument(
        "--no-optimize",
        dest="optimize",
        action="store_false",
        help="run the model as built (no batch-norm folding, Winograd, channels-last)",
    )
    parser.add_argument("--fp16", action="store_true", help="float16 autocast (CUDA devices only)")
    parser.add_argument(
        "--no-overlap",
        dest="overlap",
        action="store_false",
        help="read, run and write one after the other (default: reader/writer threads)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="torch",
        help="torch (default), or an exported model run by torchscript / onnxruntime",
    )
    parser.add_argument(
        "--exported-model",
        dest="exported_model",
        default=None,
        help="file made by densepose_ext.export for --backend (default: exported and cached)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "int8"),
        default="fp32",
        help="int8: CPU post-training quantization (calibrated once per checkpoint and cached)",
    )
    parser.add_argument(
        "--calibration",
        default=None,
        help="folder of images to calibrate --precision int8 on (default: built-in synthetic)",
    )


def _add_show_parser(subparsers) -> None:
    p = subparsers.add_parser("show", help="visualize DensePose predictions on images or videos")
    _add_common_arguments(p)
    p.add_argument(
        "visualizations",
        metavar="<visualizations>",
        nargs="?",
        default=None,
        help="comma-separated, drawn in the order given: bbox, dp_contour, dp_cse_texture, "
        "dp_iuv_texture, dp_segm, dp_u, dp_v, dp_vertex, masks, keypoints; omit it with --preset",
    )
    p.add_argument(
        "--preset",
        choices=sorted(HINT_PRESETS),
        default=None,
        help="draw the hint image of an image-generation tool instead: magicanimate (viridis, "
        "purple background) or civitai (parula, black background); see docs/ecosystem.md",
    )
    p.add_argument(
        "--min_score", type=float, default=0.8, help="minimum detection score (default 0.8)"
    )
    p.add_argument("--nms_thresh", type=float, default=None, help="NMS threshold (default: config)")
    p.add_argument("--texture_atlas", default=None, help="IUV texture atlas image (dp_iuv_texture)")
    p.add_argument(
        "--texture_atlases_map",
        default=None,
        help='JSON {"mesh_name": "atlas image"} (dp_cse_texture)',
    )
    p.add_argument(
        "--output",
        default="outputres.png",
        help="output template; k-th input -> <base>.<kkkk><ext> (default outputres.png)",
    )
    p.add_argument(
        "--colormap", default=None, help="OpenCV colormap name (default: parula; jet for dp_vertex)"
    )
    p.add_argument(
        "--alpha", type=float, default=0.7, help="blend opacity of colormapped overlays (0.7)"
    )
    p.add_argument(
        "--background",
        choices=BACKGROUNDS,
        default="grey",
        help="canvas: grey (default), original or black",
    )
    _add_run_options(p)
    p.set_defaults(command="show")


def _add_dump_parser(subparsers) -> None:
    p = subparsers.add_parser("dump", help="write DensePose predictions to files")
    _add_common_arguments(p)
    p.add_argument("--output", default="results.pkl", help="pickle file (default results.pkl)")
    p.add_argument(
        "--format", default="pkl", help="comma-separated: pkl (default), iuv_png, npz, json"
    )
    p.add_argument(
        "--output_dir",
        "--output-dir",
        dest="output_dir",
        default=None,
        help="directory of per-image files (iuv_png, npz); default: <output without extension>",
    )
    p.add_argument(
        "--min_score", type=float, default=None, help="minimum detection score (default: config)"
    )
    p.add_argument("--nms_thresh", type=float, default=None, help="NMS threshold (default: config)")
    _add_run_options(p)
    p.set_defaults(command="dump")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apply_net.py",
        description="Apply a DensePose model to images or videos: visualize (show) or save (dump).",
    )
    subparsers = parser.add_subparsers(title="subcommands")
    _add_dump_parser(subparsers)
    _add_show_parser(subparsers)
    return parser


def setup_config(args: argparse.Namespace) -> CfgNode:
    """Config file + --opts + command-line thresholds; MODEL.WEIGHTS = the local checkpoint."""
    weights_path = resolve_file(args.model, what="model checkpoint")
    try:
        cfg = load_densepose_config(args.cfg, args.opts)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    if args.min_score is not None:
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = args.min_score
    if args.nms_thresh is not None:
        cfg.MODEL.ROI_HEADS.NMS_THRESH_TEST = args.nms_thresh
    cfg.MODEL.WEIGHTS = weights_path
    cfg.MODEL.DEVICE = _device(args, cfg)
    cfg.freeze()
    return cfg


def _device(args: argparse.Namespace, cfg: CfgNode) -> str:
    """--device, else MODEL.DEVICE when set with --opts, else cuda if available, else cpu."""
    if args.device:
        device = args.device
    elif "MODEL.DEVICE" in (args.opts or [])[::2]:
        device = cfg.MODEL.DEVICE
    else:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(
            f"device {device!r} requested but CUDA is not available (use --device cpu)"
        )
    return device


def _check_model_kind(cfg: CfgNode, needed: set, what: str) -> None:
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


def _vis_options(args: argparse.Namespace) -> VisOptions:
    atlases = {}
    if args.texture_atlases_map:
        try:
            atlases = json.loads(args.texture_atlases_map)
        except json.JSONDecodeError as e:
            raise UsageError(f"--texture_atlases_map is not valid JSON: {e}") from e
        if not isinstance(atlases, dict):
            raise UsageError(
                '--texture_atlases_map must be a JSON object {"mesh_name": "atlas image"}'
            )
    return VisOptions(
        style=VisStyle(colormap=args.colormap, alpha=args.alpha),
        background=args.background,
        texture_atlas=args.texture_atlas,
        texture_atlases_map=atlases,
    )


def _parse_formats(spec: str) -> List[str]:
    formats = [f.strip() for f in spec.split(",") if f.strip()]
    unknown = [f for f in formats if f not in DUMP_FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"unknown dump format {', '.join(unknown) or '(none)'}; known: "
            f"{', '.join(DUMP_FORMATS)}"
        )
    return formats


def _prepare_meshes(args: argparse.Namespace, cfg: CfgNode, names: set) -> None:
    """Registers --mesh / $DENSEPOSE_MESH_DIR files, then loads the meshes the visualizers need,
    so that a missing file is one error before the run."""
    embedders = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS
    local = parse_mesh_options(args.mesh)
    register_local_meshes(local, os.environ.get(MESH_DIR_ENV) or None, names=list(embedders))
    if not is_cse(cfg) or not names & CSE_ONLY:
        return
    meshes = [m for m in cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.values() if m in embedders]
    require_meshes(meshes, extras=("texcoords",) if "dp_cse_texture" in names else ())


def _build_predictor(args: argparse.Namespace, cfg: CfgNode):
    """The model runner of --backend: our model (fast path unless --no-optimize) or a file."""
    if args.fp16 and not cfg.MODEL.DEVICE.startswith("cuda"):
        raise UsageError(f"--fp16 needs a CUDA device; the device is {cfg.MODEL.DEVICE!r}")
    if args.backend == "torch":
        if args.exported_model:
            raise UsageError("--exported-model needs --backend torchscript or onnxruntime")
        return BatchPredictor(cfg, args.optimize, args.fp16, args.precision, args.calibration)
    if args.fp16:
        raise UsageError("--fp16 applies to --backend torch (export with --fp16 instead)")
    if args.precision != "fp32":
        raise UsageError(f"--precision {args.precision} applies to --backend torch")
    try:
        return ExportedPredictor(cfg, args.backend, args.exported_model, cfg.MODEL.DEVICE)
    except BackendError as e:
        raise UsageError(str(e)) from e


def _cse_context(predictor, cfg: CfgNode):
    if isinstance(predictor, ExportedPredictor):
        if predictor.embedder is None or not is_cse(cfg):
            return None
        return CseContext(predictor.embedder, cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)
    embedder = getattr(predictor.model.roi_heads, "embedder", None)
    if not is_cse(cfg) or embedder is None:
        return None
    return CseContext(embedder, cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)


def _preset_names(args: argparse.Namespace) -> List[str]:
    """--preset draws part labels alone: no <visualizations> with it; chart models only."""
    if args.visualizations is not None:
        raise UsageError(
            f"--preset {args.preset} draws the whole picture: drop <visualizations> "
            f"({args.visualizations})"
        )
    return ["dp_segm"]


def _dump_writers(args: argparse.Namespace, formats: List[str]) -> list:
    namer = ItemNamer()
    output_dir = args.output_dir or os.path.splitext(args.output)[0]
    builders = {
        "pkl": lambda: PickleWriter(args.output),
        "iuv_png": lambda: IuvPngWriter(output_dir, namer),
        "npz": lambda: NpzWriter(output_dir, namer),
        "json": lambda: JsonWriter(os.path.splitext(args.output)[0] + ".json"),
    }
    return [builders[f]() for f in formats]


def execute(args: argparse.Namespace) -> RunStats:
    """Validates arguments, loads the model, runs `show` or `dump`; raises on unusable arguments."""
    if args.command == "show" and getattr(args, "preset", None):
        names = _preset_names(args)
    elif args.command == "show":
        if args.visualizations is None:
            raise UsageError("give <visualizations> (e.g. dp_segm,bbox) or --preset")
        names = parse_visualizer_names(args.visualizations)
        options = _vis_options(args)
    else:
        names = _parse_formats(args.format)
    paths = list_inputs(args.input)
    cfg = setup_config(args)
    _check_model_kind(cfg, set(names), "visualizers" if args.command == "show" else "formats")
    _prepare_meshes(args, cfg, set(names))
    if args.command == "show" and getattr(args, "preset", None):
        renderer = HintImageRenderer(args.preset)
    elif args.command == "show":
        renderer = build_visualizer(args.visualizations, options)  # loads atlases: fails early
    predictor = _build_predictor(args, cfg)
    cse = _cse_context(predictor, cfg)
    needs_vertices = set(names) & CSE_ONLY
    if is_cse(cfg) and cse is None and needs_vertices:
        raise UsageError(
            f"{', '.join(sorted(needs_vertices))} need CSE embedders "
            "(MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS is empty)"
        )
    writers = (
        [ShowWriter(args.output, renderer)]
        if args.command == "show"
        else _dump_writers(args, names)
    )
    logger.info(f"{len(paths)} input file(s); model {args.model} on {cfg.MODEL.DEVICE}")
    run = run_apply_overlapped if args.overlap else run_apply
    return run(
        read_inputs(paths),
        predictor,
        writers,
        batch_size=args.batch_size,
        cse=cse,
        expected_total=count_frames(paths),
        progress=args.progress,
    )


def _one_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())


def main(argv: Optional[List[str]] = None) -> int:
    """Exit status: 0 if at least one input was processed, 1 otherwise or on a usage error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    silence_third_party_noise()
    if not hasattr(args, "command"):
        parser.print_help()
        return 0
    try:
        with logging_to_stderr(
            args.verbosity, names=("apply_net", "densepose_ext", "detectron2", "fvcore")
        ):
            stats = execute(args)
    except (InputError, ExternalFileError, UsageError, ValueError, KeyError, OSError) as e:
        print(f"apply_net.py {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    summary = f"{args.command}: processed {stats.processed} item(s)"
    if stats.failed:
        summary += f", skipped {stats.failed} (see warnings above)"
    summary += f" in {stats.total_seconds:.1f}s; outputs: {', '.join(stats.outputs) or 'none'}"
    print(summary, file=sys.stderr)
    return 0 if stats.processed > 0 else 1
