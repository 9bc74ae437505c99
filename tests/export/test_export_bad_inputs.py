"""`python -m densepose_ext.export` on bad inputs: one line, exit status 2, nothing written."""

from pathlib import Path

import pytest

from densepose_ext.export.__main__ import main

TINY_CONFIG = Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"
KINDS = [
    ["--format", "torchscript"],
    ["--format", "onnx"],
    ["--interface", "densepose-torchscript"],
    ["--interface", "controlnet"],
]


def one_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("python -m densepose_ext.export: error: "), lines
    return lines[0]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k[1])
def test_unwritable_output_is_refused_before_the_export(tmp_path, capsys, kind):
    (tmp_path / "some_file").write_text("")
    weights = str(tmp_path / "never_read.pth")  # the output is checked before anything is read
    for output, problem in (
        ("/proc/nope/a.pt", "cannot create entries in '/proc'"),
        (str(tmp_path / "some_file" / "a.pt"), "some_file' is a file, not a folder"),
    ):
        assert main([str(TINY_CONFIG), weights, *kind, "--output", output]) == 2
        line = one_error(capsys)
        assert f"--output '{output}'" in line and problem in line, line


def test_text_checkpoint_is_named_and_an_older_output_is_kept(tmp_path, capsys):
    text = tmp_path / "model.pth"
    text.write_text("MODEL:\n  WEIGHTS: x\n")
    output = tmp_path / "out" / "a.pt"
    output.parent.mkdir()
    output.write_bytes(b"the previous export")
    assert main([str(TINY_CONFIG), str(text), "--output", str(output)]) == 2
    line = one_error(capsys)
    assert f"'{text}': not a checkpoint file" in line and "weights_only" not in line, line
    assert output.read_bytes() == b"the previous export"
    assert [p.name for p in output.parent.iterdir()] == ["a.pt"]  # no temporary file left
