"""Known, harmless warnings of libraries we call, silenced in our entry points.

torch logs "is_fx_tracing will return true for both fx.symbolic_trace and torch.export ..." the
first time detectron2 asks whether it is being traced, i.e. on every apply_net / train_net run.
It addresses detectron2's authors, not our users.
"""

import logging

__all__ = ["silence_third_party_noise"]

_FX_LOGGER = "torch.fx._symbolic_trace"
_FX_MESSAGE = "is_fx_tracing will return true"


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
