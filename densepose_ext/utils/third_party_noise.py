"""Known, harmless warnings of libraries we call, silenced narrowly (by message) where we call them.

- torch logs "is_fx_tracing will return true for both fx.symbolic_trace and torch.export ..." the
  first time detectron2 asks whether it is being traced, i.e. on every model run.
- torch warns "torch.meshgrid: in an upcoming release, it will be required to pass the indexing
  argument" from detectron2's anchor generator.
- torch >= 2.9 deprecates `torch.jit.script` / `trace`: fvcore scripts two functions when
  detectron2 first imports it, detectron2 scripts helpers while it is traced, and a TorchScript
  export is what the user asked for.

All three address detectron2's / fvcore's authors (or torch's roadmap), not our users.
"""

import contextlib
import logging
import warnings
from typing import Iterator

__all__ = ["silence_third_party_noise", "torchscript_deprecation_silenced"]

_FX_LOGGER = "torch.fx._symbolic_trace"
_FX_MESSAGE = "is_fx_tracing will return true"
_MESHGRID_MESSAGE = r"torch\.meshgrid: in an upcoming release"
_TORCHSCRIPT_MESSAGE = r"`torch\.jit\.\w+` is deprecated"


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def silence_third_party_noise() -> None:
    """Installs the filters once (calling again is harmless); other messages still pass."""
    logger = logging.getLogger(_FX_LOGGER)
    if not any(isinstance(f, _DropMessage) for f in logger.filters):
        logger.addFilter(_DropMessage(_FX_MESSAGE))
    warnings.filterwarnings("ignore", message=_MESHGRID_MESSAGE, category=UserWarning)


@contextlib.contextmanager
def torchscript_deprecation_silenced() -> Iterator[None]:
    """Within the block, torch's deprecation warnings of `torch.jit.*` are not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_TORCHSCRIPT_MESSAGE, category=FutureWarning)
        yield
