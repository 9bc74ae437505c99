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

from ..config import is_cse
from ..data.meshes import (
    add_mesh_option,
)
from ..engine.inputs import InputError, count_frames, list_inputs, read_inputs
from ..engine.output_files import ItemNamer, numbered_path
from ..engine.show_writer import ShowWriter
from ..utils.cli import UsageError, parse_command, run_cli
from ..utils.files import ExternalFileError, check_output_dir, check_output_path
from ..utils.third_party_noise import silence_third_party_noise
from ..vis.base import BACKGROUNDS, VisStyle
from ..vis.hint_image import HINT_PRESETS, HintImageRenderer
from ..vis.registry import VisOptions, build_visualizer, parse_visualizer_names
from .backend import BACKENDS
from .dump_writers import DUMP_FORMATS, IuvPngWriter, JsonWriter, NpzWriter, PickleWriter
from .model_setup import (
    CSE_ONLY,
    build_predictor,
    check_model_kind,
    cse_context,
    prepare_meshes,
    setup_config,
)
from .runner import RunStats, run_apply

__all__ = ["UsageError", "build_parser", "main", "setup_config"]

logger = logging.getLogger("apply_net")


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
    _add_video_arguments(p, show=True)
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
    _add_video_arguments(p, show=False)
    _add_run_options(p)
    from .distributed.cli import add_arguments as add_ray_arguments  # issue 27: --ray

    add_ray_arguments(p)
    p.set_defaults(command="dump")


def _add_video_arguments(parser: argparse.ArgumentParser, show: bool) -> None:
    """--temporal & co. (docs/video.md); the video subpackage sits above apply, and the command
    line above both, hence the import here."""
    from ..video.cli import add_video_arguments

    add_video_arguments(parser, show=show)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apply_net.py",
        description="Apply a DensePose model to images or videos: visualize (show) or save (dump).",
    )
    subparsers = parser.add_subparsers(title="subcommands")
    _add_dump_parser(subparsers)
    _add_show_parser(subparsers)
    return parser


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


def _check_outputs(args: argparse.Namespace, names: List[str]) -> None:
    """Output paths that cannot be written are one error before the model is loaded."""
    if args.command == "show":
        check_output_path(numbered_path(args.output, 1), "--output")
        return
    if "pkl" in names:
        check_output_path(args.output, "--output")
    if "json" in names:
        check_output_path(os.path.splitext(args.output)[0] + ".json", "--output (json)")
    if {"iuv_png", "npz"} & set(names):
        check_output_dir(args.output_dir or os.path.splitext(args.output)[0], "--output_dir")


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
    _check_outputs(args, names)
    paths = list_inputs(args.input)
    items, stage, wrap_renderer = read_inputs(paths), None, None
    if args.temporal or args.square_crop is not None or getattr(args, "draw_track_ids", False):
        from ..video.cli import setup_video

        items, stage, wrap_renderer = setup_video(args, paths)
    cfg = setup_config(args)
    check_model_kind(cfg, set(names), "visualizers" if args.command == "show" else "formats")
    prepare_meshes(args, cfg, set(names))
    if args.command == "show" and getattr(args, "preset", None):
        renderer = HintImageRenderer(args.preset)
    elif args.command == "show":
        renderer = build_visualizer(args.visualizations, options)  # loads atlases: fails early
    if args.command == "dump":  # issue 27: --ray runs on a Ray cluster (docs/distributed.md)
        from .distributed.cli import run_dump

        ray_stats = run_dump(args, cfg, names, lambda: _dump_writers(args, names))
        if ray_stats is not None:
            return ray_stats
    predictor = build_predictor(args, cfg)
    cse = cse_context(predictor, cfg)
    needs_vertices = set(names) & CSE_ONLY
    if is_cse(cfg) and cse is None and needs_vertices:
        raise UsageError(
            f"{', '.join(sorted(needs_vertices))} need CSE embedders "
            "(MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS is empty)"
        )
    if wrap_renderer is not None and args.command == "show":
        renderer = wrap_renderer(renderer)
    writers = (
        [ShowWriter(args.output, renderer)]
        if args.command == "show"
        else _dump_writers(args, names)
    )
    logger.info(f"{len(paths)} input file(s); model {args.model} on {cfg.MODEL.DEVICE}")
    return run_apply(
        items,
        predictor,
        writers,
        batch_size=args.batch_size,
        cse=cse,
        expected_total=count_frames(paths),
        progress=args.progress,
        overlap=args.overlap,
        stage=stage,
    )


def main(argv: Optional[List[str]] = None) -> int:
    """Exit status: 0 if at least one input was processed, 1 otherwise or on a usage error."""
    args = parse_command(build_parser(), argv)
    silence_third_party_noise()
    if args is None:
        return 0

    def body() -> int:
        stats = execute(args)
        summary = f"{args.command}: processed {stats.processed} item(s)"
        if stats.failed:
            summary += f", skipped {stats.failed} (see warnings above)"
        outputs = ", ".join(stats.outputs) or "none"
        print(summary + f" in {stats.total_seconds:.1f}s; outputs: {outputs}", file=sys.stderr)
        return 0 if stats.processed > 0 else 1

    return run_cli(
        f"apply_net.py {args.command}",
        body,
        args.verbosity,
        errors=(InputError, ExternalFileError, ValueError, KeyError, OSError),
        loggers=("apply_net", "densepose_ext", "detectron2", "fvcore"),
    )
