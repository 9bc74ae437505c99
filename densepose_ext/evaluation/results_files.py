"""Results files the standalone scorer reads, turned into evaluation detections.

Accepted: evaluation records (`coco_densepose_predictions.pth` of train_net.py, or a 2018 COCO
DensePose challenge `.json` list), and what `apply_net.py dump` writes (`.pkl`, and `.json` for
chart models). Dump files name images, not ids: each image is matched by file name (without
directory) to the annotation file's images; its class indices are contiguous category ids.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from detectron2.structures import BoxMode

from ..structures.chart_result import (
    DensePoseChartResult,
    DensePoseChartResultQuantized,
    quantize_densepose_chart_result,
)
from ..structures.dump_record import DumpRecord, is_dump_record
from ..structures.predictor_outputs import DensePoseEmbeddingPredictorOutput
from .records import decode_challenge_iuv, record_to_detection

__all__ = [
    "ACCEPTED_FORMATS",
    "ResultsFile",
    "ResultsFileError",
    "image_ids_by_file_name",
    "read_results_file",
]

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = (
    "coco_densepose_predictions.pth (train_net.py evaluation)",
    "a 2018 COCO DensePose challenge .json (list of records with image_id, uv_shape, uv_data)",
    "an apply_net.py dump .pkl",
    "an apply_net.py dump .json (chart models)",
)


class ResultsFileError(ValueError):
    """A results file the scorer cannot use; the message names the file and the accepted formats."""


@dataclass
class ResultsFile:
    """Detections (with `image_id`) and what could not be matched to the annotations.

    `contiguous`: category ids are contiguous class indices (else dataset category ids);
    `images`: distinct images (ids or file names) in the file; `unmatched`: those among them
    that match no annotated image.
    """

    detections: List[dict]
    contiguous: bool
    images: List[str] = field(default_factory=list)
    unmatched: List[str] = field(default_factory=list)


def _error(path: str, problem: str) -> ResultsFileError:
    return ResultsFileError(
        f"{path}: {problem}. Accepted results files: {'; '.join(ACCEPTED_FORMATS)}"
    )


def image_ids_by_file_name(images: Sequence[dict]) -> Dict[str, int]:
    """Annotation images: file name without directory -> image id."""
    return {os.path.basename(str(image.get("file_name", ""))): image["id"] for image in images}


def _match(names: Sequence[str], ids: Mapping[str, int]) -> Dict[str, Optional[int]]:
    return {name: ids.get(os.path.basename(name)) for name in names}


def _dump_chart_iuv(result) -> np.ndarray:
    if isinstance(result, DensePoseChartResultQuantized):
        return result.labels_uv_uint8.cpu().numpy()
    return quantize_densepose_chart_result(result).labels_uv_uint8.cpu().numpy()


def _dump_image_detections(record: DumpRecord, image_id: int, path: str) -> List[dict]:
    """Detections of one `apply_net dump` pickle record (chart results or raw CSE output)."""
    xywh = BoxMode.convert(record.boxes_xyxy.clone(), BoxMode.XYXY_ABS, BoxMode.XYWH_ABS).tolist()
    output = record.densepose
    detections = []
    for k, (box, score, label) in enumerate(
        zip(xywh, record.scores.tolist(), record.classes.tolist())
    ):
        det = {"image_id": image_id, "category_id": int(label), "bbox": box, "score": score}
        if isinstance(output, DensePoseEmbeddingPredictorOutput):
            det.update(
                coarse_segm=output.coarse_segm[k].float(), embedding=output.embedding[k].float()
            )
        elif isinstance(output, (list, tuple)) and k < len(output):
            if not isinstance(output[k], (DensePoseChartResult, DensePoseChartResultQuantized)):
                raise _error(
                    path,
                    f"per-box {type(output[k]).__name__} results cannot be scored "
                    "(CSE needs the raw embedding output that dump writes for CSE models)",
                )
            det["iuv"] = _dump_chart_iuv(output[k])
        else:
            continue  # a box without DensePose output (none is scored)
        detections.append(det)
    return detections


def _from_dump_pickle(dicts: list, ids: Mapping[str, int], path: str) -> ResultsFile:
    records = [DumpRecord.from_dict(r) for r in dicts]
    names = [r.file_name for r in records]
    matched = _match(names, ids)
    detections = []
    for record, name in zip(records, names):
        if matched[name] is not None and record.frame_index is None:
            detections.extend(_dump_image_detections(record, matched[name], path))
    unmatched = [
        n for n, r in zip(names, records) if matched[n] is None or r.frame_index is not None
    ]
    return ResultsFile(detections, True, names, unmatched)


def _from_dump_json(data: dict, ids: Mapping[str, int], path: str) -> ResultsFile:
    images = {image["id"]: image for image in data["images"]}
    names = [str(image["file_name"]) for image in data["images"]]
    matched = _match(names, ids)
    unmatched = [
        str(i["file_name"])
        for i in data["images"]
        if matched[str(i["file_name"])] is None or "frame_index" in i
    ]
    detections = []
    for det in data["detections"]:
        image = images.get(det["image_id"])
        if image is None or str(image["file_name"]) in unmatched:
            continue
        if "uv_data" not in det:
            raise _error(
                path,
                "this apply_net dump .json has no DensePose data per detection (a CSE model); "
                "score the dump .pkl instead",
            )
        detections.append(
            {
                "image_id": matched[str(image["file_name"])],
                "category_id": int(det["class_index"]),
                "bbox": [float(c) for c in det["bbox"]],
                "score": float(det["score"]),
                "iuv": decode_challenge_iuv(det["uv_data"], det["uv_shape"]),
            }
        )
    return ResultsFile(detections, True, names, unmatched)


def _from_records(
    records: list, annotated_ids: Sequence[int], to_detection: Callable, contiguous: bool
) -> ResultsFile:
    detections = [to_detection(r) for r in records]
    known = set(annotated_ids)
    ids = list(dict.fromkeys(d["image_id"] for d in detections))
    unmatched = [str(i) for i in ids if i not in known]
    return ResultsFile(detections, contiguous, [str(i) for i in ids], unmatched)


def _load_any(path: str):
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    return torch.load(path, map_location="cpu", weights_only=False)


def read_results_file(
    path: str,
    annotation_images: Sequence[dict],
    storages_for: Optional[Callable[[str], dict]] = None,
) -> ResultsFile:
    """Reads any accepted results file (see `ACCEPTED_FORMATS`) against the annotation images.

    `storages_for(path)` gives the tensor storages of records that refer to them (train_net.py
    with a file storage). Raises `ResultsFileError` for anything else.
    """
    if not os.path.isfile(path):
        raise ResultsFileError(f"{path}: no such results file")
    try:
        data = _load_any(path)
    except Exception as e:  # not JSON / not a torch or pickle file
        raise _error(path, f"cannot read it ({type(e).__name__}: {e})") from e
    ids = image_ids_by_file_name(annotation_images)
    annotated_ids = [image["id"] for image in annotation_images]
    try:
        if isinstance(data, dict) and {"images", "detections"} <= set(data):
            return _from_dump_json(data, ids, path)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise _error(path, f"unexpected content ({type(data).__name__})")
        if not data:
            return ResultsFile([], not path.endswith(".json"))
        if all(is_dump_record(r) for r in data):
            return _from_dump_pickle(data, ids, path)
        if all("image_id" in r for r in data):
            storages = None
            if storages_for is not None and any("record_id" in r for r in data):
                storages = storages_for(path)
            contiguous = not path.endswith(".json")
            return _from_records(
                data, annotated_ids, lambda r: record_to_detection(r, storages), contiguous
            )
        raise _error(path, f"records with keys {sorted(data[0])} are of no known kind")
    except ResultsFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise _error(path, f"malformed content ({type(e).__name__}: {e})") from e
