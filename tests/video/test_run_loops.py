"""The stream-stage hook of both run loops (`run_apply`, `run_apply_overlapped`)."""

import numpy as np
import pytest
import torch
from detectron2.structures import Boxes, Instances

from densepose_ext.apply.runner import run_apply, run_apply_overlapped
from densepose_ext.engine.inputs import InputItem
from densepose_ext.video.stage import TemporalOptions, TemporalStage


class _Recorder:
    def __init__(self):
        self.frames = []

    def write(self, item, prediction):
        self.frames.append((item.frame_index, prediction.track_ids.tolist()))

    def write_passthrough(self, item):
        self.frames.append((item.frame_index, None))

    def close(self):
        return []


def _predictor(images):
    """One person per frame, moving right; the model 'fails' on frames whose pixels are 2."""
    if any(image[0, 0, 0] == 2 for image in images):
        raise RuntimeError("boom")
    out = []
    for image in images:
        x = float(image[0, 0, 1])
        out.append(
            Instances(
                image.shape[:2],
                pred_boxes=Boxes(torch.tensor([[x, 10.0, x + 30.0, 60.0]])),
                scores=torch.ones(1),
                pred_classes=torch.zeros(1, dtype=torch.int64),
            )
        )
    return out


@pytest.mark.parametrize("loop", [run_apply, run_apply_overlapped])
@pytest.mark.parametrize("batch_size", [1, 2])
def test_stage_between_model_and_writers(loop, batch_size):
    items = []
    for t in range(6):
        image = np.zeros((80, 120, 3), np.uint8)
        image[..., 0], image[..., 1] = t, 4 * t
        items.append(InputItem(1, "clip.mp4", frame_index=t, image=image, fps=25.0))
    writer = _Recorder()
    stage = TemporalStage(TemporalOptions(window=3, mode="offline"), frame_counts={1: 7})
    stats = loop(items, _predictor, [writer], batch_size=batch_size, progress=False, stage=stage)
    assert writer.frames == [(0, [1]), (1, [1]), (2, None), (3, [1]), (4, [1]), (5, [1]), (6, None)]
    assert stats.processed == 5 and stats.failed == 1
