"""`query_db.py print | show` on a small generated synthetic dataset."""

import runpy
from pathlib import Path

import cv2
import numpy as np
import pytest
from detectron2.data import DatasetCatalog

from densepose_ext.data.synthetic import generate_synthetic_dataset, register_synthetic_dataset
from densepose_ext.query.cli import main

DATASET = "query_db_test_synth"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    data = generate_synthetic_dataset(
        str(tmp_path_factory.mktemp("synth")), num_images=3, size=96, seed=0
    )
    register_synthetic_dataset(DATASET, data.train_json, data.image_root, data.body)
    yield DatasetCatalog.get(DATASET)
    DatasetCatalog.remove(DATASET)


def _one_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_print_selected_entry(dataset, capsys):
    image_id = dataset[1]["image_id"]
    assert main(["print", DATASET, f"image_id:int={image_id}"]) == 0
    out, err = capsys.readouterr()
    assert f"1 entry of '{DATASET}' (3 in all)" in err
    assert out.count("--- entry") == 1 and f"image_id: {image_id}" in out
    assert "annotations:" in out and "dp_I:" in out and "distinct" in out


def test_print_all_with_limit_and_full(dataset, capsys):
    assert main(["print", DATASET, "*", "--max-entries", "2"]) == 0
    assert capsys.readouterr().out.count("--- entry") == 2
    assert main(["print", DATASET, "image_id:int=0-1000", "--full"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- entry") == 3 and "'counts'" in out


def test_show_writes_one_image_per_entry(dataset, tmp_path, capsys):
    out = tmp_path / "vis" / "gt.png"
    names = "bbox,dp_segm,dp_i,dp_u,dp_v,dp_pts,dp_vertex"
    assert main(["show", DATASET, "*", names, "--output", str(out)]) == 0
    written = sorted(p.name for p in out.parent.iterdir())
    assert written == ["gt.0001.png", "gt.0002.png", "gt.0003.png"]
    for name, entry in zip(written, dataset):
        image = cv2.imread(str(out.parent / name))
        assert image.shape == (entry["height"], entry["width"], 3)
        grey = image[:, :, 0] == image[:, :, 1]
        assert not grey.all()  # ground truth drawn in colour on the grey image
    assert "wrote 3 image(s)" in capsys.readouterr().err


def test_show_reports_an_unreadable_image_and_goes_on(dataset, tmp_path, capsys):
    broken = dict(dataset[0], file_name=str(tmp_path / "gone.jpg"))
    DatasetCatalog.register(DATASET + "_broken", lambda: [broken, dataset[1]])
    try:
        rc = main(["show", DATASET + "_broken", "*", "bbox", "--output", str(tmp_path / "o.png")])
    finally:
        DatasetCatalog.remove(DATASET + "_broken")
    assert rc == 0
    assert sorted(p.name for p in tmp_path.glob("o.*")) == ["o.0002.png"]
    err = capsys.readouterr().err
    assert "gone.jpg" in err and "skipped 1" in err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["print", "no_such_dataset", "*"], "unknown dataset 'no_such_dataset'"),
        (["print", DATASET[:-1], "*"], f"did you mean {DATASET}"),
        (["print", DATASET, "image_id:int=x"], "'x' is not a valid int"),
        (["print", DATASET, "image_id:number=3"], "unknown type 'number'"),
        (["print", DATASET, "imageid:int=3"], "no entry has the field 'imageid'"),
        (["print", DATASET, "image_id"], "is not field[:type]=value"),
        (["print", DATASET, "*", "--max-entries", "0"], "--max-entries must be >= 1"),
        (["show", DATASET, "*", "bbox,dp_nope"], "unknown visualization dp_nope"),
        (["show", DATASET, "*", "bbox", "--colormap", "nope"], "unknown colormap 'nope'"),
    ],
)
def test_bad_arguments_give_one_clear_error(dataset, argv, fragment, capsys, tmp_path):
    if argv[0] == "show":
        argv = argv + ["--output", str(tmp_path / "x.png")]
    assert main(argv) == 1
    line = _one_error(capsys)
    assert line.startswith(f"query_db.py {argv[0]}: error:") and fragment in line, line
    assert not list(tmp_path.iterdir())


def test_missing_dataset_files(tmp_path, capsys):
    register_synthetic_dataset(DATASET + "_missing", str(tmp_path / "a" / "x.json"), str(tmp_path))
    try:
        assert main(["print", DATASET + "_missing", "*"]) == 1
    finally:
        DatasetCatalog.remove(DATASET + "_missing")
    assert "x.json" in _one_error(capsys)


def test_top_level_script(capsys):
    namespace = runpy.run_path(str(REPO_ROOT / "query_db.py"), run_name="query_db")
    assert namespace["main"] is main
    with pytest.raises(SystemExit):
        main(["show", "--help"])
    assert "dp_vertex" in capsys.readouterr().out


def test_dataset_without_points_draws_boxes_only(tmp_path, capsys):
    image = np.full((40, 50, 3), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    entry = {"file_name": str(tmp_path / "a.png"), "image_id": 1, "height": 40, "width": 50}
    entry["annotations"] = [{"bbox": [5, 5, 20, 20], "bbox_mode": 1, "category_id": 0}]
    DatasetCatalog.register(DATASET + "_plain", lambda: [entry])
    try:
        args = ["show", DATASET + "_plain", "*", "bbox,dp_segm,dp_i,kp"]
        assert main(args + ["--output", str(tmp_path / "p.png")]) == 0
    finally:
        DatasetCatalog.remove(DATASET + "_plain")
    drawn = cv2.imread(str(tmp_path / "p.0001.png"))
    assert drawn[5, 5:26].any(axis=1).all() and (drawn[15, 15] == 128).all()
    assert "no keypoint annotations" in capsys.readouterr().err
