"""The shared command-line run: one error type, one line per error, logging restored."""

import logging

import pytest

from densepose_ext.utils.cli import UsageError, one_line, run_cli


def test_expected_errors_are_one_line_and_status_one(capsys):
    def bad() -> int:
        raise UsageError("--size must be\n   >= 2")

    assert run_cli("tool sub", bad) == 1
    assert capsys.readouterr().err == "tool sub: error: --size must be >= 2\n"

    def missing() -> int:
        raise KeyError("no dataset 'x'")

    assert run_cli("tool", missing, errors=(KeyError,)) == 1
    assert capsys.readouterr().err == "tool: error: no dataset 'x'\n"


def test_unexpected_errors_propagate_and_logging_is_restored():
    named = logging.getLogger("densepose_ext")
    before = (named.handlers[:], named.level, named.propagate)

    def crash() -> int:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_cli("tool", crash, errors=(KeyError,))
    assert (named.handlers, named.level, named.propagate) == before


def test_body_status_and_logs_on_stderr(capsys):
    def body() -> int:
        logging.getLogger("densepose_ext.somewhere").info("working")
        return 3

    assert run_cli("tool", body, verbosity=1) == 3
    assert "INFO densepose_ext.somewhere: working" in capsys.readouterr().err


def test_every_command_line_uses_the_one_error_type():
    from densepose_ext.apply import cli as apply_cli
    from densepose_ext.query import cli as query_cli
    from densepose_ext.texture import cli as texture_cli

    assert apply_cli.UsageError is query_cli.UsageError is texture_cli.UsageError is UsageError
    assert one_line(KeyError("a  b")) == "a b"
