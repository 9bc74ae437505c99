"""Former home of the output-file helpers, now `densepose_ext.engine.output_files` (re-exported
here while code written against this path moves over)."""

from ..engine.output_files import (  # noqa: F401
    ItemNamer,
    atomic_write_bytes,
    atomic_write_image,
    numbered_path,
    temporary_path,
)
