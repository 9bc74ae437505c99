"""The scorer on what apply_net dump writes: the evaluator's tables on the same predictions."""

import json
import logging
from pathlib import Path

import cv2
import pytest
import torch
from fixture_paths import load_module_file

from densepose_ext.evaluation.__main__ import main
from densepose_ext.evaluation.evaluator import evaluate_detections
from densepose_ext.evaluation.ground_truth import load_contiguous_coco_gt
from densepose_ext.evaluation.records import instances_to_records, record_to_detection
from densepose_ext.evaluation.results_files import ResultsFileError, read_results_file
from densepose_ext.evaluation.scorers import ChartScorer
from densepose_ext.evaluation.surface import load_chart_surface

MIN_IOU = 0.1  # random weights: low overlaps, so a low threshold gives non-zero values


def _apply_net_helpers():
    return load_module_file("tests/apply/apply_net_helpers.py")


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    """A 3-image synthetic set, a tiny random chart model, its dump (.pkl, .json) and the
    evaluator's tables on the same model's predictions."""
    from densepose_ext.apply import main as apply_net
    from densepose_ext.config import load_densepose_config
    from densepose_ext.data.synthetic.generate import generate_synthetic_dataset
    from densepose_ext.engine.predictor import BatchPredictor

    tmp = tmp_path_factory.mktemp("dump_scoring")
    data = generate_synthetic_dataset(str(tmp / "synthetic"), num_images=3, size=128, seed=3)
    helpers = _apply_net_helpers()
    checkpoint = helpers.make_tiny_checkpoint(tmp / "model" / "tiny.pth")
    args = ["dump", str(helpers.TINY_CONFIG), str(checkpoint), data.image_root, "--no-progress"]
    assert apply_net([*args, "--output", str(tmp / "r.pkl"), "--format", "pkl,json"]) == 0

    cfg = load_densepose_config(str(helpers.TINY_CONFIG))
    cfg.MODEL.WEIGHTS, cfg.MODEL.DEVICE = str(checkpoint), "cpu"
    predictor = BatchPredictor(cfg)
    with open(data.train_json) as f:
        images = json.load(f)["images"]
    detections = []
    for image in images:
        bgr = cv2.imread(str(Path(data.image_root) / image["file_name"]))
        (instances,) = predictor([bgr])
        records = instances_to_records(instances, image["id"], bgr.shape[:2])
        detections += [record_to_detection(r) for r in records]
    with open(data.train_json) as f:
        category_ids = sorted(c["id"] for c in json.load(f)["categories"])
    coco_gt = load_contiguous_coco_gt(data.train_json, {c: i for i, c in enumerate(category_ids)})
    names = {c["id"]: c["name"] for c in coco_gt.dataset["categories"]}
    scorer = ChartScorer(load_chart_surface(data.body.surface))
    tables = evaluate_detections(coco_gt, detections, scorer, MIN_IOU, names)
    return data, tmp, tables, detections


def test_dump_files_score_like_the_evaluator(dumped, capsys):
    data, tmp, tables, detections = dumped
    assert len(detections) > 0
    with open(data.train_json) as f:
        images = json.load(f)["images"]
    base = ["--annotations", data.train_json, "--surface", data.body.surface]
    for results in ("r.pkl", "r.json"):
        loaded = read_results_file(str(tmp / results), images)
        assert len(loaded.detections) == len(detections) and not loaded.unmatched
        for ours, theirs in zip(loaded.detections, detections):
            assert ours["image_id"] == theirs["image_id"]
            assert ours["category_id"] == theirs["category_id"] and ours["score"] == theirs["score"]
            assert ours["bbox"] == pytest.approx(theirs["bbox"], abs=1e-4)
            assert (ours["iuv"] == theirs["iuv"]).all()
        scored = main([*base, "--results", str(tmp / results), "--min-iou", str(MIN_IOU)])
        assert scored == tables, results
    assert max(tables["densepose_segm"].values()) > 0, tables


def test_unmatched_images_warn_and_none_matched_fails(dumped, tmp_path, caplog):
    data, tmp, _, _ = dumped
    with open(data.train_json) as f:
        annotations = json.load(f)
    annotations["images"][0]["file_name"] = "elsewhere.jpg"
    partly = tmp_path / "partly.json"
    partly.write_text(json.dumps(annotations))
    with caplog.at_level(logging.WARNING):
        main(
            [
                "--annotations",
                str(partly),
                "--results",
                str(tmp / "r.pkl"),
                "--surface",
                data.body.surface,
            ]
        )
    assert "1 of 3 image(s) in the results match no image" in caplog.text
    for image in annotations["images"]:
        image["file_name"] = "other_" + image["file_name"]
    nothing = tmp_path / "nothing.json"
    nothing.write_text(json.dumps(annotations))
    with pytest.raises(SystemExit, match="none of the 3 image"):
        main(
            [
                "--annotations",
                str(nothing),
                "--results",
                str(tmp / "r.json"),
                "--surface",
                data.body.surface,
            ]
        )


def test_unsupported_files_name_the_accepted_formats(tmp_path):
    cases = {
        "a.txt": b"plain text",
        "b.json": json.dumps({"what": 1}).encode(),
        "c.json": json.dumps([{"score": 1}]).encode(),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ResultsFileError, match=f"{name}.*apply_net.py dump .pkl"):
            read_results_file(str(tmp_path / name), [])
    torch.save({"model": {}}, tmp_path / "d.pth")
    with pytest.raises(ResultsFileError, match="d.pth.*Accepted results files"):
        read_results_file(str(tmp_path / "d.pth"), [])


def test_record_ids_matching_no_annotation_are_reported(tmp_path):
    records = [{"image_id": 7, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1.0}]
    loaded = read_results_file(_save(tmp_path, records), [{"id": 1, "file_name": "x.jpg"}])
    assert loaded.images == ["7"] and loaded.unmatched == ["7"]


def _save(tmp_path, records) -> str:
    from densepose_ext.structures.chart_result import DensePoseChartResultQuantized

    for record in records:
        record["densepose"] = DensePoseChartResultQuantized(torch.zeros(3, 1, 1, dtype=torch.uint8))
    path = tmp_path / "coco_densepose_predictions.pth"
    torch.save(records, path)
    return str(path)


def test_offline_without_surface_is_one_error(dumped, tmp_path, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable (offline test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("FVCORE_CACHE", str(tmp_path / "empty_cache"))
    data, tmp, _, _ = dumped
    with pytest.raises(SystemExit) as error:
        main(["--annotations", data.train_json, "--results", str(tmp / "r.pkl")])
    message = str(error.value)
    assert "--surface" in message and "smpl_approximate:<dir>" in message and "\n" not in message
    for name in ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat", "Pdist_matrix.pkl"):
        assert name in message


def test_two_class_dump_scores_each_class(surface, tmp_path):
    """The dump keeps each box's class: a class-1 detection scores against class-1 ground truth."""
    from evaluation_cases import GT_BOX, chart_detection, gt_annotation, image_entry

    from densepose_ext.apply.dump_writers import PickleWriter
    from densepose_ext.converters.prediction import ImagePrediction
    from densepose_ext.engine.inputs import InputItem
    from densepose_ext.evaluation.ground_truth import coco_from_dict
    from densepose_ext.structures.chart_result import DensePoseChartResultQuantized

    images = [image_entry(1), image_entry(2)]
    writer = PickleWriter(str(tmp_path / "two_classes.pkl"))
    for image, category in zip(images, (0, 1)):
        x, y, w, h = GT_BOX
        quantized = DensePoseChartResultQuantized(torch.from_numpy(chart_detection()["iuv"]))
        prediction = ImagePrediction.from_results(
            (image["height"], image["width"]),
            [[x, y, x + w, y + h]],
            [quantized],
            scores=[0.9],
            classes=[category],
        )
        writer.write(InputItem(image["id"], image["file_name"]), prediction)
    writer.close()
    loaded = read_results_file(str(tmp_path / "two_classes.pkl"), images)
    assert [d["category_id"] for d in loaded.detections] == [0, 1]
    coco = coco_from_dict(
        {
            "images": images,
            "annotations": [
                gt_annotation(ann_id=1, image_id=1),
                gt_annotation(ann_id=2, image_id=2, category_id=1),
            ],
            "categories": [{"id": 0, "name": "person"}, {"id": 1, "name": "dog"}],
        }
    )
    names = {0: "person", 1: "dog"}
    gps = evaluate_detections(coco, loaded.detections, ChartScorer(surface), 0.5, names)
    assert gps["densepose_gps"]["AP-person"] == pytest.approx(100.0)
    assert gps["densepose_gps"]["AP-dog"] == pytest.approx(100.0)
