"""The app's one model and its jobs: `apply_net show` + `dump` on one uploaded image or video.

The model is loaded once (or replaced when the user picks another) and used under a lock, so two
requests never run it at once. A job runs the same reader, predictor, visualizers and writers as
`apply_net.py` (`run_apply_overlapped`), writing into a fresh directory: the rendered picture or a
browser-playable WebM video, the IUV PNGs (zipped for a video), `results.pkl` and `results.json`.
"""

import argparse
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..apply.dump_writers import IuvPngWriter, JsonWriter, PickleWriter
from ..apply.model_setup import check_model_kind, cse_context, prepare_meshes
from ..apply.runner import run_apply_overlapped
from ..config import is_cse
from ..engine.inference_config import inference_config
from ..engine.inputs import InputItem, count_frames, is_video, read_inputs
from ..engine.output_files import ItemNamer
from ..engine.predictor import BatchPredictor
from ..engine.show_writer import ShowWriter
from ..video import TemporalOptions, TemporalStage, VideoInputs
from .models import ModelSpec
from .renderers import OUTPUT_MODES, build_renderer

__all__ = ["DensePoseService", "JobCancelled", "JobError", "JobRequest", "JobResult"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, Optional[int]], None]


class JobError(ValueError):
    """A request the app cannot serve (no model, bad input, bad choice); the message is for
    the user."""


class JobCancelled(Exception):
    """Raised inside a running job when its cancel event is set (deliberately not a ValueError /
    OSError / RuntimeError, which the run loop would report as a bad item and go on)."""


@dataclass
class JobRequest:
    """What to do with one upload.

    temporal / temporal_mode / square_crop: as apply_net's `--temporal`, `--temporal-mode` and
    `--square-crop` (videos only; square_crop None or 0: off).
    mode: one of `renderers.OUTPUT_MODES`; visualizers: `apply_net show` names (mode
    "visualizers"); background: grey, original or black; atlas_path: chart texture atlas image
    (mode "texture"); display_name: the file name shown in messages (default: basename of
    input_path).
    """

    input_path: str
    mode: str = "visualizers"
    visualizers: Sequence[str] = ("dp_segm", "bbox")
    background: str = "grey"
    atlas_path: Optional[str] = None
    display_name: Optional[str] = None
    # videos: `apply_net.py show --temporal [--temporal-mode]` and `--square-crop SIZE`
    temporal: bool = False
    temporal_mode: str = "causal"
    square_crop: Optional[int] = None


def _video_inputs(
    request: JobRequest, video: bool
) -> Tuple[Iterable[InputItem], Optional[TemporalStage]]:
    """Frames of the input (a video square-cropped if asked) and the tracking/smoothing stage of
    `--temporal` (None without it), as `apply_net.py show` builds them."""
    crop = request.square_crop or None
    if not video or (not request.temporal and crop is None):
        return read_inputs([request.input_path]), None
    try:
        inputs = VideoInputs([request.input_path], frames_as_video=True, crop_size=crop)
        if not request.temporal:
            return inputs, None
        options = TemporalOptions(mode=request.temporal_mode)
        return inputs, TemporalStage(options, frame_counts=inputs.frame_counts)
    except ValueError as e:
        raise JobError(_one_line(e)) from e


@dataclass
class JobResult:
    """Paths of what a job wrote (None / empty when not produced) and a message for the user."""

    message: str
    picture: Optional[str] = None
    video: Optional[str] = None
    iuv_files: List[str] = field(default_factory=list)
    dump_pkl: Optional[str] = None
    dump_json: Optional[str] = None
    frames_done: int = 0
    frames_total: Optional[int] = None
    detections: int = 0
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def downloads(self) -> List[str]:
        paths = [self.picture or self.video, *self.iuv_files, self.dump_pkl, self.dump_json]
        return [p for p in paths if p]


@dataclass
class _LoadedModel:
    spec: ModelSpec
    cfg: object
    predictor: BatchPredictor
    cse: object
    apply_args: argparse.Namespace  # as apply_net.py would parse them (meshes, thresholds)


class _CancelCheck:
    """First writer of a job: stops the run before an item is written once `cancel` is set."""

    def __init__(self, cancel: Optional[threading.Event]):
        self.cancel = cancel

    def write(self, item, prediction) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise JobCancelled()

    def close(self) -> List[str]:
        return []


class _ProgressCount:
    """Last writer of a job: counts written items and detections, reports (done, total)."""

    def __init__(self, total: Optional[int], callback: Optional[ProgressCallback]):
        self.total, self.callback = total, callback
        self.done = 0
        self.frames_with_people = 0
        self.detections = 0

    def write(self, item, prediction) -> None:
        self.done += 1
        self.detections += len(prediction)
        self.frames_with_people += int(len(prediction) > 0)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> List[str]:
        return []


class DensePoseService:
    """One DensePose model per process and the jobs run with it (thread-safe).

    Args:
        work_root: directory for the jobs' output directories (default: a fresh temporary one).
        device: torch device (default as apply_net: MODEL.DEVICE from opts, else cuda if
            available, else cpu).
        keep_jobs: how many recent job directories to keep on disk (older ones are deleted).
    """

    def __init__(
        self, work_root: Optional[str] = None, device: Optional[str] = None, keep_jobs: int = 16
    ):
        self.work_root = work_root or tempfile.mkdtemp(prefix="densepose_app_")
        os.makedirs(self.work_root, exist_ok=True)
        self.device = device
        self.keep_jobs = keep_jobs
        self._lock = threading.Lock()
        self._model: Optional[_LoadedModel] = None
        self._jobs: List[str] = []

    @property
    def model_name(self) -> Optional[str]:
        return self._model.spec.name if self._model is not None else None

    @property
    def busy(self) -> bool:
        """Whether a job (or a model load) holds the model now."""
        return self._lock.locked()

    @property
    def is_chart(self) -> bool:
        return self._model is not None and not is_cse(self._model.cfg)

    def load(self, spec: ModelSpec) -> None:
        """Loads `spec` (config as `apply_net.py show` builds it), replacing the current model;
        a no-op when it is already loaded. Raises JobError naming the file on failure."""
        with self._lock:
            if self._model is not None and self._model.spec == spec:
                return
            args = argparse.Namespace(mesh=[])  # no --mesh options: registered meshes only
            start = time.perf_counter()
            try:
                cfg = inference_config(
                    spec.config, spec.weights, list(spec.opts), spec.min_score, None, self.device
                )
                predictor = BatchPredictor(cfg)
                _warm_up(predictor, cfg)
            except (ValueError, KeyError, OSError, RuntimeError) as e:
                raise JobError(f"cannot load model {spec.name}: {_one_line(e)}") from e
            cse = cse_context(predictor, cfg)
            self._model = _LoadedModel(spec, cfg, predictor, cse, args)
            logger.info(
                f"loaded {spec.name} on {cfg.MODEL.DEVICE} in {time.perf_counter() - start:.1f}s"
            )

    def run(
        self,
        request: JobRequest,
        on_progress: Optional[ProgressCallback] = None,
        cancel: Optional[threading.Event] = None,
    ) -> JobResult:
        """Runs one job; problems with the request raise JobError (message for the user).

        on_progress(done, total) is called after each image / frame is written (total: the
        container's frame count, may be approximate); setting `cancel` stops the job before the
        next frame, keeping (and returning) what was written so far.
        """
        if self._model is None:
            raise JobError("no model is loaded")
        name = request.display_name or os.path.basename(request.input_path)
        if not os.path.isfile(request.input_path):
            raise JobError(f"{name}: no such file")
        if request.mode not in OUTPUT_MODES:
            known = ", ".join(OUTPUT_MODES)
            raise JobError(f"unknown output {request.mode!r}; choose from {known}")
        with self._lock:
            try:
                return self._run_job(request, name, on_progress, cancel)
            except JobError:
                raise
            except (ValueError, KeyError, OSError) as e:  # UsageError, atlas files, ...
                raise JobError(_one_line(e).replace(request.input_path, name)) from e

    def _new_job_dir(self) -> str:
        job = tempfile.mkdtemp(prefix="job_", dir=self.work_root)
        self._jobs.append(job)
        while len(self._jobs) > self.keep_jobs:
            shutil.rmtree(self._jobs.pop(0), ignore_errors=True)
        return job

    def _run_job(
        self,
        request: JobRequest,
        name: str,
        on_progress: Optional[ProgressCallback],
        cancel: Optional[threading.Event],
    ) -> JobResult:
        model = self._model
        renderer, needed = build_renderer(
            request.mode, request.visualizers, request.background, request.atlas_path
        )
        check_model_kind(model.cfg, needed, "outputs")
        prepare_meshes(model.apply_args, model.cfg, needed)
        video = is_video(request.input_path)
        total = count_frames([request.input_path])
        job = self._new_job_dir()
        stem = os.path.splitext(os.path.basename(name))[0] or "input"
        show = ShowWriter(os.path.join(job, stem + (".webm" if video else ".png")), renderer)
        counter = _ProgressCount(total, on_progress)
        writers = [_CancelCheck(cancel), show]
        writers += [PickleWriter(os.path.join(job, "results.pkl"))]
        writers += [JsonWriter(os.path.join(job, "results.json"))]
        iuv_dir = os.path.join(job, stem + "_iuv")
        if not is_cse(model.cfg):
            writers.append(IuvPngWriter(iuv_dir, ItemNamer()))
        writers.append(counter)
        items, stage = _video_inputs(request, video)
        start = time.perf_counter()
        cancelled = False
        try:
            stats = run_apply_overlapped(
                items,
                model.predictor,
                writers,
                cse=model.cse,
                expected_total=total,
                progress=False,
                stage=stage,
            )
        except JobCancelled:
            cancelled = True
            stats = None
        seconds = time.perf_counter() - start
        if stats is not None and stats.processed == 0:
            error = stats.errors[0] if stats.errors else f"nothing could be read from {name}"
            raise JobError(error.replace(request.input_path, name))
        result = JobResult(
            message="",
            frames_done=counter.done,
            frames_total=total if video else 1,
            detections=counter.detections,
            cancelled=cancelled,
            seconds=seconds,
        )
        if counter.done > 0:
            self._collect_outputs(result, show, job, iuv_dir, stem, video)
        result.message = _summary(result, name, video, counter, model.spec.min_score)
        return result

    @staticmethod
    def _collect_outputs(result, show, job, iuv_dir, stem, video) -> None:
        shown = [p for p in show.written if os.path.isfile(p)]
        if video:
            result.video = shown[0] if shown else None
        else:
            result.picture = shown[0] if shown else None
        result.dump_pkl = _existing(os.path.join(job, "results.pkl"))
        result.dump_json = _existing(os.path.join(job, "results.json"))
        if os.path.isdir(iuv_dir):
            files = sorted(os.path.join(iuv_dir, f) for f in os.listdir(iuv_dir))
            if video:
                files = [_zip(files, os.path.join(job, stem + "_iuv.zip"))]
            result.iuv_files = files


def _warm_up(predictor: BatchPredictor, cfg) -> None:
    """One inference on a blank image at load time, so that the first request does not pay the
    one-time costs of the first forward pass (kernel selection, allocator growth)."""
    side = int(cfg.INPUT.MIN_SIZE_TEST) or 512
    predictor([np.full((side, side, 3), 127, np.uint8)])


def _existing(path: str) -> Optional[str]:
    return path if os.path.isfile(path) else None


def _zip(files: List[str], path: str) -> str:
    """Stores `files` (flat) into the zip `path`, written under a temporary name first."""
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for f in files:
            archive.write(f, arcname=os.path.basename(f))
    os.replace(tmp, path)
    return path


def _summary(result: JobResult, name: str, video: bool, counter, min_score: float) -> str:
    if result.cancelled:
        return (
            f"Cancelled after {result.frames_done} of {result.frames_total} frames of {name}; "
            "the outputs below hold the frames done."
        )
    if result.detections == 0:
        return (
            f"Nobody found in {name} (detection threshold {min_score:g}): try another picture, "
            "or start the app with a lower threshold (--min-score)."
        )
    if video:
        return (
            f"{name}: {result.frames_done} frames, people found in {counter.frames_with_people}; "
            f"{result.seconds:.1f} s."
        )
    people = "person" if result.detections == 1 else "people"
    return f"{name}: {result.detections} {people} found; {result.seconds:.2f} s."


def _one_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())
