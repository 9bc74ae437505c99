"""Mixing batches of several loaders:
`CombinedDataLoader` and the per-dataset `SampleCountingLoader`."""

import random
from collections import deque
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Sequence

__all__ = ["CombinedDataLoader", "SampleCountingLoader"]


class _ElementStream:
    """Yields the elements of a loader's batches one at a time."""

    def __init__(self, loader: Iterable[List[Any]]):
        self._batches = iter(loader)
        self._buffer: Deque[Any] = deque()

    def next(self) -> Any:
        while not self._buffer:
            self._buffer.extend(next(self._batches))  # StopIteration ends the combined loader
        return self._buffer.popleft()


class CombinedDataLoader:
    """Batches of `batch_size` elements, each drawn from loader i with probability ratios[i] / sum.

    Loader indices are pre-drawn in chunks of `batch_size * 100`; iteration stops as soon as a
    loader needed for the next element is exhausted (the incomplete batch is dropped).
    """

    BATCH_COUNT = 100

    def __init__(
        self,
        loaders: Sequence[Iterable[List[Any]]],
        batch_size: int,
        ratios: Sequence[float],
        rng: Optional[random.Random] = None,
    ):
        if len(loaders) != len(ratios):
            raise ValueError(f"{len(loaders)} loaders but {len(ratios)} ratios")
        if any(r < 0 for r in ratios) or sum(ratios) <= 0:
            raise ValueError(f"ratios must be non-negative with a positive sum, got {list(ratios)}")
        self.loaders = list(loaders)
        self.batch_size = int(batch_size)
        self.ratios = [float(r) for r in ratios]
        self.rng = rng if rng is not None else random.Random()

    def __iter__(self) -> Iterator[List[Any]]:
        streams = [_ElementStream(loader) for loader in self.loaders]
        indices: List[int] = []
        while True:
            if not indices:
                k = self.batch_size * self.BATCH_COUNT
                indices = self.rng.choices(range(len(streams)), weights=self.ratios, k=k)
            try:
                batch = [streams[i].next() for i in indices[: self.batch_size]]
            except StopIteration:
                return
            indices = indices[self.batch_size :]
            yield batch


class SampleCountingLoader:
    """Passes batches through and stores per-dataset instance counts of the last batch.

    `counts` maps the sample's `dataset` key (bootstrapped samples: "") to its number of instances;
    they are also written to the current detectron2 event storage as `batch/<dataset>` scalars
    (averaged over 20 iterations when printed), if a storage is active.
    """

    def __init__(self, loader: Iterable[List[Dict[str, Any]]]):
        self.loader = loader
        self.counts: Dict[str, int] = {}

    def __iter__(self) -> Iterator[List[Dict[str, Any]]]:
        for batch in self.loader:
            counts: Dict[str, int] = {}
            for sample in batch:
                instances = sample.get("instances", None)
                n = len(instances) if instances is not None else 0
                counts[sample.get("dataset", "")] = counts.get(sample.get("dataset", ""), 0) + n
            self.counts = counts
            self._log(counts)
            yield batch

    @staticmethod
    def _log(counts: Dict[str, int]) -> None:
        try:
            from detectron2.utils.events import get_event_storage

            storage = get_event_storage()
        except (AssertionError, ImportError):
            return
        for name, n in counts.items():
            storage.put_scalar(f"batch/{name}", n, smoothing_hint=True)
