"""`python -m densepose_ext.texture` on bad inputs: one line naming the file, exit 1, nothing
written (outputs are checked before any image is read or model loaded)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from densepose_ext.texture.cli import main

TINY_CONFIG = Path(__file__).resolve().parents[1] / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


def one_error(capsys, command: str) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"texture {command}: error: "), lines
    return lines[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "some_file").write_text("")
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.full((32, 32, 3), 100, np.uint8))
    atlas = tmp_path / "atlas.png"
    cv2.imwrite(str(atlas), np.full((6 * 8, 4 * 8, 4), 200, np.uint8))
    return tmp_path, str(image), str(atlas)


def test_unwritable_outputs_are_refused_first(files, capsys):
    tmp_path, image, atlas = files
    bad = str(tmp_path / "some_file" / "t.png")
    model = ["--config", str(TINY_CONFIG), "--model", str(tmp_path / "never_read.pth")]
    assert main(["extract", image, *model, "--output", bad, "--no-progress"]) == 1
    assert "some_file' is a file, not a folder" in one_error(capsys, "extract")
    assert main(["extract", image, *model, "--smpl", "/proc/nope/s.png", "--no-progress"]) == 1
    assert "--smpl '/proc/nope/s.png'" in one_error(capsys, "extract")
    apply = ["apply", image, "--texture", atlas, *model, "--no-progress"]
    assert main([*apply, "--output", bad]) == 1
    assert "--output" in one_error(capsys, "apply")
    assert main(["convert", atlas, "/proc/nope/s.png"]) == 1
    assert "cannot create entries in '/proc'" in one_error(capsys, "convert")
    assert not Path("texture.png").exists() and not Path("texture_coverage.png").exists()


def test_text_checkpoint_is_named(files, capsys):
    tmp_path, image, _ = files
    text = tmp_path / "model.pth"
    text.write_text("hello\n")
    args = ["extract", image, "--config", str(TINY_CONFIG), "--model", str(text)]
    assert main([*args, "--output", str(tmp_path / "t.png"), "--no-progress"]) == 1
    line = one_error(capsys, "extract")
    assert f"'{text}': not a checkpoint file" in line and "weights_only" not in line, line
    assert not (tmp_path / "t.png").exists()


def test_convert_refuses_a_format_without_alpha(files, capsys):
    tmp_path, _, atlas = files
    for name in ("out.jpg", "out.JPEG", "out.bmp"):
        assert main(["convert", atlas, str(tmp_path / name)]) == 1
        line = one_error(capsys, "convert")
        assert name in line and "no alpha channel" in line and ".png" in line, line
        assert not (tmp_path / name).exists()
    assert main(["extract", "--dump", "r.pkl", "--output", str(tmp_path / "t.jpg")]) == 1
    assert "no alpha channel" in one_error(capsys, "extract")
    assert main(["convert", atlas, str(tmp_path / "out.png")]) == 0
    assert cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED).shape[2] == 4
