"""Geodesic Point Similarity (GPS) between detections and DensePose ground truth, vectorised.

Chart models: GT points and estimated (I, U, V) at the same pixels are mapped to the closest surface
point of their part, then to geodesic vertices; CSE models: the pixel embedding's closest mesh
vertex against `dp_vertex`. gps(d, g) = mean over GT points of exp(-dist² / (2 κ²)).
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..converters.cse_vertices import closest_vertices
from ..structures.constants import N_FINE_PARTS
from .geodesics import GeodesicDistances
from .surface import ChartSurface

__all__ = [
    "MEAN_DISTANCES",
    "COARSE_PARTS",
    "GT_COORD_NORMALISER",
    "CSE_DEFAULT_KAPPA",
    "GroundTruthPoints",
    "gt_point_pixels",
    "point_similarity",
    "chart_gps_scores",
    "chart_gps_reference",
    "cse_gps_scores",
]

# per coarse body region (index 0 = background); COARSE_PARTS maps fine label 0..24 to a region
MEAN_DISTANCES = np.array([0, 0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.150])
COARSE_PARTS = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8])
GT_COORD_NORMALISER = 255.0  # GPS maps dp_x, dp_y with /255 (training uses /256)
CSE_DEFAULT_KAPPA = 0.255
CSE_SMPL_MESH = "smpl_27554"


@dataclass
class GroundTruthPoints:
    """One GT instance: box XYWH (image px), dp_x/dp_y [P] in the 0..256 box frame, and either
    chart labels `i`, `u`, `v` [P] or CSE `vertex` [P] (0-based) with mesh `ref_model`."""

    box: Sequence[float]
    x: np.ndarray
    y: np.ndarray
    i: Optional[np.ndarray] = None
    u: Optional[np.ndarray] = None
    v: Optional[np.ndarray] = None
    vertex: Optional[np.ndarray] = None
    ref_model: Optional[str] = None

    @staticmethod
    def from_annotation(ann: dict) -> "GroundTruthPoints":
        def arr(key, dtype):
            return np.asarray(ann[key], dtype=dtype).reshape(-1) if key in ann else None

        return GroundTruthPoints(
            box=ann["bbox"],
            x=arr("dp_x", np.float64),
            y=arr("dp_y", np.float64),
            i=arr("dp_I", np.int64),
            u=arr("dp_U", np.float64),
            v=arr("dp_V", np.float64),
            vertex=arr("dp_vertex", np.int64),
            ref_model=ann.get("ref_model"),
        )


def gt_point_pixels(gt: GroundTruthPoints, det_box: Sequence[float]):
    """Integer pixel (px, py) [P] of each GT point inside the detection box and its validity [P].

    px = trunc(x·gw/255 + gx − dx0); valid iff 0 ≤ px < int(dw) and 0 ≤ py < int(dh).
    """
    gx, gy, gw, gh = (float(c) for c in gt.box)
    dx, dy, dw, dh = (float(c) for c in det_box)
    px = np.trunc(gt.x * gw / GT_COORD_NORMALISER + gx - dx).astype(np.int64)
    py = np.trunc(gt.y * gh / GT_COORD_NORMALISER + gy - dy).astype(np.int64)
    valid = (px >= 0) & (px < int(dw)) & (py >= 0) & (py < int(dh))
    return px, py, valid


def point_similarity(dist: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """exp(−d² / (2κ²)) per point; d = inf gives 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sim = np.exp(-(dist**2) / (2 * kappa**2))
    return np.nan_to_num(sim, nan=0.0)


def _read_iuv(iuv: np.ndarray, px, py, valid):
    """Labels [P] (0 where invalid or outside the array), U and V in [0, 1] [P] at (py, px)."""
    _, h, w = iuv.shape
    inside = valid & (px < w) & (py < h)
    labels = np.zeros(px.shape[0], dtype=np.int64)
    u = np.zeros(px.shape[0])
    v = np.zeros(px.shape[0])
    yy, xx = py[inside], px[inside]
    labels[inside] = iuv[0, yy, xx]
    u[inside] = iuv[1, yy, xx] / 255.0
    v[inside] = iuv[2, yy, xx] / 255.0
    return labels, u, v


def _segment_means(values: np.ndarray, segment_ids: np.ndarray, num_segments: int) -> np.ndarray:
    sums = np.bincount(segment_ids, weights=values, minlength=num_segments)
    counts = np.bincount(segment_ids, minlength=num_segments)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def _chart_gt_vertices(gt: GroundTruthPoints, surface: ChartSurface) -> np.ndarray:
    """Geodesic vertex [P] of each GT point (−1: none); all −1 for GTs without chart labels."""
    if gt.i is None or gt.u is None or gt.v is None:
        return np.full(gt.x.shape[0], -1, dtype=np.int64)
    return surface.closest_vertices(gt.i, gt.u, gt.v)


def chart_gps_scores(
    det_iuvs: List[np.ndarray],
    det_boxes: Sequence,
    gts: List[GroundTruthPoints],
    surface: ChartSurface,
) -> np.ndarray:
    """GPS [D, G] of quantised chart detections (uint8 [3, h, w], box XYWH) against chart GTs.

    GT points whose label has no surface point are left out; a GT with no such point scores 0.
    """
    num_d, num_g = len(det_iuvs), len(gts)
    scores = np.zeros((num_d, num_g))
    if num_d == 0 or num_g == 0:
        return scores
    gt_vertex = [_chart_gt_vertices(g, surface) for g in gts]
    keep = [vert >= 0 for vert in gt_vertex]
    gt_vertex_all = np.concatenate([vert[k] for vert, k in zip(gt_vertex, keep)])
    kappa_all = np.concatenate([MEAN_DISTANCES[COARSE_PARTS[g.i[k]]] for g, k in zip(gts, keep)])
    gt_index = np.concatenate([np.full(int(k.sum()), j) for j, k in enumerate(keep)]).astype(
        np.int64
    )
    labels, u, v = [], [], []
    for iuv, box in zip(det_iuvs, det_boxes):
        for g, k in zip(gts, keep):
            px, py, valid = gt_point_pixels(g, box)
            lab, uu, vv = _read_iuv(np.asarray(iuv), px[k], py[k], valid[k])
            labels.append(lab)
            u.append(uu)
            v.append(vv)
    est_vertex = surface.closest_vertices(
        np.concatenate(labels), np.concatenate(u), np.concatenate(v)
    )
    gt_rep = np.tile(gt_vertex_all, num_d)
    dist = np.full(gt_rep.shape[0], np.inf)
    ok = est_vertex >= 0
    dist[ok] = surface.geodesics.distances(gt_rep[ok], est_vertex[ok])
    sim = point_similarity(dist, np.tile(kappa_all, num_d))
    pair_ids = np.repeat(np.arange(num_d), gt_index.shape[0]) * num_g + np.tile(gt_index, num_d)
    return _segment_means(sim, pair_ids, num_d * num_g).reshape(num_d, num_g)


def chart_gps_reference(
    iuv: np.ndarray, det_box, gt: GroundTruthPoints, surface: ChartSurface
) -> float:
    """Deliberately simple per-point loop computing the same GPS (tests and benchmarks only)."""
    if gt.i is None:
        return 0.0
    gx, gy, gw, gh = (float(c) for c in gt.box)
    dx, dy, dw, dh = (float(c) for c in det_box)
    sims = []
    for k in range(len(gt.x)):
        gt_pt = _nearest_point_loop(surface, int(gt.i[k]), float(gt.u[k]), float(gt.v[k]))
        if gt_pt < 0:
            continue
        px = int(gt.x[k] * gw / 255.0 + gx - dx)
        py = int(gt.y[k] * gh / 255.0 + gy - dy)
        label, u, v = 0, 0.0, 0.0
        if 0 <= px < int(dw) and 0 <= py < int(dh) and py < iuv.shape[1] and px < iuv.shape[2]:
            label, u, v = int(iuv[0, py, px]), iuv[1, py, px] / 255.0, iuv[2, py, px] / 255.0
        est_pt = _nearest_point_loop(surface, label, u, v)
        if est_pt < 0:
            sims.append(0.0)
            continue
        a, b = int(surface.vertex_ids[gt_pt]), int(surface.vertex_ids[est_pt])
        dist = (
            0.0 if a == b else float(surface.geodesics.distances(np.array([a]), np.array([b]))[0])
        )
        kappa = MEAN_DISTANCES[COARSE_PARTS[int(gt.i[k])]]
        sims.append(float(np.exp(-(dist**2) / (2 * kappa**2))))
    return float(np.mean(sims)) if sims else 0.0


def _nearest_point_loop(surface: ChartSurface, label: int, u: float, v: float) -> int:
    if label < 1 or label > N_FINE_PARTS:
        return -1
    members = np.nonzero(surface.part_ids == label)[0]
    if members.size == 0:
        return -1
    d2 = (surface.uv[members, 0] - u) ** 2 + (surface.uv[members, 1] - v) ** 2
    return int(members[np.argmin(d2)])


def _cse_detection_maps(coarse_segm: torch.Tensor, embedding: torch.Tensor, det_box):
    """Embedding [D, h, w] and foreground mask [h, w] resized to the integer detection box."""
    h, w = max(int(det_box[3]), 1), max(int(det_box[2]), 1)
    emb = F.interpolate(embedding[None].float(), (h, w), mode="bilinear", align_corners=False)[0]
    coarse = F.interpolate(coarse_segm[None].float(), (h, w), mode="bilinear", align_corners=False)[
        0
    ]
    return emb, coarse.argmax(dim=0) > 0


def _cse_kappa(gt: GroundTruthPoints) -> np.ndarray:
    if gt.ref_model == CSE_SMPL_MESH and gt.i is not None:
        return MEAN_DISTANCES[COARSE_PARTS[gt.i]]
    return np.full(gt.x.shape[0], CSE_DEFAULT_KAPPA)


def cse_gps_scores(
    det_coarse: List[torch.Tensor],
    det_embeddings: List[torch.Tensor],
    det_boxes: Sequence,
    gts: List[GroundTruthPoints],
    mesh_embeddings: Callable[[str], torch.Tensor],
    mesh_geodesics: Callable[[str], GeodesicDistances],
) -> np.ndarray:
    """GPS [D, G] of CSE detections (coarse [K,S,S], embedding [E,S,S], box XYWH) against GTs with
    `dp_vertex` on mesh `ref_model`; `mesh_embeddings(name)` [V, E], `mesh_geodesics(name)`."""
    num_d, num_g = len(det_embeddings), len(gts)
    scores = np.zeros((num_d, num_g))
    if num_d == 0 or num_g == 0:
        return scores
    for d, (coarse, emb, box) in enumerate(zip(det_coarse, det_embeddings, det_boxes)):
        emb_map, fg = _cse_detection_maps(coarse, emb, box)
        for j, gt in enumerate(gts):
            if gt.vertex is None or gt.ref_model is None:
                continue  # no CSE annotation (dp_vertex / ref_model): scores 0
            px, py, valid = gt_point_pixels(gt, box)
            est = np.full(px.shape[0], -1, dtype=np.int64)
            yy, xx = torch.from_numpy(py[valid]), torch.from_numpy(px[valid])
            on_body = fg[yy, xx].numpy()
            if on_body.any():
                pixels = emb_map[:, yy[on_body], xx[on_body]].T  # [P', E]
                idx = np.nonzero(valid)[0][on_body]
                est[idx] = closest_vertices(pixels.contiguous(), mesh_embeddings(gt.ref_model))[
                    0
                ].numpy()
            dist = np.full(px.shape[0], np.inf)
            ok = est >= 0
            dist[ok] = mesh_geodesics(gt.ref_model).distances(gt.vertex[ok], est[ok])
            scores[d, j] = point_similarity(dist, _cse_kappa(gt)).mean() if px.size else 0.0
    return scores
