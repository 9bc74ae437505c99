"""DensePose on videos: people tracked across frames and outputs smoothed per track
(`apply_net.py show|dump --temporal`, docs/video.md). Sits on top of `apply`: same predictor,
same writers, one stream stage between them."""

from .appearance import colour_bands
from .inputs import VideoInputs, square_crop
from .smoothing import TrackSmoother
from .stage import TemporalOptions, TemporalStage, temporal_seconds_per_frame
from .tracking import BoxTracker, box_iou

__all__ = [
    "BoxTracker",
    "TemporalOptions",
    "TemporalStage",
    "TrackSmoother",
    "VideoInputs",
    "box_iou",
    "colour_bands",
    "square_crop",
    "temporal_seconds_per_frame",
]
