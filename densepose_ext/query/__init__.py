"""`query_db.py`: select dataset entries, print them, draw their ground truth (docs/query_db.md)."""

from .entry_format import format_entry, summarize_value
from .gt_visualizers import GT_VISUALIZERS, GroundTruthVisualizer, build_gt_visualizers
from .selector import Condition, EntrySelector, SelectorError, parse_selector

__all__ = [
    "Condition",
    "EntrySelector",
    "GT_VISUALIZERS",
    "GroundTruthVisualizer",
    "SelectorError",
    "build_gt_visualizers",
    "format_entry",
    "parse_selector",
    "summarize_value",
]
