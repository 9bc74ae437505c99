"""`run_apply` with decoding and writing overlapped with the model.

A reader thread decodes images / video frames into a bounded queue, the calling thread runs the
model batch by batch, and a writer thread converts the predictions and writes them, in input
order. Torch, OpenCV and the image codecs release the GIL, so on a machine with two or more cores
reading and writing cost (almost) no wall time. Bounded queues keep memory flat: at most
`queue_batches` batches wait on either side of the model. Bad items are still reported and
skipped, in input order; the writers are closed in any case.
"""

import queue
import threading
import time
from typing import Callable, Iterable, List, Optional, Sequence

from tqdm import tqdm

from ..converters.prediction import CseContext, ImagePrediction
from .inputs import InputItem
from .runner import (
    RunStats,
    StreamStage,
    close_writers,
    flush_stage,
    predict_batch,
    write_staged,
)

__all__ = ["run_apply_overlapped"]

_END = object()


class _Failure:
    """A failure to report (in order) from the writer thread, which alone updates the stats."""

    def __init__(self, message: str):
        self.message = message


def _reader(items: Iterable[InputItem], out: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
    except BaseException as e:  # re-raised by the model loop
        out.put(e)
        return
    out.put(_END)


def _writer(
    inbox: queue.Queue,
    writers: Sequence,
    stats: RunStats,
    cse: Optional[CseContext],
    bar: tqdm,
    errors: List[BaseException],
    stage: Optional[StreamStage] = None,
) -> None:
    while True:
        entry = inbox.get()
        if entry is _END:
            return
        if errors:
            continue  # drain after a fatal error so the model loop never blocks
        try:
            if isinstance(entry, _Failure):
                stats.report_failure(entry.message)
            else:
                item, instances = entry
                prediction = ImagePrediction.from_instances(instances, cse)
                write_staged(stage, writers, item, prediction, stats)
            bar.update(stats.processed + stats.failed - bar.n)
        except BaseException as e:
            errors.append(e)


def _put(q: queue.Queue, entry, errors: List[BaseException]) -> None:
    while True:
        if errors:
            raise errors[0]
        try:
            q.put(entry, timeout=0.1)
            return
        except queue.Full:
            continue


def run_apply_overlapped(
    items: Iterable[InputItem],
    predictor: Callable,
    writers: Sequence,
    batch_size: int = 1,
    cse: Optional[CseContext] = None,
    expected_total: Optional[int] = None,
    progress: bool = True,
    queue_batches: int = 2,
    stage: Optional[StreamStage] = None,
) -> RunStats:
    """As `runner.run_apply` (same arguments, outputs and order), with reading and writing in
    threads of their own."""
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    stats = RunStats()
    start = time.perf_counter()
    model_seconds_before = getattr(predictor, "model_seconds", 0.0)
    bar = tqdm(
        total=expected_total, unit="img", desc="apply_net", disable=not progress, dynamic_ncols=True
    )
    inputs: queue.Queue = queue.Queue(maxsize=queue_batches * batch_size + 1)
    outputs: queue.Queue = queue.Queue(maxsize=queue_batches * batch_size + 1)
    stop = threading.Event()
    writer_errors: List[BaseException] = []
    reader = threading.Thread(target=_reader, args=(items, inputs, stop), daemon=True)
    writer = threading.Thread(
        target=_writer,
        args=(outputs, writers, stats, cse, bar, writer_errors, stage),
        daemon=True,
    )
    reader.start()
    writer.start()
    try:
        _model_loop(inputs, outputs, predictor, batch_size, writer_errors)
    finally:
        stop.set()
        outputs.put(_END)
        writer.join()
        reader.join(timeout=1.0)
        bar.close()
        try:
            if not writer_errors:
                flush_stage(stage, writers, stats)
        finally:
            close_writers(writers, stats)
        stats.total_seconds = time.perf_counter() - start
        stats.model_seconds = getattr(predictor, "model_seconds", 0.0) - model_seconds_before
    if writer_errors:
        raise writer_errors[0]
    return stats


def _model_loop(
    inputs: queue.Queue,
    outputs: queue.Queue,
    predictor: Callable,
    batch_size: int,
    errors: List[BaseException],
) -> None:
    batch: List[InputItem] = []
    done = False
    while not done:
        entry = inputs.get()
        if isinstance(entry, BaseException):
            raise entry
        if entry is _END:
            done = True
        elif entry.error is not None:
            _put(outputs, _Failure(entry.error), errors)
        else:
            batch.append(entry)
        if batch and (done or len(batch) == batch_size):
            _run_batch(batch, outputs, predictor, errors)
            batch = []


def _run_batch(batch, outputs: queue.Queue, predictor: Callable, errors) -> None:
    for item, result in predict_batch(predictor, batch):
        _put(outputs, _Failure(result) if isinstance(result, str) else (item, result), errors)
