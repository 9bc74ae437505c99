"""The one way this package writes dataset metadata: changed entries are replaced, others kept.

detectron2's `Metadata` refuses to change an attribute once set; registering a dataset again with
other files, or re-deriving its classes for another config, needs exactly that.
"""

import logging
from typing import Any, Dict

from detectron2.data import MetadataCatalog

__all__ = ["set_dataset_metadata"]

logger = logging.getLogger(__name__)


def set_dataset_metadata(name: str, values: Dict[str, Any]) -> None:
    """Sets `values` on the metadata of dataset `name`, replacing entries whose value differs.

    Entries not named in `values` are kept.
    """
    meta = MetadataCatalog.get(name)
    for key, value in values.items():
        if key in meta.__dict__ and meta.__dict__[key] != value:
            logger.debug(f"Metadata {name}.{key} replaced")
            del meta.__dict__[key]
        if key not in meta.__dict__:
            setattr(meta, key, value)
