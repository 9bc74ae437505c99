"""`query_db.py show` with an output path that cannot be written: one line, before any drawing."""

from densepose_ext.query.cli import main


def test_unwritable_output_is_one_line(tmp_path, capsys):
    (tmp_path / "some_file").write_text("")
    for output, problem in (
        ("/proc/nope/x.png", "cannot create entries in '/proc'"),
        (str(tmp_path / "some_file" / "x.png"), "some_file' is a file, not a folder"),
    ):
        assert main(["show", "densepose_synth_val", "*", "dp_segm", "--output", output]) == 1
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("query_db.py show: error: "), lines
        assert "cannot write --output" in lines[0] and problem in lines[0], lines
