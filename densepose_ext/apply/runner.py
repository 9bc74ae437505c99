"""The `apply_net` loop: read inputs, run the model in batches, hand predictions to writers.

Unreadable inputs and items whose outputs fail are reported (one line each) and skipped; the
writers are closed in any case, so whatever was written so far is complete and valid. When a
batch fails in the model, its items are retried one by one so that only the bad one is lost.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple

from tqdm import tqdm

from ..converters.prediction import CseContext, ImagePrediction
from .inputs import InputItem

__all__ = ["RunStats", "StreamStage", "batched", "flush_stage", "run_apply", "write_staged"]

logger = logging.getLogger(__name__)


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


def batched(
    items: Iterable[InputItem], batch_size: int, stats: RunStats
) -> Iterator[List[InputItem]]:
    """Groups readable items into lists of `batch_size`;
    unreadable ones are reported and dropped."""
    batch: List[InputItem] = []
    for item in items:
        if item.error is not None:
            stats.report_failure(item.error)
            continue
        batch.append(item)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _item_name(item: InputItem) -> str:
    return item.path if item.frame_index is None else f"{item.path} (frame {item.frame_index})"


def _write_all(
    writers: Sequence, item: InputItem, prediction: ImagePrediction, stats: RunStats
) -> None:
    try:
        for writer in writers:
            writer.write(item, prediction)
        stats.processed += 1
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        stats.report_failure(
            f"cannot process {_item_name(item)}: {type(e).__name__}: {_one_line(e)}"
        )


class StreamStage(Protocol):
    """An optional step between the model and the writers that maps the ordered stream of
    (item, prediction) to another (e.g. `densepose_ext.video`: tracking and smoothing). It may
    hold items back (a lag) and may emit (item, None): a frame with no prediction, which writers
    that keep a video's frame count pass through (`write_passthrough`); others ignore it."""

    def push(
        self, item: InputItem, prediction: ImagePrediction
    ) -> Iterable[Tuple[InputItem, Optional[ImagePrediction]]]: ...

    def flush(self) -> Iterable[Tuple[InputItem, Optional[ImagePrediction]]]: ...


def _write_pairs(writers: Sequence, pairs: Iterable, stats: RunStats) -> None:
    for item, prediction in pairs:
        if prediction is not None:
            _write_all(writers, item, prediction, stats)
            continue
        try:
            for writer in writers:
                if hasattr(writer, "write_passthrough"):
                    writer.write_passthrough(item)
        except (OSError, ValueError, RuntimeError) as e:
            stats.report_failure(
                f"cannot pass through {_item_name(item)}: {type(e).__name__}: {_one_line(e)}"
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
        _write_all(writers, item, prediction, stats)
    else:
        _write_pairs(writers, stage.push(item, prediction), stats)


def flush_stage(stage: Optional[StreamStage], writers: Sequence, stats: RunStats) -> None:
    """Writes what `stage` still holds (end of the run)."""
    if stage is not None:
        _write_pairs(writers, stage.flush(), stats)


def predict_batch(predictor: Callable, batch: List[InputItem]) -> List[Tuple[InputItem, object]]:
    """(item, Instances) per item, or (item, failure message) where the model failed on it; a
    failing batch is retried item by item so that only the bad item is lost."""
    try:
        return list(zip(batch, predictor([item.image for item in batch])))
    except (RuntimeError, ValueError) as e:  # e.g. out of memory, an image it cannot take
        if len(batch) > 1:
            return [pair for item in batch for pair in predict_batch(predictor, [item])]
        return [(batch[0], f"inference failed on {_item_name(batch[0])}: {_one_line(e)}")]


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
    stage: Optional[StreamStage] = None,
) -> RunStats:
    """Runs `predictor` (list of BGR images -> list of Instances) over `items` and feeds `writers`.

    Every writer has `write(item, prediction)` and `close() -> list of paths`; `stage` (optional)
    sits between the model and the writers.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    stats = RunStats()
    start = time.perf_counter()
    model_seconds_before = getattr(predictor, "model_seconds", 0.0)
    bar = tqdm(
        total=expected_total, unit="img", desc="apply_net", disable=not progress, dynamic_ncols=True
    )
    try:
        for batch in batched(items, batch_size, stats):
            for item, result in predict_batch(predictor, batch):
                if isinstance(result, str):
                    stats.report_failure(result)
                else:
                    prediction = ImagePrediction.from_instances(result, cse)
                    write_staged(stage, writers, item, prediction, stats)
            bar.update(stats.processed + stats.failed - bar.n)
    finally:
        bar.close()
        try:
            flush_stage(stage, writers, stats)
        finally:
            close_writers(writers, stats)
        stats.total_seconds = time.perf_counter() - start
        stats.model_seconds = getattr(predictor, "model_seconds", 0.0) - model_seconds_before
    return stats
