"""Output files get the mode a plain open() gives (0666 & ~umask), not mkstemp's 0600."""

import os
import stat

import numpy as np
import pytest

from densepose_ext.engine.output_files import atomic_write_bytes, atomic_write_image, temporary_path


@pytest.fixture
def umask():
    def set_umask(mask):
        os.umask(mask)

    saved = os.umask(0o022)
    yield set_umask
    os.umask(saved)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_follow_the_umask(tmp_path, umask):
    umask(0o022)
    atomic_write_bytes(str(tmp_path / "a.bin"), b"x")
    atomic_write_image(str(tmp_path / "b.png"), np.zeros((4, 4, 3), np.uint8))
    with open(tmp_path / "plain.txt", "w") as f:
        f.write("x")
    assert mode(tmp_path / "a.bin") == mode(tmp_path / "b.png") == 0o644
    assert mode(tmp_path / "a.bin") == mode(tmp_path / "plain.txt")
    umask(0o077)
    tmp = temporary_path(str(tmp_path / "c.pkl"))
    assert mode(tmp) == 0o600 and tmp.endswith(".pkl")
