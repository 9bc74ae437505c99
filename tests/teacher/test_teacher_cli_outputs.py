"""`python -m densepose_ext.teacher`: an output that cannot be written is one line, before any
data is read (the data arguments below do not exist)."""

import pytest

from densepose_ext.teacher.cli import main


@pytest.mark.parametrize("command", ["train", "inpaint"])
def test_unwritable_output_stops_before_the_work(tmp_path, command):
    (tmp_path / "some_file").write_text("")
    source = ["--json", str(tmp_path / "missing.json"), "--image-root", str(tmp_path / "none")]
    extra = ["--weights", "missing.pth", "--grid-step", "4"] if command == "inpaint" else []
    for output, problem in (
        ("/proc/nope/out", "cannot create entries in '/proc'"),
        (str(tmp_path / "some_file" / "out"), "some_file' is a file, not a folder"),
    ):
        with pytest.raises(SystemExit) as error:
            main([command, *source, *extra, "--output", output])
        message = str(error.value)
        assert message.startswith(f"python -m densepose_ext.teacher {command}: error: "), message
        assert f"--output '{output}'" in message and problem in message, message
