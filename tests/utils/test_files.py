"""Output-path checks: a path that cannot be written is found before any work, and named."""

import os

import pytest

from densepose_ext.utils.files import OutputPathError, check_output_dir, check_output_path


def test_writable_paths_pass_and_leave_nothing(tmp_path):
    check_output_path(str(tmp_path / "out.png"))
    check_output_path(str(tmp_path / "new" / "deeper" / "out.png"))
    check_output_dir(str(tmp_path / "results"))
    assert os.listdir(tmp_path) == []  # the probes are removed, no folder is created


def test_path_under_a_file(tmp_path):
    (tmp_path / "some_file").write_text("x")
    with pytest.raises(OutputPathError, match=r"--output '.*some_file/t.png'.*is a file"):
        check_output_path(str(tmp_path / "some_file" / "t.png"), "--output")
    with pytest.raises(OutputPathError, match="a file of that name exists"):
        check_output_dir(str(tmp_path / "some_file"))
    with pytest.raises(OutputPathError, match="is a directory"):
        check_output_path(str(tmp_path))


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_path_under_proc_is_refused_even_for_root():
    with pytest.raises(
        OutputPathError, match=r"'/proc/nope/x.png'.*cannot create entries in '/proc'"
    ):
        check_output_path("/proc/nope/x.png")
