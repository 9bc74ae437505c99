"""apply_net --precision int8: runs the quantized model (calibrated on --calibration, cached),
writes complete records; a calibration folder without a readable image is one clear error.
(The agreement with float32 is tested on given boxes in tests/modeling: on random weights the
int8 RPN does not keep exactly the same detections.)"""

from pathlib import Path

import torch
from apply_net_helpers import TINY_CONFIG, make_tiny_checkpoint, write_test_images

from densepose_ext.apply import main

IMAGES = {"a.png": (120, 160), "b.jpg": (96, 128), "c.png": (140, 100)}


def dump(checkpoint, inputs, output, *extra) -> list:
    args = ["dump", "--no-progress", str(TINY_CONFIG), checkpoint, str(inputs)]
    assert main(args + ["--output", str(output), *extra]) == 0
    return torch.load(output, weights_only=False)


def test_int8_dump_runs_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("DENSEPOSE_EXT_CACHE", str(tmp_path / "cache"))
    checkpoint = str(make_tiny_checkpoint(tmp_path / "model.pth"))
    images = write_test_images(tmp_path / "images", IMAGES)
    int8_args = ["--precision", "int8", "--calibration", str(images)]
    int8 = dump(checkpoint, images, tmp_path / "int8.pkl", *int8_args)
    cached = list(Path(tmp_path / "cache" / "int8").glob("*.pt"))
    assert len(cached) == 1
    assert [Path(r["file_name"]).name for r in int8] == list(IMAGES)
    for record in int8:
        assert len(record["pred_boxes_XYXY"]) == len(record["pred_densepose"]) > 0
        for result in record["pred_densepose"]:
            assert result.labels.shape == result.uv.shape[1:]
            assert int(result.labels.max()) <= 24 and result.uv.shape[0] == 2
    again = dump(checkpoint, images, tmp_path / "again.pkl", *int8_args)  # from the cache
    assert list(Path(tmp_path / "cache" / "int8").glob("*.pt")) == cached
    for a, b in zip(int8, again):
        assert torch.equal(a["pred_boxes_XYXY"], b["pred_boxes_XYXY"])


def test_calibration_folder_without_images_is_one_error(tmp_path, capsys):
    checkpoint = str(make_tiny_checkpoint(tmp_path / "model.pth"))
    images = write_test_images(tmp_path / "images", {"a.png": (96, 128)})
    empty = tmp_path / "calibration"
    empty.mkdir()
    (empty / "broken.png").write_bytes(b"\x89PNG truncated")
    args = ["dump", str(TINY_CONFIG), checkpoint, str(images), "--output", str(tmp_path / "x.pkl")]
    assert main(args + ["--precision", "int8", "--calibration", str(empty)]) == 1
    err = capsys.readouterr().err
    assert f"calibration folder {str(empty)!r} has no readable image" in err
    assert not (tmp_path / "x.pkl").exists()


def test_int8_applies_to_the_torch_backend_only(tmp_path, capsys):
    images = write_test_images(tmp_path / "images", {"a.png": (96, 128)})
    weights = tmp_path / "unused.pth"
    weights.write_bytes(b"not read: the option is refused first")
    args = ["dump", str(TINY_CONFIG), str(weights), str(images), "--backend", "torchscript"]
    assert main(args + ["--precision", "int8"]) == 1
    assert "--precision int8 applies to --backend torch" in capsys.readouterr().err
