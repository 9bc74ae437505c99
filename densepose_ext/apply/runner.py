"""The `apply_net` run loop: read inputs, run the model in batches, hand predictions to writers.

Unreadable inputs and items whose outputs fail are reported (one line each) and skipped; the
writers are closed in any case, so whatever was written so far is complete and valid. When a
batch fails in the model, its items are retried one by one so that only the bad one is lost.

With `overlap=True` a reader thread decodes images / video frames into a bounded queue, the
calling thread runs the model batch by batch, and a writer thread converts the predictions and
writes them, in input order. Torch, OpenCV and the image codecs release the GIL, so on a machine
with two or more cores reading and writing cost (almost) no wall time. Bounded queues keep memory
flat: at most `queue_batches` batches wait on either side of the model. Every blocking `put`
checks a stop flag, so when the model fails neither thread is left waiting.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple

from tqdm import tqdm

from ..converters.prediction import CseContext, ImagePrediction
from ..engine.inputs import InputItem

__all__ = [
    "RunStats",
    "StreamStage",
    "batched",
    "close_writers",
    "flush_stage",
    "predict_batch",
    "run_apply",
    "run_apply_overlapped",
    "write_prediction",
    "write_staged",
]

logger = logging.getLogger(__name__)

_END = object()
_POLL_SECONDS = 0.1


@dataclass
class RunStats:
    """Counts and timings of a run (seconds); `model_seconds` is the time inside the model."""

    processed: int = 0
    failed: int = 0
    errors: List[str] = field(default_factory=list)
    total_seconds: float = 0.0
    model_seconds: float = 0.0
    outputs: List[str] = field(default_factory=list)

    @property
    def overhead_share(self) -> float:
        """Share of the wall time spent outside the model (reading, converting, drawing,
        writing)."""
        return 1.0 - self.model_seconds / self.total_seconds if self.total_seconds > 0 else 0.0

    def report_failure(self, message: str) -> None:
        self.failed += 1
        self.errors.append(message)
        logger.warning(message)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def batched(items: Iterable[InputItem], batch_size: int) -> Iterator[Tuple[str, list]]:
    """("batch", readable items) in groups of `batch_size`, and ("unreadable", [item]) in input
    order for each item that could not be read."""
    batch: List[InputItem] = []
    for item in items:
        if item.error is not None:
            yield "unreadable", [item]
            continue
        batch.append(item)
        if len(batch) == batch_size:
            yield "batch", batch
            batch = []
    if batch:
        yield "batch", batch


def predict_batch(predictor: Callable, batch: List[InputItem]) -> List[Tuple[InputItem, object]]:
    """(item, Instances) per item, or (item, failure message) where the model failed on it; a
    failing batch is retried item by item so that only the bad item is lost."""
    try:
        return list(zip(batch, predictor([item.image for item in batch])))
    except (RuntimeError, ValueError) as e:  # e.g. out of memory, an image it cannot take
        if len(batch) > 1:
            return [pair for item in batch for pair in predict_batch(predictor, [item])]
        return [(batch[0], f"inference failed on {batch[0].name}: {_one_line(e)}")]


def _predictions(
    items: Iterable[InputItem], predictor: Callable, batch_size: int
) -> Iterator[Tuple[InputItem, object]]:
    """(item, Instances or failure message) for every item, in input order."""
    for kind, group in batched(items, batch_size):
        if kind == "unreadable":
            yield group[0], group[0].error
        else:
            yield from predict_batch(predictor, group)


class StreamStage(Protocol):
    """An optional step between the model and the writers that maps the ordered stream of
    (item, prediction) to another (e.g. `densepose_ext.video`: tracking and smoothing). It may
    hold items back (a lag) and may emit (item, None): a frame with no prediction, which writers
    that keep a video's frame count pass through (`write_passthrough`); others ignore it."""

    def push(
        self, item: InputItem, prediction: ImagePrediction
    ) -> Iterable[Tuple[InputItem, Optional[ImagePrediction]]]: ...

    def flush(self) -> Iterable[Tuple[InputItem, Optional[ImagePrediction]]]: ...


class _Delivery:
    """Hands one (item, Instances or failure message) to the writers, through the optional
    `stage`, and counts it."""

    def __init__(
        self,
        writers: Sequence,
        stats: RunStats,
        cse: Optional[CseContext],
        bar: tqdm,
        stage: Optional[StreamStage] = None,
    ):
        self.writers, self.stats, self.cse, self.bar = writers, stats, cse, bar
        self.stage = stage

    def __call__(self, item: InputItem, result: object) -> None:
        if isinstance(result, str):
            self.stats.report_failure(result)
        else:
            prediction = ImagePrediction.from_instances(result, self.cse)
            write_staged(self.stage, self.writers, item, prediction, self.stats)
        self.bar.update(self.stats.processed + self.stats.failed - self.bar.n)


def write_prediction(
    writers: Sequence, item: InputItem, prediction: ImagePrediction, stats: RunStats
) -> None:
    """Hands one prediction to every writer and counts it; a writer's failure on this item is
    reported and the run goes on."""
    try:
        for writer in writers:
            writer.write(item, prediction)
        stats.processed += 1
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        stats.report_failure(f"cannot process {item.name}: {type(e).__name__}: {_one_line(e)}")


def _write_pairs(writers: Sequence, pairs: Iterable, stats: RunStats) -> None:
    for item, prediction in pairs:
        if prediction is not None:
            write_prediction(writers, item, prediction, stats)
            continue
        try:
            for writer in writers:
                if hasattr(writer, "write_passthrough"):
                    writer.write_passthrough(item)
        except (OSError, ValueError, RuntimeError) as e:
            stats.report_failure(
                f"cannot pass through {item.name}: {type(e).__name__}: {_one_line(e)}"
            )


def write_staged(
    stage: Optional[StreamStage],
    writers: Sequence,
    item: InputItem,
    prediction: ImagePrediction,
    stats: RunStats,
) -> None:
    """Writes one prediction, through `stage` when there is one."""
    if stage is None:
        write_prediction(writers, item, prediction, stats)
    else:
        _write_pairs(writers, stage.push(item, prediction), stats)


def flush_stage(stage: Optional[StreamStage], writers: Sequence, stats: RunStats) -> None:
    """Writes what `stage` still holds (end of the run)."""
    if stage is not None:
        _write_pairs(writers, stage.flush(), stats)


def _flush_after_failure(stage: Optional[StreamStage], writers: Sequence, stats: RunStats) -> None:
    """Writes what `stage` holds after the run failed, so that frames predicted before the
    failure are not lost; a second failure here is reported, not raised over the first."""
    try:
        flush_stage(stage, writers, stats)
    except Exception as e:
        stats.report_failure(f"cannot write the frames held for smoothing: {_one_line(e)}")


def close_writers(writers: Sequence, stats: RunStats) -> None:
    """Closes every writer; per-image writers may share a directory: it is listed once."""
    for writer in writers:
        try:
            closed = writer.close()
            stats.outputs.extend(p for p in closed if p not in stats.outputs)
        except (OSError, RuntimeError) as e:
            stats.report_failure(f"cannot finish output {getattr(writer, 'path', writer)}: {e}")


def run_apply(
    items: Iterable[InputItem],
    predictor: Callable,
    writers: Sequence,
    batch_size: int = 1,
    cse: Optional[CseContext] = None,
    expected_total: Optional[int] = None,
    progress: bool = True,
    overlap: bool = False,
    queue_batches: int = 2,
    stage: Optional[StreamStage] = None,
) -> RunStats:
    """Runs `predictor` over `items` and feeds `writers`; the same outputs, in the same order,
    with or without `overlap`.

    Args:
        items: inputs in order (`InputItem.error` set for one that could not be read).
        predictor: list of BGR uint8 images [H, W, 3] -> list of detectron2 `Instances`.
        writers: each has `write(item, prediction)` and `close() -> list of paths`.
        overlap: decode and write in threads of their own (`queue_batches` batches each side).
        stage: optional step between the model and the writers (`StreamStage`), flushed at the end.
    Returns:
        counts, failures, timings and the paths written.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    stats = RunStats()
    start = time.perf_counter()
    model_seconds_before = getattr(predictor, "model_seconds", 0.0)
    bar = tqdm(
        total=expected_total, unit="img", desc="apply_net", disable=not progress, dynamic_ncols=True
    )
    deliver = _Delivery(writers, stats, cse, bar, stage)
    try:
        if overlap:
            _run_overlapped(items, predictor, batch_size, deliver, queue_batches)
        else:
            for item, result in _predictions(items, predictor, batch_size):
                deliver(item, result)
    except BaseException:
        _flush_after_failure(stage, writers, stats)
        raise
    else:
        flush_stage(stage, writers, stats)
    finally:
        bar.close()
        close_writers(writers, stats)
        stats.total_seconds = time.perf_counter() - start
        stats.model_seconds = getattr(predictor, "model_seconds", 0.0) - model_seconds_before
    return stats


def run_apply_overlapped(*args, **kwargs) -> RunStats:
    """`run_apply(..., overlap=True)`."""
    return run_apply(*args, overlap=True, **kwargs)


def _put(q: queue.Queue, entry: object, stop: threading.Event) -> bool:
    """Puts `entry` unless `stop` is set first; False when it was not put."""
    while not stop.is_set():
        try:
            q.put(entry, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _read(items: Iterable[InputItem], out: queue.Queue, stop: threading.Event) -> None:
    """Reader thread: items, then `_END` (or the exception that ended the reading)."""
    try:
        for item in items:
            if not _put(out, item, stop):
                return
    except BaseException as e:  # re-raised by the model loop
        _put(out, e, stop)
        return
    finally:
        close = getattr(items, "close", None)
        if close is not None and stop.is_set():
            close()  # a generator (e.g. an open video) is released now, not at exit
    _put(out, _END, stop)


def _received(inbox: queue.Queue, gone: threading.Event) -> Iterator[object]:
    """What another thread puts into `inbox`, up to `_END`; stops early when `gone` (the other
    side has failed) is set."""
    while not gone.is_set():
        try:
            entry = inbox.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue
        if entry is _END:
            return
        yield entry


def _write(
    inbox: queue.Queue, deliver: _Delivery, gone: threading.Event, errors: List[BaseException]
) -> None:
    """Writer thread: delivers (item, result) pairs in order up to `_END`; when a writer crashes
    it sets `gone` so that the model loop stops."""
    try:
        for item, result in _received(inbox, threading.Event()):
            deliver(item, result)
    except BaseException as e:
        errors.append(e)
        gone.set()


def _from_reader(inbox: queue.Queue, writer_gone: threading.Event) -> Iterator[InputItem]:
    for entry in _received(inbox, writer_gone):
        if isinstance(entry, BaseException):
            raise entry
        yield entry


def _run_overlapped(
    items: Iterable[InputItem],
    predictor: Callable,
    batch_size: int,
    deliver: _Delivery,
    queue_batches: int,
) -> None:
    """Reader thread -> model (this thread) -> writer thread. On a model failure the writer still
    writes what was predicted before it, and the reader stops."""
    inputs: queue.Queue = queue.Queue(maxsize=queue_batches * batch_size + 1)
    outputs: queue.Queue = queue.Queue(maxsize=queue_batches * batch_size + 1)
    stop_reading, writer_gone = threading.Event(), threading.Event()
    writer_errors: List[BaseException] = []
    reader = threading.Thread(target=_read, args=(items, inputs, stop_reading), daemon=True)
    writer = threading.Thread(
        target=_write, args=(outputs, deliver, writer_gone, writer_errors), daemon=True
    )
    reader.start()
    writer.start()
    try:
        for pair in _predictions(_from_reader(inputs, writer_gone), predictor, batch_size):
            if not _put(outputs, pair, writer_gone):
                break
    finally:
        stop_reading.set()
        _put(outputs, _END, writer_gone)
        writer.join()
        reader.join()
    if writer_errors:
        raise writer_errors[0]
