"""`DumpRecord`: one image of an `apply_net dump` pickle, the one definition of its keys.

The pickle is `torch.save` of a list of plain dicts (the original tool's format, readable with
`torch.load` alone); this class is how the writer builds such a dict and how every reader
(the scorer, the texture tools) reads one, so a key cannot get lost between them.
"""

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import torch

__all__ = [
    "BOXES_KEY",
    "CLASSES_KEY",
    "DENSEPOSE_KEY",
    "FILE_NAME_KEY",
    "FRAME_INDEX_KEY",
    "KEYPOINTS_KEY",
    "MASKS_KEY",
    "SCORES_KEY",
    "TRACK_IDS_KEY",
    "DumpRecord",
    "is_dump_record",
]

FILE_NAME_KEY = "file_name"
FRAME_INDEX_KEY = "frame_index"
SCORES_KEY = "scores"
BOXES_KEY = "pred_boxes_XYXY"
CLASSES_KEY = "pred_classes"
DENSEPOSE_KEY = "pred_densepose"
MASKS_KEY = "pred_masks"
KEYPOINTS_KEY = "pred_keypoints"
TRACK_IDS_KEY = "track_ids"


def is_dump_record(record: Any) -> bool:
    """True for a dict with the keys every dump record has (input name and boxes)."""
    return isinstance(record, Mapping) and FILE_NAME_KEY in record and BOXES_KEY in record


@dataclass
class DumpRecord:
    """Detections of one image (or video frame) as stored in a dump.

    boxes_xyxy float [N, 4] absolute pixels; scores float [N]; classes int64 [N] contiguous class
    indices; densepose: chart models a list of N per-box chart results, CSE models the image's
    `DensePoseEmbeddingPredictorOutput` (or per-box vertex results), None without DensePose
    output; frame_index 0-based for video frames, None for images; masks bool [N, H, W] and
    keypoints float [N, K, 3] (x, y in pixels, score) for models with those heads; track_ids
    int64 [N] per-video person identities (`apply_net --temporal`), None otherwise.
    """

    file_name: str
    boxes_xyxy: torch.Tensor
    scores: torch.Tensor
    classes: torch.Tensor
    densepose: Any = None
    frame_index: Optional[int] = None
    masks: Optional[torch.Tensor] = None
    keypoints: Optional[torch.Tensor] = None
    track_ids: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return len(self.boxes_xyxy)

    def to_dict(self) -> Dict[str, Any]:
        """The pickled form; optional keys appear only when set."""
        record: Dict[str, Any] = {FILE_NAME_KEY: self.file_name}
        if self.frame_index is not None:
            record[FRAME_INDEX_KEY] = self.frame_index
        record[SCORES_KEY] = self.scores
        record[BOXES_KEY] = self.boxes_xyxy
        record[CLASSES_KEY] = self.classes
        if self.densepose is not None:
            record[DENSEPOSE_KEY] = self.densepose
        if self.masks is not None:
            record[MASKS_KEY] = self.masks
        if self.keypoints is not None:
            record[KEYPOINTS_KEY] = self.keypoints
        if self.track_ids is not None:
            record[TRACK_IDS_KEY] = self.track_ids
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> "DumpRecord":
        """Reads a pickled record; dumps written before `pred_classes` existed read as class 0,
        dumps without `scores` as score 1. Raises KeyError / ValueError on a malformed record."""
        boxes = torch.as_tensor(record[BOXES_KEY], dtype=torch.float32).reshape(-1, 4)
        n = len(boxes)
        scores = record.get(SCORES_KEY)
        scores = (
            torch.ones(n)
            if scores is None
            else torch.as_tensor(scores, dtype=torch.float32).reshape(-1)
        )
        classes = record.get(CLASSES_KEY)
        classes = (
            torch.zeros(n, dtype=torch.int64)
            if classes is None
            else torch.as_tensor(classes).reshape(-1).to(torch.int64)
        )
        if len(scores) != n or len(classes) != n:
            raise ValueError(
                f"record {record[FILE_NAME_KEY]!r}: {n} boxes, {len(scores)} scores, "
                f"{len(classes)} classes"
            )
        frame = record.get(FRAME_INDEX_KEY)
        track_ids = record.get(TRACK_IDS_KEY)
        if track_ids is not None:
            track_ids = torch.as_tensor(track_ids).reshape(-1).to(torch.int64)
            if len(track_ids) != n:
                raise ValueError(
                    f"record {record[FILE_NAME_KEY]!r}: {n} boxes, {len(track_ids)} track ids"
                )
        return cls(
            file_name=str(record[FILE_NAME_KEY]),
            boxes_xyxy=boxes,
            scores=scores,
            classes=classes,
            densepose=record.get(DENSEPOSE_KEY),
            frame_index=None if frame is None else int(frame),
            masks=record.get(MASKS_KEY),
            keypoints=record.get(KEYPOINTS_KEY),
            track_ids=track_ids,
        )
