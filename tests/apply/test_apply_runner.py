"""The one run loop, with and without overlap: same outputs, failures in order, no stuck thread."""

import threading
import time

import numpy as np
import pytest
import torch
from detectron2.structures import Boxes, Instances

from densepose_ext.apply.runner import run_apply
from densepose_ext.engine.inputs import InputItem


class _Recorder:
    def __init__(self, fail_on=()):
        self.written, self.closed, self.fail_on = [], False, set(fail_on)

    def write(self, item, prediction):
        if item.index in self.fail_on:
            raise OSError(f"disk full at {item.index}")
        self.written.append((item.index, len(prediction)))

    def close(self):
        self.closed = True
        return ["out"]


def _items(count, unreadable=(), released=None):
    try:
        for k in range(1, count + 1):
            if k in unreadable:
                yield InputItem(k, f"{k}.png", error=f"cannot read {k}.png")
            else:
                yield InputItem(k, f"{k}.png", image=np.full((8, 8, 3), k, np.uint8))
    finally:
        if released is not None:
            released.set()


def _predictor(fail_on=(), crash_on=None):
    """Instances with as many boxes as the image's value; `fail_on` values raise a RuntimeError
    (a bad item), `crash_on` a TypeError (a bug: the run stops)."""

    def predict(images):
        outputs = []
        for image in images:
            value = int(image[0, 0, 0])
            if value == crash_on:
                time.sleep(0.3)  # the reader fills the queue meanwhile and waits
                raise TypeError(f"model crashed on {value}")
            if value in fail_on:
                raise RuntimeError(f"bad image {value}")
            instances = Instances((8, 8))
            instances.pred_boxes = Boxes(torch.zeros(value, 4))
            instances.scores = torch.ones(value)
            outputs.append(instances)
        return outputs

    return predict


@pytest.mark.parametrize("overlap", [False, True])
def test_outputs_and_failures_in_input_order(overlap):
    writer = _Recorder(fail_on={6})
    stats = run_apply(
        _items(9, unreadable={3}),
        _predictor(fail_on={5}),
        [writer],
        batch_size=2,
        progress=False,
        overlap=overlap,
        queue_batches=1,
    )
    assert writer.written == [(1, 1), (2, 2), (4, 4), (7, 7), (8, 8), (9, 9)]
    assert writer.closed and stats.outputs == ["out"]
    assert (stats.processed, stats.failed) == (6, 3)
    assert stats.errors[0] == "cannot read 3.png"
    assert stats.errors[1].startswith("inference failed on 5.png: bad image 5")
    assert stats.errors[2] == "cannot process 6.png: OSError: disk full at 6"


def _new_threads_end(before, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t not in before and t.is_alive()]:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.timeout(30)
def test_model_crash_stops_the_reader_and_keeps_earlier_outputs():
    """The reader thread is blocked on a full queue (its last items, then its end mark) when the
    model fails: it must end too, and release the input (a video stays open otherwise)."""
    before = set(threading.enumerate())
    released = threading.Event()
    writer = _Recorder()
    with pytest.raises(TypeError, match="model crashed on 2"):
        run_apply(
            _items(4, released=released),
            _predictor(crash_on=2),
            [writer],
            progress=False,
            overlap=True,
            queue_batches=1,
        )
    assert _new_threads_end(before), "a thread of the run is still alive"
    assert released.wait(5.0), "the inputs were not released"
    assert writer.written == [(1, 1)] and writer.closed


@pytest.mark.timeout(30)
def test_writer_crash_stops_the_run():
    before = set(threading.enumerate())

    class Crashing(_Recorder):
        def write(self, item, prediction):
            raise TypeError("writer bug")

    writer = Crashing()
    with pytest.raises(TypeError, match="writer bug"):
        run_apply(_items(50), _predictor(), [writer], progress=False, overlap=True)
    assert _new_threads_end(before) and writer.closed


@pytest.mark.timeout(30)
def test_reading_error_reaches_the_caller():
    def broken():
        yield InputItem(1, "1.png", image=np.ones((8, 8, 3), np.uint8))
        raise OSError("device gone")

    writer = _Recorder()
    with pytest.raises(OSError, match="device gone"):
        run_apply(broken(), _predictor(), [writer], progress=False, overlap=True)
    assert writer.written == [(1, 1)]
