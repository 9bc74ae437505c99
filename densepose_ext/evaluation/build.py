"""Evaluators for a DensePose config: detectron2's COCO bbox evaluation plus DensePose metrics."""

import contextlib
import io
import logging
from typing import Callable, List, Optional, Sequence, Tuple

from detectron2.data import MetadataCatalog
from detectron2.evaluation import COCOEvaluator, DatasetEvaluator
from detectron2.utils import comm

from .evaluator import DensePoseCOCOEvaluator
from .storage import build_tensor_storage

__all__ = [
    "Detectron2COCOEvaluatorAdapter",
    "build_coco_evaluator",
    "build_densepose_evaluator",
    "build_densepose_evaluators",
    "coco_evaluation_tasks",
]

logger = logging.getLogger(__name__)


class Detectron2COCOEvaluatorAdapter(COCOEvaluator):
    """COCO evaluation of `tasks` (default: boxes) whose GT categories are those of
    `thing_dataset_id_to_contiguous_id`.

    When several dataset ids map to one contiguous id, the id detectron2 maps predictions back to
    (the last one in the map) is kept and all their annotations are relabelled to it; missing
    `iscrowd` is set to 0.
    """

    def __init__(
        self,
        dataset_name: str,
        output_dir: Optional[str] = None,
        distributed: bool = True,
        tasks: Sequence[str] = ("bbox",),
        kpt_oks_sigmas: Sequence[float] = (),
    ):
        super().__init__(
            dataset_name,
            tasks=tuple(tasks),
            distributed=distributed,
            output_dir=output_dir,
            use_fast_impl=False,
            kpt_oks_sigmas=tuple(kpt_oks_sigmas),
        )
        id_map = getattr(self._metadata, "thing_dataset_id_to_contiguous_id", None)
        if id_map and self._do_evaluation:
            self._remap_categories({int(k): int(v) for k, v in id_map.items()})

    def _remap_categories(self, id_map) -> None:
        representative = {contiguous: dataset_id for dataset_id, contiguous in id_map.items()}
        dataset = self._coco_api.dataset
        dataset["categories"] = [
            c for c in dataset["categories"] if representative.get(id_map.get(c["id"])) == c["id"]
        ]
        annotations = []
        for ann in dataset.get("annotations", []):
            if ann["category_id"] in id_map:
                ann["category_id"] = representative[id_map[ann["category_id"]]]
                ann.setdefault("iscrowd", 0)
                annotations.append(ann)
        dataset["annotations"] = annotations
        with contextlib.redirect_stdout(io.StringIO()):
            self._coco_api.createIndex()


def coco_evaluation_tasks(cfg) -> Tuple[str, ...]:
    """The detectron2 COCO tasks evaluated beside DensePose: box AP for every model, mask AP
    ("segm") with MODEL.MASK_ON and keypoint AP ("keypoints") with MODEL.KEYPOINT_ON."""
    tasks = ["bbox"]
    if cfg.MODEL.MASK_ON:
        tasks.append("segm")
    if cfg.MODEL.KEYPOINT_ON:
        tasks.append("keypoints")
    return tuple(tasks)


def build_coco_evaluator(
    cfg, dataset_name: str, output_dir: Optional[str]
) -> Optional[Detectron2COCOEvaluatorAdapter]:
    """COCO AP of `coco_evaluation_tasks(cfg)`; None (with a warning) when it cannot run."""
    metadata = MetadataCatalog.get(dataset_name)
    if not (hasattr(metadata, "json_file") or output_dir):
        logger.warning(
            f"COCO evaluation skipped for {dataset_name!r}: no json_file and no output_dir"
        )
        return None
    return Detectron2COCOEvaluatorAdapter(
        dataset_name,
        output_dir=output_dir,
        distributed=cfg.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE,
        tasks=coco_evaluation_tasks(cfg),
        kpt_oks_sigmas=cfg.TEST.KEYPOINT_OKS_SIGMAS,
    )


def build_densepose_evaluator(
    cfg, dataset_name: str, output_dir: Optional[str], embedder: Optional[Callable] = None
) -> DensePoseCOCOEvaluator:
    """GPS / GPSm / IOU evaluation as configured by `DENSEPOSE_EVALUATION.*` (SURFACE included)."""
    ev = cfg.DENSEPOSE_EVALUATION
    return DensePoseCOCOEvaluator(
        dataset_name,
        distributed=ev.DISTRIBUTED_INFERENCE,
        output_dir=output_dir,
        evaluator_type=ev.TYPE,
        min_iou_threshold=ev.MIN_IOU_THRESHOLD,
        storage=build_tensor_storage(ev.STORAGE, ev.TYPE, output_dir, comm.get_rank()),
        embedder=embedder,
        should_evaluate_mesh_alignment=ev.EVALUATE_MESH_ALIGNMENT,
        mesh_alignment_mesh_names=list(ev.MESH_ALIGNMENT_MESH_NAMES) or None,
        surface=ev.SURFACE or None,
    )


def build_densepose_evaluators(
    cfg, dataset_name: str, output_dir: Optional[str], embedder: Optional[Callable] = None
) -> List[DatasetEvaluator]:
    """The evaluators of a config for `dataset_name`: [COCO adapter, DensePoseCOCOEvaluator].

    The COCO adapter is left out when it cannot run, the DensePose evaluator unless DENSEPOSE_ON.
    With `DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE` False the evaluators do not gather across
    processes (only the main process runs inference). `Trainer.build_evaluator` uses this.
    """
    densepose = None
    if cfg.MODEL.DENSEPOSE_ON:
        # built before the COCO adapter, which may replace metadata.json_file by a converted copy
        densepose = build_densepose_evaluator(cfg, dataset_name, output_dir, embedder)
    evaluators = [build_coco_evaluator(cfg, dataset_name, output_dir), densepose]
    return [e for e in evaluators if e is not None]
