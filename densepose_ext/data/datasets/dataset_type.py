"""Kinds of datasets that are not lists of annotated images, and their registration."""

from enum import Enum
from typing import Any, Dict

from detectron2.data import DatasetCatalog

from ..metadata import set_dataset_metadata

__all__ = ["DatasetType", "register_unlabelled_dataset"]


class DatasetType(Enum):
    """`VIDEO_LIST`: a text file of video paths (unlabelled data for bootstrapping)."""

    VIDEO_LIST = "video_list"


def register_unlabelled_dataset(name: str, metadata: Dict[str, Any]) -> None:
    """Registers a dataset without annotations: its catalog entry gives None; `metadata` holds
    its `dataset_type` and where its images come from."""
    if name not in DatasetCatalog.list():
        DatasetCatalog.register(name, lambda: None)
    set_dataset_metadata(name, metadata)
