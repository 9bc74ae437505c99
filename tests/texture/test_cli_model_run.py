"""The texture tools on a model run (the apply_net tool's predictor, a tiny random chart model)."""

import cv2
import pytest
from fixture_paths import load_module_file

from densepose_ext.texture.cli import main


def _apply_net_helpers():
    return load_module_file("tests/apply/apply_net_helpers.py")


@pytest.mark.slow
def test_extract_and_apply_with_a_model(tmp_path, capsys):
    helpers = _apply_net_helpers()
    checkpoint = helpers.make_tiny_checkpoint(tmp_path / "model" / "tiny.pth")
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), helpers.draw_test_image(96, 128, seed=0))
    model = ["--config", str(helpers.TINY_CONFIG), "--model", str(checkpoint), "--device", "cpu"]
    out = tmp_path / "atlas.png"
    argv = ["extract", str(image), "--output", str(out), "--tile", "16", "--no-progress"]
    assert main(argv + model) == 0, capsys.readouterr().err
    extracted = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert extracted.shape == (96, 64, 4) and (extracted[..., 3] > 0).any()
    argv = ["apply", str(image), "--texture", str(out), "--output", str(tmp_path / "o.png")]
    assert main(argv + ["--no-progress"] + model) == 0
    assert cv2.imread(str(tmp_path / "o.0001.png")).shape == (96, 128, 3)
    cse = ["--config", str(helpers.TINY_CSE_CONFIG), "--model", str(checkpoint)]
    assert main(["extract", str(image), "--no-progress", "--device", "cpu"] + cse) == 1
    assert "CSE" in capsys.readouterr().err
