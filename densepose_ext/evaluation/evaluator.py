"""`DensePoseCOCOEvaluator`: collects per-image DensePose predictions and reports GPS / GPSm /
IOU AP."""

import itertools
import logging
import os
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Union

import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.evaluation import DatasetEvaluator
from detectron2.utils import comm
from detectron2.utils.file_io import PathManager

from .densepose_cocoeval import EVAL_MODES, DensePoseCocoEval, metric_names
from .ground_truth import coco_gt_from_dataset_dicts, load_contiguous_coco_gt
from .records import instances_to_records, record_to_detection
from .scorers import ChartScorer, CseScorer, catalog_mesh_geodesics
from .storage import FileTensorStorage, RamTensorStorage, TensorStorage, storage_file_path
from .surface import ChartSurface, load_chart_surface

__all__ = ["DensePoseCOCOEvaluator", "RESULT_KEYS", "PREDICTIONS_FILE", "evaluate_detections"]

logger = logging.getLogger(__name__)

RESULT_KEYS = {"gps": "densepose_gps", "gpsm": "densepose_gpsm", "iou": "densepose_segm"}
PREDICTIONS_FILE = "coco_densepose_predictions.pth"


def evaluate_detections(
    coco_gt,
    detections: List[dict],
    scorer,
    min_iou_threshold: float = 0.5,
    class_names: Optional[Dict[int, str]] = None,
) -> Dict[str, Dict[str, float]]:
    """GPS / GPSm / IOU metric tables; every metric −1 when there are no detections."""
    if not detections:
        logger.warning("No DensePose predictions: every DensePose metric is set to -1")
        names = metric_names(min_iou_threshold)
        return {RESULT_KEYS[m]: {name: -1.0 for name in names} for m in EVAL_MODES}
    evaluation = DensePoseCocoEval(coco_gt, detections, scorer, min_iou_threshold)
    evaluation.compute_pairs()
    return {RESULT_KEYS[m]: evaluation.summarize(m, class_names) for m in EVAL_MODES}


class DensePoseCOCOEvaluator(DatasetEvaluator):
    """DensePose evaluation of one dataset (chart or CSE models), gathered across processes.

    The surface for chart GPS comes from `surface` (a ChartSurface or a source string, see
    `load_chart_surface`), else the dataset metadata `densepose_surface` (or the synthetic
    datasets' `densepose_body_surface`), else the official URLs.
    CSE models need `embedder` (callable mesh name -> [V, E]); geodesics come from
    `mesh_geodesics(name)` (default: the mesh catalog).
    """

    def __init__(
        self,
        dataset_name: str,
        distributed: bool = True,
        output_dir: Optional[str] = None,
        evaluator_type: str = "iuv",
        min_iou_threshold: float = 0.5,
        storage: Optional[TensorStorage] = None,
        embedder: Optional[Callable] = None,
        should_evaluate_mesh_alignment: bool = False,
        mesh_alignment_mesh_names: Optional[List[str]] = None,
        surface: Union[ChartSurface, str, None] = None,
        mesh_geodesics: Callable = catalog_mesh_geodesics,
    ):
        self._dataset_name = dataset_name
        self._distributed = distributed
        self._output_dir = output_dir
        self._evaluator_type = evaluator_type
        self._min_iou_threshold = float(min_iou_threshold)
        self._storage = storage
        self._embedder = embedder
        self._should_evaluate_mesh_alignment = should_evaluate_mesh_alignment
        self._mesh_alignment_mesh_names = mesh_alignment_mesh_names
        self._metadata = MetadataCatalog.get(dataset_name)
        # taken now: detectron2's COCOEvaluator may later set json_file to a converted copy
        # that lacks the DensePose keys
        self._json_file = getattr(self._metadata, "json_file", None)
        if surface is None:  # synthetic datasets name their body's surface .npz
            surface = self._metadata.get("densepose_surface", None) or self._metadata.get(
                "densepose_body_surface", None
            )
        self._surface = surface
        self._mesh_geodesics = mesh_geodesics
        self._predictions: List[dict] = []

    def reset(self):
        self._predictions = []

    def process(self, inputs, outputs):
        """Converts each image's `instances` to records (see records.py)."""
        rank = comm.get_rank()
        for inp, out in zip(inputs, outputs):
            if "instances" not in out:
                continue
            instances = out["instances"]
            image_hw = (
                inp.get("height", instances.image_size[0]),
                inp.get("width", instances.image_size[1]),
            )
            self._predictions.extend(
                instances_to_records(instances, inp["image_id"], image_hw, self._storage, rank)
            )

    def _gather(self):
        """(all records, {rank: storage}) on the main process; (None, None) elsewhere."""
        if not self._distributed or comm.get_world_size() == 1:
            return self._predictions, {comm.get_rank(): self._storage}
        comm.synchronize()
        predictions = comm.gather(self._predictions, dst=0)
        blobs = None
        if isinstance(self._storage, RamTensorStorage):
            blobs = comm.gather(self._storage.blobs, dst=0)
        if not comm.is_main_process():
            return None, None
        storages: Dict[int, Optional[TensorStorage]] = {}
        if isinstance(self._storage, RamTensorStorage):
            storages = {rank: RamTensorStorage(b) for rank, b in enumerate(blobs)}
        elif isinstance(self._storage, FileTensorStorage):
            directory = os.path.dirname(self._storage.path)
            storages = {
                r: FileTensorStorage(storage_file_path(directory, r), mode="r")
                for r in range(len(predictions))
            }
        return list(itertools.chain(*predictions)), storages

    def evaluate(self, img_ids=None):
        predictions, storages = self._gather()
        if predictions is None:
            return {}
        if self._output_dir:
            PathManager.mkdirs(self._output_dir)
            with PathManager.open(os.path.join(self._output_dir, PREDICTIONS_FILE), "wb") as f:
                torch.save(predictions, f)
        storages = {r: s for r, s in storages.items() if s is not None}
        detections = [record_to_detection(r, storages) for r in predictions]
        results = OrderedDict(self._evaluate_detections(detections, img_ids))
        if self._should_evaluate_mesh_alignment:
            results.update(self._mesh_alignment())
        return results

    def _coco_gt(self, img_ids=None):
        if self._json_file:
            coco = load_contiguous_coco_gt(
                self._json_file, getattr(self._metadata, "thing_dataset_id_to_contiguous_id", None)
            )
        else:
            coco = coco_gt_from_dataset_dicts(
                DatasetCatalog.get(self._dataset_name), self._metadata.get("thing_classes")
            )
        if img_ids is not None:
            keep = set(img_ids)
            coco.imgs = {k: v for k, v in coco.imgs.items() if k in keep}
        return coco

    def _scorer(self, detections: List[dict]):
        if any("embedding" in d for d in detections):
            if self._embedder is None:
                raise ValueError(
                    "CSE evaluation needs the model's embedder "
                    "(DensePoseCOCOEvaluator(embedder=...))"
                )
            return CseScorer(self._embedder, self._mesh_geodesics)
        surface = self._surface
        if not isinstance(surface, ChartSurface):
            surface = load_chart_surface(surface)
            self._surface = surface
        if surface.approximate:
            logger.warning(
                f"GPS uses the approximate surface {surface.name!r}: metrics are approximate"
            )
        return ChartScorer(surface)

    def _evaluate_detections(
        self, detections: List[dict], img_ids=None
    ) -> Dict[str, Dict[str, float]]:
        coco_gt = self._coco_gt(img_ids)
        scorer = self._scorer(detections) if detections else None
        names = self._metadata.get("thing_classes", None)
        class_names = {i: n for i, n in enumerate(names)} if names else None
        return evaluate_detections(
            coco_gt, detections, scorer, self._min_iou_threshold, class_names
        )

    def _mesh_alignment(self) -> Dict[str, Dict[str, float]]:
        from ..utils.files import ExternalFileError
        from .mesh_alignment import evaluate_mesh_alignment

        if self._embedder is None:
            logger.warning("Mesh alignment evaluation skipped: the model has no embedder")
            return {}
        try:
            metrics = evaluate_mesh_alignment(
                self._embedder, self._mesh_alignment_mesh_names, self._mesh_geodesics
            )
        except ExternalFileError as e:
            logger.warning(f"Mesh alignment evaluation skipped: {e}")
            return {}
        return {"densepose_mesh_alignment": metrics}
