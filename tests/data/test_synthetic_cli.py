"""The generator's command line: a bad option is one line and exit status 1, not a traceback."""

from densepose_ext.data.synthetic.__main__ import main


def test_bad_points_per_person_is_one_line(tmp_path, capsys):
    argv = ["--out", str(tmp_path / "s"), "--num-images", "1", "--points-per-person", "5", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m densepose_ext.data.synthetic: error: points_per_person=")
    assert err.count("\n") == 1 and not (tmp_path / "s" / "train.json").exists()
