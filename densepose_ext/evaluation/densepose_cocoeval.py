"""DensePose COCO-eval protocol: matching by GPS, GPSm or mask IoU, accumulation, metric table.

Per (image, category) the similarity matrices are computed once and shared by the three modes.
Matching is COCO's greedy matching with DensePose's changes (zero similarity never matches, bbox
IoU ≥ 0.8 rescue at the last threshold, all-ignored images ignore their detections); accumulation
reuses pycocotools' `COCOeval.accumulate`.
"""

import contextlib
import copy
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils
from pycocotools.cocoeval import COCOeval

from .masks import gt_mask, ignore_region_mask, keep_box_outside_ignore, keep_mask_outside_ignore

__all__ = [
    "EVAL_MODES",
    "iou_thresholds",
    "metric_names",
    "ImagePairs",
    "match_image",
    "DensePoseCocoEval",
]

EVAL_MODES = ("gps", "gpsm", "iou")
MAX_DETS = 20
AREA_RANGES = {"all": [0, 1e10], "medium": [32**2, 96**2], "large": [96**2, 1e10]}
RESCUE_BBOX_IOU = 0.8


def iou_thresholds(min_iou: float = 0.5) -> np.ndarray:
    """linspace(min, 0.95, round((0.95 − min) / 0.05) + 1)."""
    return np.linspace(min_iou, 0.95, int(np.round((0.95 - min_iou) / 0.05)) + 1, endpoint=True)


def metric_names(min_iou: float = 0.5) -> List[str]:
    """AP, AP20/30/40 (when min ≤ .201/.301/.401), AP50, AP75, APm, APl, AR, AR50, AR75, ARm,
    ARl."""
    extra = [f"AP{t}" for t, limit in ((20, 0.201), (30, 0.301), (40, 0.401)) if min_iou <= limit]
    return ["AP", *extra, "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


@dataclass
class ImagePairs:
    """One (image, category): GTs (non-ignored first), detections (by score, ≤ 20), similarities.

    gps / mask_iou / bbox_iou: [D, G]; gt_ignore [G] (no DensePose points); gt_area / det_area.
    """

    gt_ids: np.ndarray
    det_ids: np.ndarray
    det_scores: np.ndarray
    gt_ignore: np.ndarray
    gt_crowd: np.ndarray
    gt_area: np.ndarray
    det_area: np.ndarray
    gps: np.ndarray
    mask_iou: Optional[np.ndarray]
    bbox_iou: np.ndarray

    def similarity(self, mode: str) -> np.ndarray:
        if mode == "gps":
            return self.gps
        if mode == "iou":
            return self.mask_iou
        if mode == "gpsm":
            return np.sqrt(self.gps * self.mask_iou)
        raise ValueError(
            f"unknown DensePose evaluation mode {mode!r}; expected one of {EVAL_MODES}"
        )


def _greedy_match(sim, thresholds, gt_ignore, gt_crowd, det_ignore, dt_match, gt_match):
    """COCO greedy matching per threshold, skipping zero similarities (in-place on the arrays)."""
    for t_index, t in enumerate(thresholds):
        for d in range(sim.shape[0]):
            best_sim, best = min(t, 1 - 1e-10), -1
            for g in range(sim.shape[1]):
                if gt_match[t_index, g] > 0 and not gt_crowd[g]:
                    continue
                if best > -1 and not gt_ignore[best] and gt_ignore[g]:
                    break
                if sim[d, g] < best_sim or sim[d, g] == 0.0:
                    continue
                best_sim, best = sim[d, g], g
            if best == -1:
                continue
            det_ignore[t_index, d] = gt_ignore[best]
            dt_match[t_index, d] = best + 1
            gt_match[t_index, best] = d + 1


def _rescue_by_bbox(bbox_iou, gt_ignore, gt_crowd, det_ignore, dt_match, gt_match):
    """Unmatched detections at the last threshold take the ignore flag of the best GT with bbox
    IoU ≥ 0.8; if that GT is ignored the pair counts as matched at the last threshold."""
    last = dt_match.shape[0] - 1
    for d in range(bbox_iou.shape[0]):
        if dt_match[last, d] > 0:
            continue
        best_iou, best = RESCUE_BBOX_IOU, -1
        for g in range(bbox_iou.shape[1]):
            if gt_match[last, g] > 0 and not gt_crowd[g]:
                continue
            if bbox_iou[d, g] < best_iou:
                continue
            best_iou, best = bbox_iou[d, g], g
        if best > -1:
            det_ignore[:, d] = gt_ignore[best]
            if gt_ignore[best]:
                dt_match[last, d] = best + 1
                gt_match[last, best] = d + 1


def match_image(pairs: ImagePairs, mode: str, area_range: Sequence[float], thresholds) -> dict:
    """pycocotools-style per-image result (dtMatches/gtMatches [T, *], dtIgnore [T, D], ...)."""
    out_of_range = (pairs.gt_area < area_range[0]) | (pairs.gt_area > area_range[1])
    gt_ignore = pairs.gt_ignore | out_of_range
    order = np.argsort(gt_ignore, kind="mergesort")  # non-ignored GTs first
    gt_ignore, gt_crowd = gt_ignore[order], pairs.gt_crowd[order]
    num_t, num_d, num_g = len(thresholds), len(pairs.det_ids), len(order)
    dt_match, gt_match = np.zeros((num_t, num_d)), np.zeros((num_t, num_g))
    det_ignore = np.zeros((num_t, num_d), dtype=bool)
    if num_d and num_g:
        sim = pairs.similarity(mode)[:, order]
        _greedy_match(sim, thresholds, gt_ignore, gt_crowd, det_ignore, dt_match, gt_match)
        _rescue_by_bbox(
            pairs.bbox_iou[:, order], gt_ignore, gt_crowd, det_ignore, dt_match, gt_match
        )
    if np.all(gt_ignore):  # every GT ignored (or none): the image's detections do not count
        det_ignore[:] = True
    det_out = (pairs.det_area < area_range[0]) | (pairs.det_area > area_range[1])
    det_ignore |= (dt_match == 0) & det_out[None, :]
    return {
        "aRng": list(area_range),
        "maxDet": MAX_DETS,
        "dtIds": list(pairs.det_ids),
        "gtIds": list(pairs.gt_ids[order]),
        "dtMatches": dt_match,
        "gtMatches": gt_match,
        "dtScores": list(pairs.det_scores),
        "gtIgnore": gt_ignore.astype(int),
        "dtIgnore": det_ignore,
    }


class DensePoseCocoEval:
    """Evaluates detections (dicts: image_id, category_id, bbox XYWH, score, payload) against a
    pycocotools COCO ground truth whose category ids match the detections' ones.

    `scorer` provides `gps_matrix(dets, gt_anns)` and `detection_mask(det, image_hw)`.
    """

    def __init__(
        self,
        coco_gt,
        detections: List[dict],
        scorer,
        min_iou_threshold: float = 0.5,
        need_masks: bool = True,
    ):
        self.coco_gt = coco_gt
        self.scorer = scorer
        self.min_iou_threshold = float(min_iou_threshold)
        self.thresholds = iou_thresholds(self.min_iou_threshold)
        self.need_masks = need_masks
        self.img_ids = sorted(coco_gt.getImgIds())
        self.cat_ids = sorted(coco_gt.getCatIds())
        self._dets = defaultdict(list)
        for k, det in enumerate(detections):
            self._dets[det["image_id"], det["category_id"]].append(dict(det, id=k + 1))
        self.pairs: Dict[tuple, Optional[ImagePairs]] = {}

    def compute_pairs(self) -> None:
        """Similarities for every (image, category); done once for all modes."""
        for img_id in self.img_ids:
            image = self.coco_gt.imgs[img_id]
            ignore = ignore_region_mask(image)
            for cat_id in self.cat_ids:
                self.pairs[img_id, cat_id] = self._image_pairs(image, cat_id, ignore)

    def _image_pairs(self, image, cat_id, ignore) -> Optional[ImagePairs]:
        image_hw = (int(image["height"]), int(image["width"]))
        ann_ids = self.coco_gt.getAnnIds(imgIds=[image["id"]], catIds=[cat_id])
        gts = [
            a for a in self.coco_gt.loadAnns(ann_ids) if keep_box_outside_ignore(a["bbox"], ignore)
        ]
        dets = sorted(self._dets.get((image["id"], cat_id), []), key=lambda d: -d["score"])
        dets = dets[:MAX_DETS]
        det_masks = None
        if dets and (self.need_masks or ignore is not None):
            det_masks = [self.scorer.detection_mask(d, image_hw) for d in dets]
            keep = [keep_mask_outside_ignore(m, d["bbox"], ignore) for m, d in zip(det_masks, dets)]
            dets = [d for d, k in zip(dets, keep) if k]
            det_masks = [m for m, k in zip(det_masks, keep) if k]
        if not gts and not dets:
            return None
        gt_ignore = np.array([("dp_x" not in a) for a in gts], dtype=bool)
        crowd = np.array([int(a.get("iscrowd", 0)) for a in gts], dtype=bool)
        return ImagePairs(
            gt_ids=np.array([a["id"] for a in gts], dtype=np.int64),
            det_ids=np.array([d["id"] for d in dets], dtype=np.int64),
            det_scores=np.array([d["score"] for d in dets], dtype=np.float64),
            gt_ignore=gt_ignore,
            gt_crowd=crowd,
            gt_area=np.array(
                [a.get("area", a["bbox"][2] * a["bbox"][3]) for a in gts], dtype=np.float64
            ),
            det_area=np.array([d["bbox"][2] * d["bbox"][3] for d in dets], dtype=np.float64),
            gps=self._gps(dets, gts, gt_ignore),
            mask_iou=self._mask_iou(det_masks, gts, crowd, image_hw) if self.need_masks else None,
            bbox_iou=self._bbox_iou(dets, gts, crowd),
        )

    def _gps(self, dets, gts, gt_ignore) -> np.ndarray:
        gps = np.zeros((len(dets), len(gts)))
        valid = np.nonzero(~gt_ignore)[0]
        if len(dets) and valid.size:
            gps[:, valid] = self.scorer.gps_matrix(dets, [gts[j] for j in valid])
        return gps

    @staticmethod
    def _bbox_iou(dets, gts, crowd) -> np.ndarray:
        if not dets or not gts:
            return np.zeros((len(dets), len(gts)))
        boxes_d = [list(map(float, d["bbox"])) for d in dets]
        boxes_g = [list(map(float, g["bbox"])) for g in gts]
        return np.asarray(
            mask_utils.iou(boxes_d, boxes_g, crowd.astype(int).tolist()), dtype=np.float64
        )

    @staticmethod
    def _mask_iou(det_masks, gts, crowd, image_hw) -> np.ndarray:
        from .masks import mask_ious

        if not det_masks or not gts:
            return np.zeros((len(det_masks or []), len(gts)))
        return mask_ious(det_masks, [gt_mask(g, image_hw) for g in gts], crowd)

    def accumulate(self, mode: str) -> COCOeval:
        """pycocotools COCOeval holding `eval["precision"]` [T, R, K, A, 1] and `eval["recall"]`."""
        if not self.pairs:
            self.compute_pairs()
        coco_eval = COCOeval(iouType="bbox")
        params = coco_eval.params
        params.imgIds, params.catIds = list(self.img_ids), list(self.cat_ids)
        params.iouThrs, params.maxDets = self.thresholds, [MAX_DETS]
        params.areaRng, params.areaRngLbl = list(AREA_RANGES.values()), list(AREA_RANGES)
        params.useCats = 1
        coco_eval.evalImgs = [
            self._match_or_none(img_id, cat_id, mode, area)
            for cat_id in self.cat_ids
            for area in params.areaRng
            for img_id in self.img_ids
        ]
        coco_eval._paramsEval = copy.deepcopy(params)
        with contextlib.redirect_stdout(io.StringIO()):
            coco_eval.accumulate()
        return coco_eval

    def _match_or_none(self, img_id, cat_id, mode, area):
        pairs = self.pairs.get((img_id, cat_id))
        if pairs is None:
            return None
        result = match_image(pairs, mode, area, self.thresholds)
        result.update(image_id=img_id, category_id=cat_id)
        return result

    def summarize(
        self, mode: str, class_names: Optional[Dict[int, str]] = None
    ) -> Dict[str, float]:
        """Metric table ×100 (−1 where undefined); `AP-<class>` when more than one category."""
        coco_eval = self.accumulate(mode)
        precision, recall = coco_eval.eval["precision"], coco_eval.eval["recall"]
        results = {}
        for name in metric_names(self.min_iou_threshold):
            results[name] = _summary_value(name, precision, recall, self.thresholds)
        if len(self.cat_ids) > 1:
            for k, cat_id in enumerate(self.cat_ids):
                values = precision[:, :, k, 0, -1]
                values = values[values > -1]
                label = (class_names or {}).get(cat_id, str(cat_id))
                results[f"AP-{label}"] = float(values.mean() * 100) if values.size else -1.0
        return results


def _summary_value(name: str, precision: np.ndarray, recall: np.ndarray, thresholds) -> float:
    """One metric from accumulated arrays; names like AP, AP50, APm, AR75, ARl."""
    kind, rest = name[:2], name[2:]
    area_index = {"": 0, "m": 1, "l": 2}
    if rest in area_index:
        t_index, a_index = slice(None), area_index[rest]
    else:
        t_index = np.nonzero(np.isclose(thresholds, int(rest) / 100.0))[0]
        a_index = 0
    values = (
        precision[t_index, :, :, a_index, -1] if kind == "AP" else recall[t_index, :, a_index, -1]
    )
    values = values[values > -1]
    return float(values.mean() * 100) if values.size else -1.0
