"""Where the texture tools get DensePose results for an input image or video frame.

- `DumpSource`: an `apply_net dump` pickle; records are matched by input path (absolute, else
  file name) and video frame index.
- `IuvDirSource`: a folder of `apply_net dump --format iuv_png` files, named as apply_net names
  them (`ItemNamer`: `<stem>_IUV.png`, `<video stem>_<frame:06d>_IUV.png`).
- `ModelSource`: runs a chart model (the apply_net tool's predictor) on each image.
"""

import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..converters.prediction import ImagePrediction
from ..engine.inputs import InputItem
from ..structures.dump_record import DumpRecord
from ..utils.files import ExternalFileError
from .people import PersonChart, people_from_prediction, read_iuv_png

__all__ = ["DumpSource", "IuvDirSource", "ModelSource"]


class DumpSource:
    """People per input from a dump pickle (a list of per-image dicts, see docs/apply_net.md)."""

    def __init__(self, path: str):
        self.path = path
        try:
            records = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # missing, truncated, not a torch pickle
            raise ExternalFileError(f"cannot read dump {path!r}: {e}") from e
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ExternalFileError(f"dump {path!r} is not a list of per-image records")
        try:
            self.records = [DumpRecord.from_dict(r) for r in records]
        except (KeyError, TypeError, ValueError) as e:
            raise ExternalFileError(f"dump {path!r} holds a malformed record ({e})") from e
        self._by_path: Dict[Tuple[str, Optional[int]], DumpRecord] = {}
        self._by_name: Dict[Tuple[str, Optional[int]], DumpRecord] = {}
        for record in self.records:
            key = (record.file_name, record.frame_index)
            self._by_path.setdefault((os.path.abspath(key[0]), key[1]), record)
            self._by_name.setdefault((os.path.basename(key[0]), key[1]), record)

    def input_paths(self) -> List[str]:
        """The records' inputs in order (each once)."""
        return list(dict.fromkeys(r.file_name for r in self.records))

    def people(self, item: InputItem, stem: str) -> List[PersonChart]:
        key = (os.path.abspath(item.path), item.frame_index)
        record = self._by_path.get(key)
        if record is None:
            record = self._by_name.get((os.path.basename(item.path), item.frame_index))
        if record is None:
            raise ExternalFileError(f"dump {self.path!r} has no record for {item.name}")
        results = record.densepose
        if results is not None and not isinstance(results, list):
            raise ValueError(
                f"dump {self.path!r}: {item.name} holds CSE outputs; texture tools need "
                "a chart (IUV) model"
            )
        prediction = ImagePrediction.from_results(
            item.image.shape[:2],
            record.boxes_xyxy,
            results,
            scores=record.scores,
            classes=record.classes,
        )
        return people_from_prediction(prediction)


class IuvDirSource:
    """People per input from `<dir>/<stem>_IUV.png` and `<stem>_INDS.png`."""

    def __init__(self, directory: str):
        if not os.path.isdir(directory):
            raise ExternalFileError(f"IUV folder {directory!r} not found")
        self.directory = directory

    def people(self, item: InputItem, stem: str) -> List[PersonChart]:
        iuv_path = os.path.join(self.directory, stem + "_IUV.png")
        people = read_iuv_png(iuv_path)
        height, width = item.image.shape[:2]
        for person in people:
            x, y, w, h = person.box_xywh
            if x + w > width or y + h > height:
                raise ExternalFileError(
                    f"IUV image {iuv_path!r} does not fit {item.name} ({height}x{width})"
                )
        return people


class ModelSource:
    """People per input from a chart model (config + checkpoint, see apply_net)."""

    def __init__(self, cfg):
        from ..engine.predictor import BatchPredictor  # loads detectron2's model code

        self.predictor = BatchPredictor(cfg)

    def people(self, item: InputItem, stem: str) -> List[PersonChart]:
        (instances,) = self.predictor([np.ascontiguousarray(item.image)])
        return people_from_prediction(ImagePrediction.from_instances(instances))
