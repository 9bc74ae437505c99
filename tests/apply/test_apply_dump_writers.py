"""Dump writers without a model: chunked pickle spooling, JSON assembly, item names."""

import json

import torch

from densepose_ext.apply.dump_writers import JsonWriter, PickleWriter
from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.engine.inputs import InputItem
from densepose_ext.engine.output_files import ItemNamer, numbered_path
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences


def _prediction(k: int) -> ImagePrediction:
    result = DensePoseChartResultWithConfidences(
        labels=torch.full((3, 2), k % 25, dtype=torch.int64), uv=torch.full((2, 3, 2), 0.25 * k)
    )
    return ImagePrediction.from_results(
        (10, 10), [[1.0, 2.0, 3.5, 5.9]], [result], scores=[0.5 + k / 100]
    )


def test_pickle_writer_spools_in_chunks(tmp_path):
    writer = PickleWriter(str(tmp_path / "r.pkl"), chunk_size=2)
    for k in range(5):
        writer.write(InputItem(k + 1, f"img{k}.png"), _prediction(k))
    spool = [p for p in tmp_path.iterdir() if p.name.startswith(".r.pkl.parts.")]
    assert len(spool) == 1 and len(list(spool[0].iterdir())) == 2  # two full chunks on disk
    assert writer.close() == [str(tmp_path / "r.pkl")]
    assert [p.name for p in tmp_path.iterdir()] == ["r.pkl"]
    records = torch.load(tmp_path / "r.pkl", weights_only=False)
    assert [r["file_name"] for r in records] == [f"img{k}.png" for k in range(5)]
    for k, r in enumerate(records):
        assert set(r) == {
            "file_name",
            "scores",
            "pred_boxes_XYXY",
            "pred_classes",
            "pred_densepose",
        }
        (result,) = r["pred_densepose"]
        assert isinstance(result, DensePoseChartResultWithConfidences)
        assert result.labels.dtype == torch.int64 and int(result.labels[0, 0]) == k
        assert torch.allclose(result.uv, torch.full((2, 3, 2), 0.25 * k))


def test_json_writer_assembles_one_document(tmp_path):
    writer = JsonWriter(str(tmp_path / "r.json"))
    writer.write(InputItem(1, "a.png"), _prediction(1))
    writer.write(
        InputItem(2, "v.mp4", frame_index=7), ImagePrediction.from_results((4, 4), [], None)
    )
    writer.write(InputItem(2, "v.mp4", frame_index=8), _prediction(2))
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [i["id"] for i in doc["images"]] == [1, 2, 3] and doc["images"][1]["frame_index"] == 7
    assert [d["image_id"] for d in doc["detections"]] == [1, 3]
    assert doc["detections"][0]["uv_shape"] == [3, 3, 2] and doc["detections"][0][
        "box_xywh_int"
    ] == [1, 2, 2, 3]


def test_item_names_and_numbering():
    namer = ItemNamer()
    assert namer.stem(InputItem(1, "x/a.png")) == "a"
    assert namer.stem(InputItem(2, "y/a.jpg")) == "a_1"
    assert namer.stem(InputItem(3, "v.mp4", frame_index=12)) == "v_000012"
    assert namer.stem(InputItem(1, "x/a.png")) == "a"
    assert numbered_path("out/outputres.png", 3) == "out/outputres.0003.png"
    assert numbered_path("out/res", 12, ".mp4") == "out/res.0012.mp4"
