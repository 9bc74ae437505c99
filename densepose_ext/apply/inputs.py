"""Former home of the inputs of the tools, now `densepose_ext.engine.inputs` (re-exported here,
with the private `_read_image` some callers use, while code written against this path moves
over)."""

from ..engine.inputs import (  # noqa: F401
    DEFAULT_FPS,
    VIDEO_EXTENSIONS,
    InputError,
    InputItem,
    _read_image,
    count_frames,
    is_video,
    list_inputs,
    read_inputs,
)
