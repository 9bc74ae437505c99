"""`query_db.py`: look into a registered dataset before training on it.

    python query_db.py print DATASET SELECTOR [--max-entries N] [--full]
    python query_db.py show DATASET SELECTOR VISUALIZATIONS [--output outputres.png] ...

SELECTOR is `*` or `field[:type]=value` / `field[:type]=min-max` conditions joined by commas
(`selector.py`); VISUALIZATIONS is a comma-separated list of `gt_visualizers.GT_VISUALIZERS`.
`show` writes one image per selected entry: `outputres.0001.png`, `outputres.0002.png`, ...
An entry whose image cannot be read or written is reported and skipped; the others go on.
"""

import argparse
import difflib
import logging
import os
import sys
from typing import Any, Dict, List, Optional

import cv2

from ..utils.cli import UsageError, parse_command, run_cli
from ..utils.files import ExternalFileError, OutputPathError, check_output_path
from ..vis.base import BACKGROUNDS, VisStyle, make_background
from .entry_format import format_entry
from .gt_visualizers import GT_VISUALIZERS, build_gt_visualizers
from .selector import EntrySelector, SelectorError, parse_selector

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

PROG = "query_db.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Print or draw the entries of a registered DensePose dataset."
    )
    commands = parser.add_subparsers(dest="command", metavar="{print,show}")
    for name, help_text in (
        ("print", "print the selected entries"),
        ("show", "draw the ground truth of the selected entries on their images"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("dataset", metavar="<dataset>", help="a registered dataset name")
        sub.add_argument(
            "selector",
            metavar="<selector>",
            help="* or field[:type]=value / field[:type]=min-max, comma-separated "
            "(types int, float, str; e.g. image_id:int=3)",
        )
        if name == "show":
            sub.add_argument(
                "visualizations",
                metavar="<visualizations>",
                help=f"comma-separated: {', '.join(GT_VISUALIZERS)}",
            )
            sub.add_argument(
                "--output",
                default="outputres.png",
                help="file name template; entry k is written as <name>.<kkkk><ext>",
            )
            sub.add_argument("--colormap", default=None, help="OpenCV colormap name")
            sub.add_argument("--alpha", type=float, default=0.7, help="mask opacity (dp_segm)")
            sub.add_argument(
                "--background", default="grey", choices=BACKGROUNDS, help="canvas under the GT"
            )
        else:
            sub.add_argument(
                "--full", action="store_true", help="print every value instead of summaries"
            )
        sub.add_argument("--max-entries", "--max_entries", type=int, default=None)
        sub.add_argument("-v", "--verbose", action="count", default=0, dest="verbosity")
    return parser


def _load_dataset(name: str) -> List[Dict[str, Any]]:
    """The dataset dicts of a registered name; unknown names get the closest registered ones."""
    from detectron2.data import DatasetCatalog

    from .. import data as _register_datasets  # noqa: F401  (registers the DensePose names)

    registered = DatasetCatalog.list()
    if name not in registered:
        close = difflib.get_close_matches(name, registered, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        densepose = sum(n.startswith("densepose") for n in registered)
        raise UsageError(
            f"unknown dataset {name!r}{hint} ({densepose} DensePose datasets are registered, "
            "e.g. densepose_coco_2014_minival, densepose_synth_val; see docs/query_db.md)"
        )
    try:
        entries = DatasetCatalog.get(name)
    except (ExternalFileError, OSError) as e:
        raise UsageError(f"cannot load dataset {name!r}: {e}") from e
    return list(entries)


def _select(args: argparse.Namespace, selector: EntrySelector) -> List[Dict[str, Any]]:
    if args.max_entries is not None and args.max_entries < 1:
        raise UsageError(f"--max-entries must be >= 1, got {args.max_entries}")
    entries = _load_dataset(args.dataset)
    selector.check_fields(entries)
    selected = selector.select(entries, args.max_entries)
    print(
        f"{PROG} {args.command}: {len(selected)} entr{'y' if len(selected) == 1 else 'ies'} of "
        f"{args.dataset!r} ({len(entries)} in all) selected by {selector.text!r}",
        file=sys.stderr,
    )
    return selected


def _entry_name(entry: Dict[str, Any]) -> str:
    keys = [k for k in ("image_id", "file_name") if k in entry]
    return " ".join(f"{k}={entry[k]}" for k in keys) or "entry"


def run_print(args: argparse.Namespace, selector: EntrySelector) -> int:
    for k, entry in enumerate(_select(args, selector), start=1):
        print(f"--- entry {k}: {_entry_name(entry)}")
        print(format_entry(entry, full=args.full))
    return 0


def numbered_path(template: str, k: int) -> str:
    """`out/outputres.png`, 3 -> `out/outputres.0003.png` (as `apply_net.py show` names them)."""
    base, ext = os.path.splitext(template)
    return f"{base}.{k:04d}{ext or '.png'}"


def run_show(args: argparse.Namespace, selector: EntrySelector) -> int:
    from detectron2.data import MetadataCatalog

    check_output_path(numbered_path(args.output, 1), "--output")
    names = [n.strip() for n in args.visualizations.split(",") if n.strip()]
    style = VisStyle(args.colormap, args.alpha)
    metadata = MetadataCatalog.get(args.dataset) if args.dataset else None
    visualizers = build_gt_visualizers(names, style, metadata)
    selected = _select(args, selector)
    if "kp" in names and not any("keypoints" in a for e in selected for a in e["annotations"]):
        logger.warning("kp: the selected entries have no keypoint annotations")
    written, failed = [], 0
    for k, entry in enumerate(selected, start=1):
        path = entry.get("file_name", "")
        image = cv2.imread(path) if path else None
        if image is None:
            failed += 1
            logger.warning(f"skipping {_entry_name(entry)}: cannot read image {path!r}")
            continue
        canvas = make_background(image, args.background)
        for visualizer in visualizers:
            visualizer.draw(canvas, entry)
        out = numbered_path(args.output, k)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        if not cv2.imwrite(out, canvas):
            failed += 1
            logger.warning(f"skipping {_entry_name(entry)}: cannot write {out!r}")
            continue
        written.append(out)
    summary = f"{PROG} show: wrote {len(written)} image(s)"
    if failed:
        summary += f", skipped {failed} (see warnings above)"
    print(f"{summary}: {', '.join(written) or 'none'}", file=sys.stderr)
    return 0 if written or not failed else 1


def main(argv: Optional[List[str]] = None) -> int:
    """Exit status 0 on success, 1 on a bad argument, dataset or when no image could be drawn."""
    args = parse_command(build_parser(), argv)
    if args is None:
        return 0

    def body() -> int:
        selector = parse_selector(args.selector)
        if args.command == "print":
            return run_print(args, selector)
        return run_show(args, selector)

    errors = (SelectorError, OutputPathError, ValueError, KeyError)
    return run_cli(f"{PROG} {args.command}", body, args.verbosity, errors=errors)
