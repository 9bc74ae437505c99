"""`python -m densepose_ext.texture extract | convert | apply` (see docs/texture.md).

Batch jobs report a bad item (unreadable image, missing results, no person) in one line and go
on; outputs are written atomically at the end (extract) or item by item (apply).
"""

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from ..config import is_cse
from ..engine.inference_config import inference_config
from ..engine.inputs import InputError, InputItem, count_frames, list_inputs, read_inputs
from ..engine.output_files import ItemNamer, atomic_write_image, numbered_path
from ..engine.show_writer import ShowWriter
from ..utils.cli import UsageError, one_line, parse_command, run_cli
from ..utils.files import ExternalFileError, check_output_path
from ..utils.third_party_noise import silence_third_party_noise
from ..vis.texture_atlas import read_texture, with_alpha
from .extract import WEIGHTINGS, TextureAccumulator
from .files import load_texture
from .people import NoPersonError, PersonChart, select_people
from .retexture import parse_parts, people_order, retexture
from .smpl_layout import DEFAULT_SMPL_SIZE, atlas_to_smpl, smpl_to_atlas
from .sources import DumpSource, IuvDirSource, ModelSource

__all__ = ["build_parser", "main"]

logger = logging.getLogger("densepose_ext.texture")

ITEM_ERRORS = (ExternalFileError, NoPersonError, ValueError, KeyError, OSError, RuntimeError)


@dataclass
class JobStats:
    processed: int = 0
    errors: List[str] = field(default_factory=list)

    def report(self, message: str) -> None:
        self.errors.append(message)
        logger.warning(message)


def _add_results_options(p: argparse.ArgumentParser, default_instance: str) -> None:
    group = p.add_argument_group("DensePose results (one of)")
    group.add_argument("--dump", help="apply_net dump pickle (results.pkl)")
    group.add_argument("--iuv-dir", help="folder of apply_net dump --format iuv_png files")
    group.add_argument("--config", dest="cfg", help="chart model config (with --model)")
    group.add_argument("--model", help="model checkpoint (with --config)")
    group.add_argument(
        "--min-score", dest="min_score", type=float, default=None, help="detection score threshold"
    )
    group.add_argument("--device", default=None, help="torch device for --model runs")
    p.add_argument(
        "--instance",
        default=None,
        help=f"person: K (1-based detection number) or 'all' (default: {default_instance})",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.texture",
        description="Extract a person's texture atlas, convert atlas <-> SMPL, re-texture people.",
    )
    sub = parser.add_subparsers(title="subcommands", dest="command")

    p = sub.add_parser("extract", help="images / video + DensePose results -> texture atlas")
    p.add_argument("input", nargs="?", help="image, folder, glob or video (default: --dump's)")
    p.add_argument("--output", default="texture.png", help="atlas PNG (default texture.png)")
    p.add_argument("--coverage", help="coverage map PNG (default <output>_coverage.png)")
    p.add_argument("--smpl", help="also write the texture in SMPL layout to this PNG")
    p.add_argument(
        "--smpl-size", type=int, default=DEFAULT_SMPL_SIZE, help=f"({DEFAULT_SMPL_SIZE})"
    )
    p.add_argument("--tile", type=int, default=200, help="atlas tile size (default 200)")
    p.add_argument(
        "--weighting", choices=WEIGHTINGS, default="both", help="pixel weights (default both)"
    )
    p.add_argument(
        "--supersample", type=int, default=2, help="k x k samples per pixel (default 2; 1 = off)"
    )
    p.add_argument(
        "--fill-holes",
        nargs="?",
        type=float,
        const=float("inf"),
        default=None,
        metavar="DIST",
        help="inpaint unseen texels (within DIST texels; no DIST: the whole tile) per part",
    )
    _add_results_options(p, "the highest score")

    p = sub.add_parser("convert", help="atlas <-> SMPL UV texture")
    p.add_argument("input", help="atlas (6N x 4N) or SMPL texture (square) image")
    p.add_argument("output", help="output PNG (alpha = known texels)")
    p.add_argument("--to", choices=("smpl", "atlas"), default=None, help="default: the other")
    p.add_argument(
        "--size", type=int, default=None, help=f"SMPL side ({DEFAULT_SMPL_SIZE}) or tile (200)"
    )

    p = sub.add_parser("apply", help="dress detected people in a texture (atlas or SMPL)")
    p.add_argument("input", nargs="?", help="image, folder, glob or video (default: --dump's)")
    p.add_argument("--texture", required=True, help="atlas or SMPL texture image")
    p.add_argument(
        "--output",
        default="retextured.png",
        help="template: k-th input -> <base>.<kkkk><ext>; videos -> .mp4 (as apply_net show)",
    )
    p.add_argument("--opacity", type=float, default=1.0, help="0..1 (default 1)")
    p.add_argument("--keep-shading", action="store_true", help="multiply by luminance ratio")
    p.add_argument("--parts", default=None, help="e.g. clothes, torso,arms, 1,2,7-22 (all)")
    _add_results_options(p, "all")
    return parser


def _parse_instance(spec: Optional[str]):
    if spec is None or spec == "all":
        return spec
    try:
        k = int(spec)
    except ValueError:
        raise UsageError(f"--instance must be a number >= 1 or 'all', got {spec!r}") from None
    if k < 1:
        raise UsageError(f"--instance must be >= 1, got {k}")
    return k


def _results_source(args):
    given = [n for n in ("dump", "iuv_dir", "cfg") if getattr(args, n)]
    if len(given) != 1 or (args.cfg is None) != (args.model is None):
        raise UsageError("give exactly one of --dump, --iuv-dir, or --config with --model")
    if args.dump:
        return DumpSource(args.dump)
    if args.iuv_dir:
        return IuvDirSource(args.iuv_dir)
    cfg = inference_config(args.cfg, args.model, min_score=args.min_score, device=args.device)
    if is_cse(cfg):
        raise UsageError(f"texture tools need a chart (IUV) model; {args.cfg!r} is a CSE model")
    return ModelSource(cfg)


def _input_paths(args, source) -> List[str]:
    if args.input is not None:
        return list_inputs(args.input)
    if isinstance(source, DumpSource):
        return source.input_paths()
    raise UsageError("an input (image, folder, glob or video) is needed without --dump")


def _people_per_item(
    paths: List[str], source, instance, stats: JobStats, progress: bool, desc: str
) -> Iterator[Tuple[InputItem, Optional[List[PersonChart]]]]:
    """(item, chosen people) per readable item; people None when the item failed (reported)."""
    namer = ItemNamer()
    bar = tqdm(total=count_frames(paths), unit="img", desc=desc, disable=not progress)
    try:
        for item in read_inputs(paths):
            bar.update(1)
            if item.error is not None:
                stats.report(item.error)
                continue
            try:
                people = source.people(item, namer.stem(item))
                chosen = select_people(people, instance, item.name)
            except ITEM_ERRORS as e:
                stats.report(f"skipped {item.name}: {one_line(e)}")
                yield item, None
                continue
            yield item, chosen
    finally:
        bar.close()


ALPHA_EXTENSIONS = (".png", ".tif", ".tiff", ".webp")  # OpenCV writes 4 channels to these


def _check_texture_output(path: Optional[str], option: str) -> None:
    """A texture file keeps its known texels as alpha: refuse a format without one (JPEG would
    silently drop it), and a path that cannot be written, before any work."""
    if path is None:
        return
    ext = os.path.splitext(path)[1].lower() or ".png"
    if ext not in ALPHA_EXTENSIONS:
        raise UsageError(
            f"{option} {path!r}: {ext} has no alpha channel, which carries the known texels; "
            f"write {', '.join(ALPHA_EXTENSIONS)}"
        )
    check_output_path(path, option)


def _suffixed(path: str, suffix: str) -> str:
    base, ext = os.path.splitext(path)
    return f"{base}{suffix}{ext or '.png'}"


def run_extract(args) -> Tuple[JobStats, List[str]]:
    instance = _parse_instance(args.instance)
    _check_texture_output(args.output, "--output")
    _check_texture_output(args.smpl, "--smpl")
    check_output_path(args.coverage or _suffixed(args.output, "_coverage"), "--coverage")
    source = _results_source(args)
    paths = _input_paths(args, source)
    stats = JobStats()
    accumulators: Dict[int, TextureAccumulator] = {}
    for item, people in _people_per_item(paths, source, instance, stats, args.progress, "extract"):
        if people is None:
            continue
        for person in people:
            key = person.index if instance == "all" else 0
            if key not in accumulators:
                accumulators[key] = TextureAccumulator(args.tile, args.weighting, args.supersample)
            accumulators[key].add(item.image, person)
        stats.processed += 1
    if not accumulators:
        raise NoPersonError(f"no person found in any input ({len(stats.errors)} skipped)")
    written = []
    for key in sorted(accumulators):
        texture = accumulators[key].result(args.fill_holes)
        output = args.output if instance != "all" else _suffixed(args.output, f".person{key}")
        coverage = args.coverage or _suffixed(output, "_coverage")
        if instance == "all" and args.coverage:
            coverage = _suffixed(args.coverage, f".person{key}")
        atomic_write_image(output, texture.bgra())
        atomic_write_image(coverage, texture.coverage_image())
        written += [output, coverage]
        if args.smpl:
            smpl_path = args.smpl if instance != "all" else _suffixed(args.smpl, f".person{key}")
            smpl, known = atlas_to_smpl(texture.bgr, texture.known, args.smpl_size)
            atomic_write_image(smpl_path, with_alpha(smpl, known))
            written.append(smpl_path)
    return stats, written


def run_convert(args) -> Tuple[JobStats, List[str]]:
    _check_texture_output(args.output, "output")
    bgr, known, layout = read_texture(args.input)
    target = args.to or ("atlas" if layout == "smpl" else "smpl")
    if target == layout:
        raise UsageError(f"{args.input!r} is already in {layout} layout")
    if args.size is not None and args.size < 2:
        raise UsageError(f"--size must be >= 2, got {args.size}")
    if target == "smpl":
        out, out_known = atlas_to_smpl(bgr, known, args.size or DEFAULT_SMPL_SIZE)
    else:
        out, out_known = smpl_to_atlas(bgr, known, args.size or 200)
    atomic_write_image(args.output, with_alpha(out, out_known))
    return JobStats(processed=1), [args.output]


def run_apply(args) -> Tuple[JobStats, List[str]]:
    instance = _parse_instance(args.instance) or "all"
    parts = parse_parts(args.parts)
    if not 0.0 <= args.opacity <= 1.0:
        raise UsageError(f"--opacity must be in [0, 1], got {args.opacity}")
    check_output_path(numbered_path(args.output, 1), "--output")
    atlas = load_texture(args.texture)
    source = _results_source(args)
    paths = _input_paths(args, source)
    stats = JobStats()

    def render(image: np.ndarray, people: List[PersonChart]) -> np.ndarray:
        if not people:  # a failed frame of a video: kept as it was, the video keeps its timing
            return image
        return retexture(image, people_order(people), atlas, args.opacity, args.keep_shading, parts)

    writer = ShowWriter(args.output, render)
    try:
        for item, people in _people_per_item(
            paths, source, instance, stats, args.progress, "apply"
        ):
            if people is None and not item.is_video_frame:
                continue
            try:
                writer.write(item, people or [])
            except (OSError, ValueError) as e:
                stats.report(f"cannot write {item.name}: {one_line(e)}")
                continue
            stats.processed += people is not None
    finally:
        written = writer.close()
    return stats, written


def main(argv: Optional[List[str]] = None) -> int:
    """Exit status 0 when something was written, 1 on a usage error or when nothing was."""
    args = parse_command(build_parser(), argv)
    if args is None:
        return 0
    silence_third_party_noise()
    runners = {"extract": run_extract, "convert": run_convert, "apply": run_apply}

    def body() -> int:
        stats, written = runners[args.command](args)
        summary = f"texture {args.command}: processed {stats.processed} item(s)"
        if stats.errors:
            summary += f", skipped {len(stats.errors)} (see warnings above)"
        print(summary + f"; wrote {', '.join(written) or 'nothing'}", file=sys.stderr)
        return 0 if written else 1

    return run_cli(
        f"texture {args.command}",
        body,
        errors=(InputError, *ITEM_ERRORS),
        loggers=(logger.name,),
        log_format="%(levelname)s texture: %(message)s",
    )
