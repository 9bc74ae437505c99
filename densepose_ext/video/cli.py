"""The `apply_net.py` options of the video subpackage and what they build: --temporal (with
--temporal-window, --temporal-strength, --temporal-mode), --square-crop, show --draw-track-ids.
"""

import argparse
from typing import Callable, Iterable, List, Optional, Tuple

from ..engine.inputs import InputItem
from .inputs import VideoInputs
from .overlay import TrackIdOverlay
from .smoothing import MODES
from .stage import TemporalOptions, TemporalStage

__all__ = ["add_video_arguments", "setup_video"]


def add_video_arguments(parser: argparse.ArgumentParser, show: bool) -> None:
    """Adds the options to a subcommand's parser (`show`: also --draw-track-ids)."""
    group = parser.add_argument_group("video (docs/video.md)")
    group.add_argument(
        "--temporal",
        action="store_true",
        help="track people across a video's frames (track ids) and smooth boxes and DensePose "
        "outputs per track; a folder of frames is read as one video",
    )
    group.add_argument(
        "--temporal-window",
        dest="temporal_window",
        type=int,
        default=5,
        help="frames per smoothing window (default 5; 1 = tracking only)",
    )
    group.add_argument(
        "--temporal-strength",
        dest="temporal_strength",
        type=float,
        default=0.7,
        help="weight of a frame k frames away = strength ** k, in [0, 1] (default 0.7; 0 = off)",
    )
    group.add_argument(
        "--temporal-mode",
        dest="temporal_mode",
        choices=MODES,
        default="causal",
        help="causal (default): past frames only, no lag; offline: centred window, outputs "
        "lag window // 2 frames",
    )
    group.add_argument(
        "--square-crop",
        dest="square_crop",
        type=int,
        default=None,
        metavar="SIZE",
        help="centre-crop every frame to a square and resize it to SIZE x SIZE (e.g. 512)",
    )
    if show:
        group.add_argument(
            "--draw-track-ids",
            dest="draw_track_ids",
            action="store_true",
            help="write each person's track id on the picture (needs --temporal)",
        )


def video_options_given(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "temporal", False) or getattr(args, "square_crop", None))


def check_video_arguments(args: argparse.Namespace) -> None:
    """ValueError (one line) for unusable values, before anything is loaded."""
    if getattr(args, "draw_track_ids", False) and not args.temporal:
        raise ValueError("--draw-track-ids needs --temporal (track ids come from the tracker)")
    if args.square_crop is not None and args.square_crop < 1:
        raise ValueError(f"--square-crop must be a positive size in pixels, got {args.square_crop}")
    if args.temporal_window < 1:
        raise ValueError(f"--temporal-window must be >= 1 frame, got {args.temporal_window}")
    if not 0.0 <= args.temporal_strength <= 1.0:
        raise ValueError(f"--temporal-strength must be in [0, 1], got {args.temporal_strength}")


def _same(renderer: Callable) -> Callable:
    return renderer


def setup_video(
    args: argparse.Namespace, paths: List[str]
) -> Tuple[Iterable[InputItem], Optional[TemporalStage], Callable[[Callable], Callable]]:
    """(items to read, stream stage or None, function wrapping show's renderer) for the video
    options; ValueError for unusable values."""
    check_video_arguments(args)
    inputs = VideoInputs(paths, frames_as_video=args.temporal, crop_size=args.square_crop)
    if not args.temporal:
        return inputs, None, _same
    options = TemporalOptions(
        window=args.temporal_window, strength=args.temporal_strength, mode=args.temporal_mode
    )
    stage = TemporalStage(options, frame_counts=inputs.frame_counts)
    wrap = TrackIdOverlay if getattr(args, "draw_track_ids", False) else _same
    return inputs, stage, wrap
