"""`apply_net`: inference on images / videos with visualization (`show`) or result files
(`dump`)."""

from ..engine.predictor import BatchPredictor
from .cli import build_parser, main, setup_config
from .dump_writers import (
    DUMP_FORMATS,
    IuvPngWriter,
    JsonWriter,
    NpzWriter,
    PickleWriter,
    dump_record,
)
from .inputs import InputError, InputItem, list_inputs, read_inputs
from .runner import RunStats, run_apply
from .show_writer import ShowWriter

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
