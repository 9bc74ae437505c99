"""`TrackSmoother`: identity on a still sequence, follows a moving box, reduces jitter."""

import numpy as np
import pytest
import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.structures.predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutputWithConfidences,
)
from densepose_ext.video.smoothing import TrackSmoother, weighted_line_at

S = 8


def chart_output(n: int, seed: int) -> DensePoseChartPredictorOutput:
    g = torch.Generator().manual_seed(seed)
    return DensePoseChartPredictorOutput(
        coarse_segm=torch.randn(n, 2, S, S, generator=g),
        fine_segm=torch.randn(n, 25, S, S, generator=g),
        u=torch.rand(n, 25, S, S, generator=g),
        v=torch.rand(n, 25, S, S, generator=g),
    )


def cse_output(n: int, seed: int) -> DensePoseEmbeddingPredictorOutputWithConfidences:
    g = torch.Generator().manual_seed(seed)
    return DensePoseEmbeddingPredictorOutputWithConfidences(
        embedding=torch.randn(n, 16, S, S, generator=g),
        coarse_segm=torch.randn(n, 2, S, S, generator=g),
        coarse_segm_confidence=torch.rand(n, 1, S, S, generator=g),
    )


def prediction(boxes, densepose, scores=None) -> ImagePrediction:
    boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    n = len(boxes)
    scores = torch.full((n,), 0.9) if scores is None else torch.as_tensor(scores).float()
    return ImagePrediction((240, 320), boxes, scores, torch.zeros(n, dtype=torch.int64), densepose)


def smooth_sequence(smoother: TrackSmoother, predictions, ids):
    """Each frame smoothed as soon as the frames its window needs are in (as the stage does)."""
    ids, out, lag = np.asarray(ids), [], smoother.lag
    for t, p in enumerate(predictions):
        smoother.observe(t, ids, p)
        if t >= lag:
            out.append(smoother.smooth(t - lag, ids, predictions[t - lag]))
    out += [smoother.smooth(t, ids, predictions[t]) for t in range(len(out), len(predictions))]
    return out


@pytest.mark.parametrize("mode", ["causal", "offline"])
@pytest.mark.parametrize("make_output", [chart_output, cse_output])
def test_identity_on_a_still_sequence(mode, make_output):
    still = prediction([[10.3, 20.7, 60.1, 130.9], [100, 50, 150, 200]], make_output(2, 0))
    smoother = TrackSmoother(window=5, strength=1.0, mode=mode)
    outputs = smooth_sequence(smoother, [still] * 12, [1, 2])
    for out in outputs:
        assert torch.equal(out.boxes_xyxy, still.boxes_xyxy)
        for name, value in still.densepose.fields().items():
            assert torch.equal(getattr(out.densepose, name), value), name
        assert out.track_ids.tolist() == [1, 2]
    if make_output is chart_output:
        for a, b in zip(outputs[-1].chart_results(), still.chart_results()):
            assert torch.equal(a.labels, b.labels) and torch.equal(a.uv, b.uv)


def test_inputs_are_not_modified_and_strength_zero_is_identity():
    frames = [prediction([[10, 10, 50, 90]], chart_output(1, t)) for t in range(6)]
    copies = [{k: v.clone() for k, v in p.densepose.fields().items()} for p in frames]
    outputs = smooth_sequence(TrackSmoother(window=5, strength=0.0), frames, [1])
    for p, copy, out in zip(frames, copies, outputs):
        for name, value in copy.items():
            assert torch.equal(getattr(p.densepose, name), value)
            assert torch.equal(getattr(out.densepose, name), value)
        assert torch.equal(out.boxes_xyxy, p.boxes_xyxy)


@pytest.mark.parametrize("mode", ["causal", "offline"])
def test_moving_box_is_followed_not_lagged(mode):
    """Constant-velocity boxes come out where they are (a plain average would lag 2 frames
    behind in causal mode)."""
    frames = [
        prediction([[10 + 7 * t, 20 + 3 * t, 60 + 7 * t, 120 + 3 * t]], chart_output(1, 0))
        for t in range(10)
    ]
    outputs = smooth_sequence(TrackSmoother(window=5, strength=1.0, mode=mode), frames, [1])
    for p, out in zip(frames, outputs):
        torch.testing.assert_close(out.boxes_xyxy, p.boxes_xyxy, atol=1e-3, rtol=0)


def test_jitter_is_reduced_and_labels_flicker_less():
    rng = np.random.default_rng(0)
    base = chart_output(1, 0)
    base.fine_segm *= 3.0  # a clear best part per pixel, blurred by the per-frame noise
    frames = []
    for _ in range(40):
        noisy = DensePoseChartPredictorOutput(
            **{
                k: v + torch.from_numpy(rng.normal(0, 1.0, v.shape).astype(np.float32))
                for k, v in base.fields().items()
            }
        )
        jitter = rng.normal(0, 2.0, 4)
        frames.append(prediction(np.array([30, 30, 90, 150]) + jitter, noisy))
    outputs = smooth_sequence(TrackSmoother(window=7, strength=1.0, mode="offline"), frames, [1])

    def label_changes(preds):
        labels = [p.chart_results()[0].labels for p in preds]
        shapes = {tuple(x.shape) for x in labels}
        if len(shapes) > 1:  # boxes of different integer size: compare on the S x S grid
            labels = [p.densepose.fine_segm[0].argmax(0) for p in preds]
        return np.mean([(a != b).float().mean().item() for a, b in zip(labels, labels[1:])])

    def box_jitter(preds):
        return np.std(torch.stack([p.boxes_xyxy[0] for p in preds]).numpy(), axis=0).mean()

    assert label_changes(outputs) < 0.5 * label_changes(frames)
    assert box_jitter(outputs) < 0.7 * box_jitter(frames)


def test_tracks_are_smoothed_separately():
    a = chart_output(1, 1)
    b = chart_output(1, 2)
    both = DensePoseChartPredictorOutput.cat([a, b])
    p = prediction([[0, 0, 40, 80], [100, 0, 140, 80]], both)
    outputs = smooth_sequence(TrackSmoother(window=3, strength=1.0), [p] * 4, [5, 9])
    assert torch.equal(outputs[-1].densepose.fine_segm, both.fine_segm)  # no mixing of people


def test_weighted_line_values():
    x = np.array([-2.0, -1.0, 0.0])
    y = np.array([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(weighted_line_at(x, y, np.ones(3)), [3.0])
    np.testing.assert_allclose(weighted_line_at(np.zeros(2), y[:2], np.ones(2)), [1.5])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="window"):
        TrackSmoother(window=0)
    with pytest.raises(ValueError, match="strength"):
        TrackSmoother(strength=1.5)
    with pytest.raises(ValueError, match="mode"):
        TrackSmoother(mode="future")
