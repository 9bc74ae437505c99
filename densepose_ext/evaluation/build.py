"""Evaluators for a DensePose config: detectron2's COCO bbox evaluation plus DensePose metrics."""

import contextlib
import io
import logging
from typing import Callable, List, Optional

from detectron2.data import MetadataCatalog
from detectron2.evaluation import COCOEvaluator, DatasetEvaluator
from detectron2.utils import comm

from .evaluator import DensePoseCOCOEvaluator
from .storage import build_tensor_storage

__all__ = ["Detectron2COCOEvaluatorAdapter", "build_densepose_evaluators"]

logger = logging.getLogger(__name__)


class Detectron2COCOEvaluatorAdapter(COCOEvaluator):
    """COCO bbox evaluation whose GT categories are those of `thing_dataset_id_to_contiguous_id`.

    When several dataset ids map to one contiguous id, the id detectron2 maps predictions back to
    (the last one in the map) is kept and all their annotations are relabelled to it; missing
    `iscrowd` is set to 0.
    """

    def __init__(
        self, dataset_name: str, output_dir: Optional[str] = None, distributed: bool = True
    ):
        super().__init__(
            dataset_name,
            tasks=("bbox",),
            distributed=distributed,
            output_dir=output_dir,
            use_fast_impl=False,
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


def build_densepose_evaluators(
    cfg, dataset_name: str, output_dir: Optional[str], embedder: Optional[Callable] = None
) -> List[DatasetEvaluator]:
    """[bbox COCO evaluator adapter, DensePoseCOCOEvaluator (if DENSEPOSE_ON)] for `dataset_name`."""
    evaluators: List[DatasetEvaluator] = []
    densepose = None
    if cfg.MODEL.DENSEPOSE_ON:
        ev = cfg.DENSEPOSE_EVALUATION
        storage = build_tensor_storage(ev.STORAGE, ev.TYPE, output_dir, comm.get_rank())
        # built before the bbox adapter, which may replace metadata.json_file by a converted copy
        densepose = DensePoseCOCOEvaluator(
            dataset_name,
            distributed=True,
            output_dir=output_dir,
            evaluator_type=ev.TYPE,
            min_iou_threshold=ev.MIN_IOU_THRESHOLD,
            storage=storage,
            embedder=embedder,
            should_evaluate_mesh_alignment=ev.EVALUATE_MESH_ALIGNMENT,
            mesh_alignment_mesh_names=list(ev.MESH_ALIGNMENT_MESH_NAMES) or None,
            surface=ev.get("SURFACE", "") or None,
        )
    metadata = MetadataCatalog.get(dataset_name)
    if hasattr(metadata, "json_file") or output_dir:
        evaluators.append(Detectron2COCOEvaluatorAdapter(dataset_name, output_dir=output_dir))
    else:
        logger.warning(
            f"bbox evaluation skipped for {dataset_name!r}: no json_file and no output_dir"
        )
    if densepose is not None:
        evaluators.append(densepose)
    return evaluators
