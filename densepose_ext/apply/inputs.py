"""Former home of the inputs of the tools, now `densepose_ext.engine.inputs` (re-exported here,
while code written against this path moves
over)."""

from ..engine.inputs import (  # noqa: F401
    DEFAULT_FPS,
    VIDEO_EXTENSIONS,
    InputError,
    InputItem,
    count_frames,
    is_video,
    list_inputs,
    read_image_item,
    read_inputs,
)
