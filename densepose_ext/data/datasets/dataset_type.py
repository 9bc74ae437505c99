"""Kinds of datasets that are not lists of annotated images."""

from enum import Enum

__all__ = ["DatasetType"]


class DatasetType(Enum):
    """`VIDEO_LIST`: a text file of video paths (unlabelled data for bootstrapping)."""

    VIDEO_LIST = "video_list"
