import numpy as np
import pytest
import torch
from evaluation_cases import GT_BOX, chart_detection, gt_annotation

from densepose_ext.evaluation.geodesics import DenseGeodesics
from densepose_ext.evaluation.gps import (
    COARSE_PARTS,
    MEAN_DISTANCES,
    GroundTruthPoints,
    chart_gps_reference,
    chart_gps_scores,
    cse_gps_scores,
    gt_point_pixels,
)
from densepose_ext.evaluation.surface import ChartSurface


def test_constants_match_spec():
    assert MEAN_DISTANCES.tolist() == [0, 0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.150]
    assert len(COARSE_PARTS) == 25 and COARSE_PARTS[0] == 0 and COARSE_PARTS[24] == 8
    assert COARSE_PARTS[[1, 3, 5, 7, 11, 15, 19, 23]].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]


def test_gt_point_pixels_uses_255_and_truncation():
    gt = GroundTruthPoints(
        box=(10, 20, 100, 200),
        x=np.array([0.0, 127.5, 254.9, 255.0]),
        y=np.array([0.0, 127.5, 1.0, 1.0]),
    )
    px, py, valid = gt_point_pixels(gt, (10.6, 20.0, 100.0, 200.0))
    # x·100/255 + 10 − 10.6: 0 → −0.6 → trunc 0 (valid!), 127.5 → 49.4 → 49, 254.9 → 99.36 → 99,
    # 255 → 99.4
    assert px.tolist() == [0, 49, 99, 99]
    assert py.tolist() == [0, 100, 0, 0]
    assert valid.all()
    px, _, valid = gt_point_pixels(gt, (10.0, 20.0, 100.9, 200.0))
    assert px.tolist() == [0, 50, 99, 100] and valid.tolist() == [True, True, True, False]
    _, _, valid = gt_point_pixels(gt, (10.0, 20.0, 99.9, 200.0))  # int(dw) = 99: px 99 is outside
    assert valid.tolist() == [True, True, False, False]


def test_perfect_prediction_scores_one(surface):
    gt = GroundTruthPoints.from_annotation(gt_annotation())
    det = chart_detection()
    assert chart_gps_scores([det["iuv"]], [det["bbox"]], [gt], surface) == pytest.approx(1.0)


def test_shifted_prediction_drops_by_the_geodesic_kernel(surface):
    gt = GroundTruthPoints.from_annotation(gt_annotation())
    det = chart_detection(u_shift_points=(0, 1, 2))  # three points 0.5 m off, two exact
    kappa = 0.351  # part 1 -> coarse region 1
    expected = (2 + 3 * np.exp(-(0.5**2) / (2 * kappa**2))) / 5
    assert chart_gps_scores([det["iuv"]], [det["bbox"]], [gt], surface)[0, 0] == pytest.approx(
        expected
    )


def test_wrong_part_and_background_give_zero(surface):
    gt = GroundTruthPoints.from_annotation(gt_annotation())
    wrong_part = chart_detection(part=2)  # part 2 lies 10 m away along the line
    background = chart_detection(part=0)
    scores = chart_gps_scores(
        [wrong_part["iuv"], background["iuv"]], [GT_BOX, GT_BOX], [gt], surface
    )
    assert scores[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert scores[1, 0] == 0.0


def test_points_outside_detection_count_as_zero(surface):
    gt = GroundTruthPoints.from_annotation(gt_annotation())
    det = chart_detection()
    # same box but only 60 px wide: points at x = 70, 90 are invalid, the other three exact
    narrow = (GT_BOX[0], GT_BOX[1], 60.0, GT_BOX[3])
    score = chart_gps_scores([det["iuv"][:, :, :60]], [narrow], [gt], surface)[0, 0]
    assert score == pytest.approx(3 / 5)


def _random_case(rng, num_dets=4, num_gts=3):
    num_points = 60
    parts = rng.integers(1, 4, num_points)  # parts 1..3 present; label 4 has no surface points
    pos = rng.normal(size=(num_points, 3))
    surface = ChartSurface(
        part_ids=parts,
        uv=rng.random((num_points, 2)),
        vertex_ids=np.arange(num_points),
        geodesics=DenseGeodesics(np.linalg.norm(pos[:, None] - pos[None], axis=2)),
    )
    gts = []
    for _ in range(num_gts):
        n = int(rng.integers(0, 30))
        box = (rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(20, 80), rng.uniform(20, 80))
        gts.append(
            GroundTruthPoints(
                box=box,
                x=rng.uniform(0, 256, n),
                y=rng.uniform(0, 256, n),
                i=rng.integers(0, 5, n),
                u=rng.random(n),
                v=rng.random(n),
            )
        )
    iuvs, boxes = [], []
    for _ in range(num_dets):
        box = (rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(10, 80), rng.uniform(10, 80))
        h, w = int(box[3]) + int(rng.integers(-2, 3)), int(box[2]) + int(rng.integers(-2, 3))
        iuv = rng.integers(0, 256, (3, max(h, 1), max(w, 1))).astype(np.uint8)
        iuv[0] = rng.integers(0, 5, iuv.shape[1:])
        iuvs.append(iuv)
        boxes.append(box)
    return surface, gts, iuvs, boxes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_loop_reference(seed):
    surface, gts, iuvs, boxes = _random_case(np.random.default_rng(seed))
    fast = chart_gps_scores(iuvs, boxes, gts, surface)
    slow = np.array(
        [
            [chart_gps_reference(iuv, box, gt, surface) for gt in gts]
            for iuv, box in zip(iuvs, boxes)
        ]
    )
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert (fast > 0).any()


def _toy_cse(num_vertices=6, dim=6):
    """Mesh vertices with one-hot embeddings at positions 0.1·k on a line."""
    emb = torch.eye(num_vertices, dim)
    pos = 0.1 * np.arange(num_vertices)
    return emb, DenseGeodesics(np.abs(pos[:, None] - pos[None]))


def test_cse_gps_against_dp_vertex():
    emb, geo = _toy_cse()
    box = (0.0, 0.0, 40.0, 30.0)
    coarse = torch.zeros(2, 8, 8)
    coarse[1] = 1.0  # foreground everywhere
    embedding = (
        (3.0 * emb[2])[:, None, None].expand(6, 8, 8).clone()
    )  # un-normalised e_2 everywhere
    n = 7
    xs, ys = np.linspace(10, 240, n), np.linspace(10, 240, n)
    exact = GroundTruthPoints(box=box, x=xs, y=ys, vertex=np.full(n, 2), ref_model="toy")
    off = GroundTruthPoints(box=box, x=xs, y=ys, vertex=np.full(n, 3), ref_model="toy")
    scores = cse_gps_scores(
        [coarse], [embedding], [box], [exact, off], lambda m: emb, lambda m: geo
    )
    assert scores[0, 0] == pytest.approx(1.0)
    assert scores[0, 1] == pytest.approx(np.exp(-(0.1**2) / (2 * 0.255**2)))
    background = torch.zeros(2, 8, 8)
    background[0] = 1.0
    scores = cse_gps_scores([background], [embedding], [box], [exact], lambda m: emb, lambda m: geo)
    assert scores[0, 0] == 0.0


def test_cse_kappa_for_smpl_uses_part_distances():
    emb, geo = _toy_cse()
    box = (0.0, 0.0, 40.0, 30.0)
    coarse = torch.stack([torch.zeros(8, 8), torch.ones(8, 8)])
    embedding = emb[2][:, None, None].expand(6, 8, 8).clone()
    gt = GroundTruthPoints(
        box=box,
        x=np.array([100.0]),
        y=np.array([100.0]),
        vertex=np.array([3]),
        i=np.array([5]),
        ref_model="smpl_27554",
    )
    score = cse_gps_scores([coarse], [embedding], [box], [gt], lambda m: emb, lambda m: geo)[0, 0]
    assert score == pytest.approx(np.exp(-(0.1**2) / (2 * MEAN_DISTANCES[3] ** 2)))
