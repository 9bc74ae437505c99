"""Prediction records (what `process()` keeps per detection) and their decoding for evaluation.

Record (the original evaluator's per-detection result dict): image_id, category_id (contiguous
predicted class), bbox XYWH float, score, and
- chart: `densepose` = DensePoseChartResultQuantized, `segmentation` = RLE of the image-size mask;
- CSE: `coarse_segm` [K, S, S], `embedding` [E, S, S];
- with a tensor storage: `record_id` + `rank` instead (raw predictor tensors in the storage).
Evaluation detections are the same dicts with `iuv` uint8 [3, h, w] (chart) or the CSE tensors.
"""

from typing import Dict, List, Optional

import numpy as np
import torch
from detectron2.structures import BoxMode

from ..converters.boxes import int_boxes_xywh
from ..converters.chart_result import chart_outputs_to_results
from ..structures.chart_result import (
    DensePoseChartResultCompressed,
    DensePoseChartResultQuantized,
    decode_png_base64,
    decompress_compressed_densepose_chart_result,
    quantize_densepose_chart_result,
)
from ..structures.predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutput,
)
from .masks import encode_mask, paste_box_mask
from .storage import STORAGE_TYPES_BY_EVAL_TYPE, TensorStorage

__all__ = ["instances_to_records", "record_to_detection", "decode_challenge_iuv"]


def _chart_fields(
    output: DensePoseChartPredictorOutput, boxes_xyxy: torch.Tensor, image_hw
) -> List[dict]:
    results = chart_outputs_to_results(output, boxes_xyxy, with_confidences=False)
    int_boxes = int_boxes_xywh(boxes_xyxy).tolist()
    fields = []
    for result, (x, y, _w, _h) in zip(results, int_boxes):
        quantized = quantize_densepose_chart_result(result)
        mask = paste_box_mask((result.labels > 0).numpy().astype(np.uint8), x, y, image_hw)
        rle = encode_mask(mask)
        rle["counts"] = rle["counts"].decode("utf-8")
        fields.append({"densepose": quantized, "segmentation": rle})
    return fields


def instances_to_records(
    instances, image_id: int, image_hw, storage: Optional[TensorStorage] = None, rank: int = 0
) -> List[dict]:
    """Converts one image's `Instances` (pred_boxes, scores, pred_classes, pred_densepose) to
    records.

    `image_hw` is the size of the image the boxes refer to (the original image).
    """
    if not instances.has("pred_densepose") or len(instances) == 0:
        return []  # no boxes: the model adds no pred_densepose
    instances = instances.to("cpu")
    boxes_xyxy = instances.pred_boxes.tensor
    boxes_xywh = BoxMode.convert(boxes_xyxy.clone(), BoxMode.XYXY_ABS, BoxMode.XYWH_ABS).tolist()
    output = instances.pred_densepose
    records = [
        {"image_id": image_id, "category_id": int(c), "bbox": box, "score": float(s)}
        for box, c, s in zip(boxes_xywh, instances.pred_classes.tolist(), instances.scores.tolist())
    ]
    if storage is not None:
        kind = "cse" if isinstance(output, DensePoseEmbeddingPredictorOutput) else "iuv"
        for k, record in enumerate(records):
            raw = {name: getattr(output, name)[k] for name in STORAGE_TYPES_BY_EVAL_TYPE[kind]}
            record.update(record_id=storage.put(raw), rank=rank)
        return records
    if isinstance(output, DensePoseEmbeddingPredictorOutput):
        for k, record in enumerate(records):
            record.update(
                coarse_segm=output.coarse_segm[k].float(), embedding=output.embedding[k].float()
            )
        return records
    if isinstance(output, DensePoseChartPredictorOutput):
        for record, fields in zip(records, _chart_fields(output, boxes_xyxy, image_hw)):
            record.update(fields)
        return records
    raise TypeError(f"unsupported DensePose predictor output {type(output).__name__}")


def decode_challenge_iuv(uv_data: str, uv_shape) -> np.ndarray:
    """2018 challenge format: base64 PNG of the HWC IUV crop -> uint8 [3, h, w]."""
    hwc = decode_png_base64(uv_data)
    return np.ascontiguousarray(np.moveaxis(hwc, -1, 0)).reshape([int(s) for s in uv_shape])


def _chart_iuv_from_raw(raw: Dict[str, torch.Tensor], bbox) -> np.ndarray:
    x, y, w, h = (float(c) for c in bbox)
    output = DensePoseChartPredictorOutput(
        coarse_segm=raw["coarse_segm"][None],
        fine_segm=raw["fine_segm"][None],
        u=raw["u"][None],
        v=raw["v"][None],
    )
    box = torch.tensor([[x, y, x + w, y + h]], dtype=torch.float32)
    result = chart_outputs_to_results(output, box, with_confidences=False)[0]
    return quantize_densepose_chart_result(result).labels_uv_uint8.numpy()


def record_to_detection(record: dict, storages: Optional[Dict[int, TensorStorage]] = None) -> dict:
    """Evaluation detection: a copy of the record with `iuv` (chart) or CSE tensors filled in."""
    det = {k: record[k] for k in ("image_id", "category_id", "bbox", "score")}
    det["bbox"] = [float(c) for c in det["bbox"]]
    if "record_id" in record:
        if storages is None or record.get("rank", 0) not in storages:
            raise KeyError(
                f"record refers to storage of rank {record.get('rank', 0)}, which is not available"
            )
        raw = storages[record.get("rank", 0)].get(record["record_id"])
        if "embedding" in raw:
            det.update(coarse_segm=raw["coarse_segm"].float(), embedding=raw["embedding"].float())
        else:
            det["iuv"] = _chart_iuv_from_raw(raw, det["bbox"])
        return det
    densepose = record.get("densepose")
    if isinstance(densepose, DensePoseChartResultCompressed):
        densepose = decompress_compressed_densepose_chart_result(densepose)
    if isinstance(densepose, DensePoseChartResultQuantized):
        det["iuv"] = densepose.labels_uv_uint8.cpu().numpy()
    elif "uv_data" in record:
        det["iuv"] = decode_challenge_iuv(record["uv_data"], record["uv_shape"])
    elif "embedding" in record:
        det.update(coarse_segm=record["coarse_segm"].float(), embedding=record["embedding"].float())
    else:
        raise KeyError(f"record has no DensePose payload; keys: {sorted(record)}")
    return det
