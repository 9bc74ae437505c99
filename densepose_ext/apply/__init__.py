"""`apply_net`: inference on images / videos with visualization (`show`) or result files
(`dump`)."""

from ..engine.inputs import InputError, InputItem, list_inputs, read_inputs
from ..engine.predictor import BatchPredictor
from ..engine.show_writer import ShowWriter
from .cli import build_parser, main, setup_config
from .dump_writers import (
    DUMP_FORMATS,
    IuvPngWriter,
    JsonWriter,
    NpzWriter,
    PickleWriter,
    dump_record,
)
from .runner import RunStats, run_apply

__all__ = [
    "DUMP_FORMATS",
    "BatchPredictor",
    "InputError",
    "InputItem",
    "IuvPngWriter",
    "JsonWriter",
    "NpzWriter",
    "PickleWriter",
    "RunStats",
    "ShowWriter",
    "build_parser",
    "dump_record",
    "list_inputs",
    "main",
    "read_inputs",
    "run_apply",
    "setup_config",
]
