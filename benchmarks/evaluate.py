"""Benchmark: DensePose evaluation of N synthetic images; vectorised GPS vs a per-point Python loop.

    python benchmarks/evaluate.py [--images 50] [--gts 3] [--dets 5] [--points 100]

The surface mimics the official one in size (24 parts × 1200 chart points mapped to 1944 geodesic
vertices with a dense distance matrix). Detections are noisy copies of the GT's IUV, so GPS values
are spread over [0, 1]. Both GPS implementations run on the same inputs; their results must agree.
"""

import argparse
import time

import numpy as np

from densepose_ext.evaluation.evaluator import evaluate_detections
from densepose_ext.evaluation.geodesics import DenseGeodesics
from densepose_ext.evaluation.gps import GroundTruthPoints, chart_gps_reference
from densepose_ext.evaluation.ground_truth import coco_from_dict
from densepose_ext.evaluation.scorers import ChartScorer
from densepose_ext.evaluation.surface import ChartSurface


def make_surface(rng, points_per_part=1200, cells=9) -> ChartSurface:
    """Chart points of each part are binned into a cells×cells UV grid; a bin is a geodesic vertex
    placed at part offset + 0.3 m·(u, v); distances are Euclidean between vertices (dense)."""
    parts = np.repeat(np.arange(1, 25), points_per_part)
    uv = rng.random((parts.size, 2))
    cell = np.minimum((uv * cells).astype(np.int64), cells - 1)
    vertex_ids = (parts - 1) * cells * cells + cell[:, 0] * cells + cell[:, 1]
    part_of_vertex = np.repeat(np.arange(24), cells * cells)
    grid = np.stack(np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij"), -1).reshape(
        -1, 2
    )
    centres = (np.tile(grid, (24, 1)) + 0.5) / cells
    offsets = rng.normal(scale=0.4, size=(24, 3))
    positions = offsets[part_of_vertex] + 0.3 * np.concatenate(
        [centres, np.zeros((len(centres), 1))], 1
    )
    geodists = np.linalg.norm(positions[:, None] - positions[None], axis=2).astype(np.float32)
    return ChartSurface(
        part_ids=parts,
        uv=uv,
        vertex_ids=vertex_ids,
        geodesics=DenseGeodesics(geodists),
        name="benchmark",
    )


def _paint_gt(rng, iuv, gt, box, keep=0.8, uv_noise=0.03):
    """Writes the GT's (I, U + noise, V + noise) at a fraction `keep` of its points' pixels."""
    px = np.trunc(np.array(gt["dp_x"]) * gt["bbox"][2] / 255 + gt["bbox"][0] - box[0]).astype(
        np.int64
    )
    py = np.trunc(np.array(gt["dp_y"]) * gt["bbox"][3] / 255 + gt["bbox"][1] - box[1]).astype(
        np.int64
    )
    ok = (
        (px >= 0)
        & (px < iuv.shape[2])
        & (py >= 0)
        & (py < iuv.shape[1])
        & (rng.random(px.size) < keep)
    )
    for row, key in ((1, "dp_U"), (2, "dp_V")):
        value = np.clip(np.array(gt[key]) + rng.normal(scale=uv_noise, size=px.size), 0, 1)
        iuv[row, py[ok], px[ok]] = (value[ok] * 255).astype(np.uint8)
    iuv[0, py[ok], px[ok]] = np.array(gt["dp_I"])[ok]


def make_image(rng, image_id, num_gts, num_dets, num_points, ann_id):
    anns, dets = [], []
    for g in range(num_gts):
        box = [
            float(rng.uniform(0, 400)),
            float(rng.uniform(0, 200)),
            float(rng.uniform(80, 200)),
            float(rng.uniform(150, 350)),
        ]
        i = rng.integers(1, 25, num_points)
        anns.append(
            {
                "id": ann_id + g,
                "image_id": image_id,
                "category_id": 0,
                "bbox": box,
                "iscrowd": 0,
                "area": box[2] * box[3],
                "dp_x": rng.uniform(0, 255, num_points).tolist(),
                "dp_y": rng.uniform(0, 255, num_points).tolist(),
                "dp_I": i.tolist(),
                "dp_U": rng.random(num_points).tolist(),
                "dp_V": rng.random(num_points).tolist(),
            }
        )
    for d in range(num_dets):
        gt = anns[d % num_gts]
        jitter = rng.normal(scale=3.0, size=4)
        box = [
            gt["bbox"][0] + jitter[0],
            gt["bbox"][1] + jitter[1],
            gt["bbox"][2] + jitter[2],
            gt["bbox"][3] + jitter[3],
        ]
        h, w = max(int(box[3]), 1), max(int(box[2]), 1)
        iuv = np.zeros((3, h, w), dtype=np.uint8)
        iuv[0] = rng.integers(0, 25, (h, w))
        iuv[1:] = rng.integers(0, 256, (2, h, w))
        _paint_gt(rng, iuv, gt, box)
        dets.append(
            {
                "image_id": image_id,
                "category_id": 0,
                "bbox": box,
                "score": float(rng.random()),
                "iuv": iuv,
            }
        )
    return anns, dets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--gts", type=int, default=3)
    parser.add_argument("--dets", type=int, default=5)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    surface = make_surface(rng)
    images, anns, dets = [], [], []
    for image_id in range(1, args.images + 1):
        a, d = make_image(rng, image_id, args.gts, args.dets, args.points, len(anns) + 1)
        images.append({"id": image_id, "height": 600, "width": 700})
        anns += a
        dets += d
    coco = coco_from_dict(
        {"images": images, "annotations": anns, "categories": [{"id": 0, "name": "person"}]}
    )
    scorer = ChartScorer(surface)
    scorer.gps_matrix(dets[:1], anns[:1])  # build the per-part KD-trees outside the timings

    start = time.perf_counter()
    results = evaluate_detections(coco, dets, scorer)
    full_time = time.perf_counter() - start

    per_image = [
        ([d for d in dets if d["image_id"] == i], [a for a in anns if a["image_id"] == i])
        for i in range(1, args.images + 1)
    ]
    start = time.perf_counter()
    fast = [scorer.gps_matrix(d, a) for d, a in per_image]
    fast_time = time.perf_counter() - start
    start = time.perf_counter()
    slow = [
        np.array(
            [
                [
                    chart_gps_reference(
                        det["iuv"], det["bbox"], GroundTruthPoints.from_annotation(ann), surface
                    )
                    for ann in a
                ]
                for det in d
            ]
        )
        for d, a in per_image
    ]
    slow_time = time.perf_counter() - start
    max_diff = max(float(np.abs(f - s).max()) for f, s in zip(fast, slow))

    pairs = sum(len(d) * len(a) for d, a in per_image)
    print(
        f"images {args.images}, GTs {len(anns)}, detections {len(dets)}, (det, GT) pairs {pairs}, "
        f"points per GT {args.points}"
    )
    print(
        f"full evaluation (GPS + GPSm + IOU, masks, matching, accumulation): {full_time:.2f} s "
        f"({1000 * full_time / args.images:.1f} ms / image)"
    )
    print(
        f"GPS vectorised: {fast_time:.3f} s   per-point loop: {slow_time:.3f} s   "
        f"speed-up {slow_time / fast_time:.1f}x   max |difference| {max_diff:.2e}"
    )
    print(
        f"densepose_gps AP {results['densepose_gps']['AP']:.2f}, "
        f"mean GPS {np.mean([f.mean() for f in fast]):.3f}"
    )
    if slow_time / fast_time < 10 or max_diff > 1e-9:
        raise SystemExit("vectorised GPS must be >= 10x faster than the loop and agree with it")


if __name__ == "__main__":
    main()
