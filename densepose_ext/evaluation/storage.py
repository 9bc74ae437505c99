"""Per-process storage of raw per-detection tensors during evaluation (`STORAGE` ram / file).

Records are dicts of CPU tensors; `put` returns a record id (0, 1, ... per process). The file
storage appends records to `<output_dir>/DensePoseEvaluatorStorage.<rank>.bin`, each as an 8-byte
little-endian length followed by a `torch.save` blob, so any process can read any rank's file.
"""

import io
import os
import struct
from typing import Dict, List, Optional

import torch

__all__ = [
    "TensorStorage",
    "RamTensorStorage",
    "FileTensorStorage",
    "storage_file_path",
    "build_tensor_storage",
    "STORAGE_TYPES_BY_EVAL_TYPE",
]

# raw fields kept per evaluation type; "iou" (the config default) is a chart model too
STORAGE_TYPES_BY_EVAL_TYPE = {
    "iuv": ("coarse_segm", "fine_segm", "u", "v"),
    "iou": ("coarse_segm", "fine_segm", "u", "v"),
    "cse": ("coarse_segm", "embedding"),
}
_HEADER = struct.Struct("<Q")


def _to_bytes(record: Dict[str, torch.Tensor]) -> bytes:
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in record.items()}, buffer)
    return buffer.getvalue()


def _from_bytes(blob: bytes) -> Dict[str, torch.Tensor]:
    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


class TensorStorage:
    """Interface: `put(record) -> id`, `get(id) -> record`, `__len__`."""

    def put(self, record: Dict[str, torch.Tensor]) -> int:
        raise NotImplementedError

    def get(self, record_id: int) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class RamTensorStorage(TensorStorage):
    """Records serialised in memory; `blobs` can be gathered to another process and re-wrapped."""

    def __init__(self, blobs: Optional[List[bytes]] = None):
        self.blobs: List[bytes] = list(blobs or [])

    def put(self, record):
        self.blobs.append(_to_bytes(record))
        return len(self.blobs) - 1

    def get(self, record_id):
        return _from_bytes(self.blobs[record_id])

    def __len__(self):
        return len(self.blobs)


def storage_file_path(output_dir: str, rank: int) -> str:
    return os.path.join(output_dir, f"DensePoseEvaluatorStorage.{rank}.bin")


class FileTensorStorage(TensorStorage):
    """Append-only record file; opened for writing (`mode="w"`, truncates) or reading (`"r"`)."""

    def __init__(self, path: str, mode: str = "w"):
        if mode not in ("w", "r"):
            raise ValueError(f"FileTensorStorage mode must be 'w' or 'r', got {mode!r}")
        self.path = path
        self.mode = mode
        self._offsets: List[int] = []
        if mode == "w":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            open(path, "wb").close()
        else:
            self._index()

    def _index(self) -> None:
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            offset = 0
            while offset < size:
                f.seek(offset)
                (length,) = _HEADER.unpack(f.read(_HEADER.size))
                self._offsets.append(offset)
                offset += _HEADER.size + length

    def put(self, record):
        if self.mode != "w":
            raise RuntimeError(f"storage {self.path} is opened read-only")
        blob = _to_bytes(record)
        with open(self.path, "ab") as f:
            self._offsets.append(f.tell())
            f.write(_HEADER.pack(len(blob)))
            f.write(blob)
        return len(self._offsets) - 1

    def get(self, record_id):
        with open(self.path, "rb") as f:
            f.seek(self._offsets[record_id])
            (length,) = _HEADER.unpack(f.read(_HEADER.size))
            return _from_bytes(f.read(length))

    def __len__(self):
        return len(self._offsets)


def build_tensor_storage(storage: str, eval_type: str, output_dir: Optional[str], rank: int):
    """Storage for `DENSEPOSE_EVALUATION.STORAGE` ("none" -> None); validates TYPE (iuv/iou/cse)."""
    storage = storage.lower()
    if storage == "none":
        return None
    if eval_type.lower() not in STORAGE_TYPES_BY_EVAL_TYPE:
        raise ValueError(
            f"DENSEPOSE_EVALUATION.TYPE {eval_type!r} unknown; "
            f"expected one of {list(STORAGE_TYPES_BY_EVAL_TYPE)}"
        )
    if storage == "ram":
        return RamTensorStorage()
    if storage == "file":
        if not output_dir:
            raise ValueError("DENSEPOSE_EVALUATION.STORAGE 'file' needs an output directory")
        return FileTensorStorage(storage_file_path(output_dir, rank), mode="w")
    raise ValueError(
        f"DENSEPOSE_EVALUATION.STORAGE {storage!r} unknown; expected none, ram or file"
    )
