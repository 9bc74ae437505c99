"""`python -m densepose_ext.teacher train|inpaint ...` (see docs/teacher.md)."""

import argparse
import logging
import sys
from typing import List, Optional, Tuple

from ..utils.cli_logging import logging_to_stderr
from ..utils.files import OutputPathError, check_output_dir, check_output_path
from .model import TeacherConfig
from .train import TrainSettings

__all__ = ["main"]

logger = logging.getLogger("densepose_ext.teacher")


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="registered DensePose dataset name")
    parser.add_argument("--json", help="DensePose-COCO file (instead of --dataset)")
    parser.add_argument("--image-root", help="image directory of --json")


def _source(args) -> Tuple[str, str, Optional[str]]:
    """(json file, image root, dataset name) from --dataset or --json / --image-root."""
    if args.dataset:
        from detectron2.data import MetadataCatalog

        import densepose_ext  # noqa: F401  (registers the builtin datasets)

        meta = MetadataCatalog.get(args.dataset)
        if not meta.get("json_file") or not meta.get("image_root"):
            raise SystemExit(
                f"dataset {args.dataset!r} is not a registered COCO-format dataset "
                "(no json_file / image_root); use --json and --image-root"
            )
        return meta.json_file, meta.image_root, args.dataset
    if not (args.json and args.image_root):
        raise SystemExit("give --dataset NAME, or --json FILE and --image-root DIR")
    return args.json, args.image_root, None


def _train(args) -> None:
    from ..data.datasets.coco import load_densepose_coco_json
    from .crops import crops_of_records
    from .train import train_teacher

    json_file, image_root, name = _source(args)
    if name is not None:
        from detectron2.data import DatasetCatalog

        records = DatasetCatalog.get(name)
    else:
        records = load_densepose_coco_json(json_file, image_root)
    config = TeacherConfig(
        crop_size=args.crop_size, width=args.width, point_input=not args.no_point_input
    )
    crops = crops_of_records(
        records, config.crop_size, on_error=lambda f, m: logger.warning(f"skipped: {m}")
    )
    settings = TrainSettings(
        iterations=args.iterations, batch_size=args.batch_size, lr=args.lr, seed=args.seed
    )
    train_teacher(crops, args.output, config, settings, progress=not args.no_progress)
    print(f"teacher weights: {args.output}/teacher.pth (log: {args.output}/log.txt)")


def _inpaint(args) -> None:
    from .checkpoint import load_teacher
    from .inpaint import inpaint_coco_json

    if (args.points_per_person is None) == (args.grid_step is None):
        raise SystemExit("give one of --points-per-person N and --grid-step G")
    json_file, image_root, _ = _source(args)
    model = load_teacher(args.weights)
    stats = inpaint_coco_json(
        json_file,
        image_root,
        model,
        args.output,
        points_per_person=args.points_per_person,
        grid_step=args.grid_step,
        seed=args.seed,
        progress=not args.no_progress,
    )
    print(
        f"{args.output}: {stats.people} people in {stats.images} images, "
        f"{stats.original_points} annotated + {stats.new_points} inpainted points, "
        f"{len(stats.errors)} images skipped"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.teacher", description=__doc__.split("(")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a teacher on the annotated points of a dataset")
    _add_source(train)
    defaults, settings = TeacherConfig(), TrainSettings()
    train.add_argument("--output", required=True, help="directory for teacher.pth and the log")
    train.add_argument("--crop-size", type=int, default=defaults.crop_size)
    train.add_argument("--width", type=int, default=defaults.width)
    train.add_argument(
        "--no-point-input", action="store_true", help="image + mask only (no point channels)"
    )
    train.add_argument("--iterations", type=int, default=settings.iterations)
    train.add_argument("--batch-size", type=int, default=settings.batch_size)
    train.add_argument("--lr", type=float, default=settings.lr)
    train.add_argument("--seed", type=int, default=settings.seed)
    train.add_argument("--no-progress", action="store_true")
    train.set_defaults(func=_train)
    inpaint = sub.add_parser("inpaint", help="write a dataset with teacher points added")
    _add_source(inpaint)
    inpaint.add_argument("--weights", required=True, help="teacher.pth written by `train`")
    inpaint.add_argument("--output", required=True, help="the new DensePose-COCO json file")
    inpaint.add_argument("--points-per-person", type=int, help="new points per person")
    inpaint.add_argument(
        "--grid-step", type=float, help="or: one new point per grid cell (box-frame units)"
    )
    inpaint.add_argument("--seed", type=int, default=0, help="seed of --points-per-person")
    inpaint.add_argument("--no-progress", action="store_true")
    inpaint.set_defaults(func=_inpaint)
    return parser


def _check_output(args) -> None:
    """An output that cannot be written stops the command before any data is read."""
    try:
        if args.command == "train":
            check_output_dir(args.output, "--output")
        else:
            check_output_path(args.output, "--output")
    except OutputPathError as e:
        raise SystemExit(f"python -m densepose_ext.teacher {args.command}: error: {e}") from None


def main(argv: Optional[List[str]] = None) -> None:
    args = build_parser().parse_args(argv)
    _check_output(args)
    with logging_to_stderr(1, fmt="%(asctime)s %(name)s %(message)s"):
        args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
