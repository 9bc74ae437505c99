"""`apply_net dump` outputs: the original's pickle, and files readable without this package.

- pkl: `torch.save` of a list with one dict per image, `structures.dump_record.DumpRecord`
  (keys file_name, scores, pred_boxes_XYXY, pred_classes, pred_densepose; plus frame_index for
  video frames). Records are spooled in chunks into a
  hidden directory beside the output and assembled at `close()` from memory-mapped spool files,
  so they do not accumulate in RAM; the final file appears atomically.
- iuv_png: `<stem>_IUV.png` (cv2.imread gives [..., 0] = part I, [..., 1] = U·255, [..., 2] = V·255)
  and `<stem>_INDS.png` (0 = background, k = k-th detection), the Caffe2 DensePose convention.
- npz: `<stem>.npz` per image with boxes, scores, classes and per-instance label/U/V arrays
  (chart) or vertex ids (CSE).
- json: one file: {"images": [...], "detections": [...]}; chart detections carry the
  2018-challenge fields `uv_shape` [3, h, w] and `uv_data` (base64 PNG of the I, U·255, V·255 crop).
"""

import io
import json
import os
import shutil
import tempfile
from typing import Dict, List

import numpy as np
import torch

from ..converters.iuv_image import make_iuv_image
from ..converters.prediction import ImagePrediction
from ..engine.inputs import InputItem
from ..engine.output_files import ItemNamer, atomic_write_bytes, atomic_write_image, temporary_path
from ..structures.chart_result import encode_png_base64, quantize_densepose_chart_result
from ..structures.dump_record import DumpRecord

__all__ = [
    "DUMP_FORMATS",
    "IuvPngWriter",
    "JsonWriter",
    "NpzWriter",
    "PickleWriter",
    "dump_record",
    "iuv_images",
    "quantized_iuv_crop",
]

DUMP_FORMATS = ("pkl", "iuv_png", "npz", "json")


def dump_record(item: InputItem, prediction: ImagePrediction) -> dict:
    """The original's per-image dict (plus `pred_classes`, see `DumpRecord`); chart models store
    per-box chart results, CSE models the image's raw embedding output."""
    if prediction.is_chart:
        densepose = prediction.chart_results()
    elif prediction.densepose is not None:
        densepose = prediction.densepose
    elif prediction.is_cse:  # only per-box vertex results are available
        densepose = prediction.cse_results()
    else:
        densepose = None
    return DumpRecord(
        file_name=item.path,
        boxes_xyxy=prediction.boxes_xyxy,
        scores=prediction.scores,
        classes=prediction.classes,
        densepose=densepose,
        frame_index=item.frame_index,
        masks=prediction.masks,
        keypoints=prediction.keypoints,
        track_ids=prediction.track_ids,
    ).to_dict()


class PickleWriter:
    """Spools records in chunks, then writes `torch.save(list_of_records)` to `path` at `close()`.

    At most `chunk_size` records are held in memory; each full chunk goes to its own spool file.
    """

    def __init__(self, path: str, chunk_size: int = 64):
        self.path = path
        self.chunk_size = chunk_size
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._spool = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.parts.", dir=parent)
        self._pending: List[dict] = []
        self._chunks = 0

    def write(self, item: InputItem, prediction: ImagePrediction) -> None:
        self._pending.append(dump_record(item, prediction))
        if len(self._pending) >= self.chunk_size:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            torch.save(self._pending, os.path.join(self._spool, f"{self._chunks:09d}.pt"))
            self._chunks += 1
            self._pending = []

    def close(self) -> List[str]:
        if self._spool is None:
            return [self.path]
        self._flush()
        tmp = temporary_path(self.path)
        try:
            # mmap: tensors stay file-backed pages that the OS can drop while torch.save streams
            # them
            records = []
            for name in sorted(os.listdir(self._spool)):
                path = os.path.join(self._spool, name)
                records.extend(torch.load(path, map_location="cpu", mmap=True, weights_only=False))
            torch.save(records, tmp)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None
        return [self.path]


class _PerImageFilesWriter:
    """Writes files named after each input (`namer`) into `directory`."""

    def __init__(self, directory: str, namer: ItemNamer):
        self.directory = directory
        self.namer = namer
        os.makedirs(directory, exist_ok=True)

    def close(self) -> List[str]:
        return [self.directory]


def iuv_images(prediction: ImagePrediction):
    """(iuv uint8 [H, W, 3], inds uint8 [H, W]) of a chart prediction, as `IuvPngWriter` writes
    them (channel 0 = part I, 1 = U·255, 2 = V·255)."""
    keep = len(prediction) if prediction.has_densepose else 0  # boxes with results
    iuv, inds = make_iuv_image(
        prediction.chart_results(),
        prediction.boxes_xyxy[:keep],
        prediction.scores[:keep],
        prediction.image_hw,
    )
    return iuv.numpy(), inds.numpy()


class IuvPngWriter(_PerImageFilesWriter):
    """Per image `<stem>_IUV.png` and `<stem>_INDS.png` in `directory` (chart models)."""

    def write(self, item: InputItem, prediction: ImagePrediction) -> None:
        iuv, inds = iuv_images(prediction)
        stem = os.path.join(self.directory, self.namer.stem(item))
        atomic_write_image(stem + "_IUV.png", iuv)
        atomic_write_image(stem + "_INDS.png", inds)


def _chart_instance_arrays(prediction: ImagePrediction) -> Dict[str, np.ndarray]:
    arrays = {}
    for k, result in enumerate(prediction.chart_results()):
        uv = result.uv.numpy().astype(np.float32)
        arrays[f"labels_{k}"] = result.labels.numpy().astype(np.uint8)
        arrays[f"u_{k}"], arrays[f"v_{k}"] = uv[0], uv[1]
    return arrays


def _cse_instance_arrays(prediction: ImagePrediction) -> Dict[str, np.ndarray]:
    results = prediction.cse_results()
    arrays = {"mesh_names": np.array([r.mesh_name for r in results], dtype=np.str_)}
    for k, result in enumerate(results):
        vertices = result.vertices.numpy().astype(np.int32)
        arrays[f"vertices_{k}"] = np.where(result.mask.numpy().astype(bool), vertices, -1)
    return arrays


class NpzWriter(_PerImageFilesWriter):
    """Per image `<stem>.npz` (see docs/apply_net.md for the keys)."""

    def write(self, item: InputItem, prediction: ImagePrediction) -> None:
        arrays = {
            "file_name": np.array(item.path),
            "frame_index": np.array(
                -1 if item.frame_index is None else item.frame_index, dtype=np.int64
            ),
            "image_size_hw": np.array(prediction.image_hw, dtype=np.int64),
            "boxes_xyxy": prediction.boxes_xyxy.numpy().astype(np.float32),
            "boxes_xywh_int": prediction.int_boxes_xywh,
            "scores": prediction.scores.numpy().astype(np.float32),
            "classes": prediction.classes.numpy().astype(np.int64),
        }
        if prediction.is_chart:
            arrays.update(_chart_instance_arrays(prediction))
        elif prediction.is_cse and (prediction.cse is not None or prediction.densepose is None):
            arrays.update(_cse_instance_arrays(prediction))
        if prediction.masks is not None:
            arrays["masks"] = prediction.masks.numpy().astype(bool)
        if prediction.keypoints is not None:
            arrays["keypoints"] = prediction.keypoints.numpy().astype(np.float32)
        if prediction.track_ids is not None:
            arrays["track_ids"] = prediction.track_ids.numpy().astype(np.int64)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(
            os.path.join(self.directory, self.namer.stem(item) + ".npz"), buffer.getvalue()
        )


def _mask_rle(mask: torch.Tensor) -> dict:
    """COCO RLE of one image-sized mask, `counts` as str."""
    from pycocotools import mask as mask_util

    rle = mask_util.encode(np.asfortranarray(mask.numpy().astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def quantized_iuv_crop(result) -> np.ndarray:
    """uint8 [h, w, 3]: part I, U·255, V·255 (clamped, truncated) of one chart result."""
    return np.moveaxis(quantize_densepose_chart_result(result).labels_uv_uint8.numpy(), 0, -1)


class JsonWriter:
    """One JSON file: {"images": [...], "detections": [...]}; detections spooled as JSON lines."""

    def __init__(self, path: str):
        self.path = path
        self.images: List[dict] = []
        self._spool_path = temporary_path(path + ".detections.jsonl")
        self._spool = open(self._spool_path, "w")

    def _detections(self, image_id: int, prediction: ImagePrediction) -> List[dict]:
        chart = prediction.chart_results() if prediction.is_chart else None
        detections = []
        for k in range(len(prediction)):
            x0, y0, x1, y1 = (float(c) for c in prediction.boxes_xyxy[k])
            det = {
                "image_id": image_id,
                "class_index": int(prediction.classes[k]),
                "score": float(prediction.scores[k]),
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "box_xywh_int": [int(c) for c in prediction.int_boxes_xywh[k]],
            }
            if chart is not None:
                crop = quantized_iuv_crop(chart[k])
                det["uv_shape"] = [3, int(crop.shape[0]), int(crop.shape[1])]
                det["uv_data"] = encode_png_base64(crop)
            if prediction.masks is not None:
                det["segmentation"] = _mask_rle(prediction.masks[k])
            if prediction.keypoints is not None:
                det["keypoints"] = [round(float(c), 2) for c in prediction.keypoints[k].reshape(-1)]
            if prediction.track_ids is not None:
                det["track_id"] = int(prediction.track_ids[k])
            detections.append(det)
        return detections

    def write(self, item: InputItem, prediction: ImagePrediction) -> None:
        image_id = len(self.images) + 1
        image = {
            "id": image_id,
            "file_name": item.path,
            "height": prediction.image_hw[0],
            "width": prediction.image_hw[1],
        }
        if item.frame_index is not None:
            image["frame_index"] = item.frame_index
        if prediction.track_ids is not None:  # aligned with this image's detections
            image["track_ids"] = [int(t) for t in prediction.track_ids]
        self.images.append(image)
        for det in self._detections(image_id, prediction):
            self._spool.write(json.dumps(det) + "\n")
        self._spool.flush()

    def close(self) -> List[str]:
        if self._spool is None:
            return [self.path]
        self._spool.close()
        self._spool = None
        tmp = temporary_path(self.path)
        try:
            with open(tmp, "w") as out, open(self._spool_path) as lines:
                out.write('{"images": ' + json.dumps(self.images) + ',\n"detections": [\n')
                for n, line in enumerate(lines):
                    out.write((",\n" if n else "") + line.rstrip("\n"))
                out.write("\n]}\n")
            os.replace(tmp, self.path)
        finally:
            for p in (tmp, self._spool_path):
                if os.path.exists(p):
                    os.remove(p)
        return [self.path]
