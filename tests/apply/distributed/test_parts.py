"""`PartStore`: atomic parts, manifest, settings check (no Ray needed)."""

import json

import pytest
import torch

from densepose_ext.apply.distributed.parts import PartsError, PartStore, check_writable
from densepose_ext.apply.distributed.work_items import WorkItem
from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.engine.inputs import InputItem

ITEMS = [
    WorkItem(1, "/data/a.png"),
    WorkItem(2, "/data/v.mp4", 0, 4),
    WorkItem(2, "/data/v.mp4", 4),
]


def _entries(item: WorkItem) -> list:
    prediction = ImagePrediction.from_results((10, 20), torch.tensor([[1.0, 2.0, 5.0, 6.0]]), None)
    return [("ok", InputItem(item.index, item.path, item.frame_start), prediction)]


def test_parts_are_stored_atomically_and_listed_in_the_manifest(tmp_path):
    store = PartStore(str(tmp_path / "r.pkl.parts"), {"model": "m.pth"})
    store.open(ITEMS)
    store.save(ITEMS[0], _entries(ITEMS[0]))
    store.save(ITEMS[1], [("failed", "cannot open video '/data/v.mp4'")])
    store.write_manifest()
    assert sorted(p.name for p in (tmp_path / "r.pkl.parts").iterdir()) == sorted(
        [ITEMS[0].key + ".pt", ITEMS[1].key + ".pt", "manifest.json"]
    )  # no temporary files left
    manifest = json.loads((tmp_path / "r.pkl.parts" / "manifest.json").read_text())
    assert [e["status"] for e in manifest["items"]] == ["done", "bad", "pending"]
    assert manifest["items"][1]["errors"] == ["cannot open video '/data/v.mp4'"]
    assert (manifest["done_items"], manifest["records"], manifest["failed"]) == (2, 1, 1)
    (_, meta, prediction) = store.load(ITEMS[0])["entries"][0]
    assert meta.path == "/data/a.png" and torch.equal(
        prediction.boxes_xyxy, torch.tensor([[1.0, 2.0, 5.0, 6.0]])
    )


def test_reopening_takes_over_parts_written_after_the_last_manifest(tmp_path):
    store = PartStore(str(tmp_path / "p"), {"model": "m.pth"}, manifest_interval=3600)
    store.open(ITEMS)
    store.save(ITEMS[2], [("failed", "bad frame")])  # killed before the manifest was rewritten
    again = PartStore(str(tmp_path / "p"), {"model": "m.pth"})
    again.open(ITEMS)
    assert [again.is_done(i) for i in ITEMS] == [False, False, True]
    assert again.counts() == {"total_items": 3, "done_items": 1, "records": 0, "failed": 1}


def test_parts_of_other_settings_are_refused(tmp_path):
    PartStore(str(tmp_path / "p"), {"model": "m.pth", "batch_size": 1}).open(ITEMS)
    with pytest.raises(PartsError, match="batch_size"):
        PartStore(str(tmp_path / "p"), {"model": "m.pth", "batch_size": 2}).open(ITEMS)


def test_check_writable_names_the_blocking_file(tmp_path):
    (tmp_path / "file").write_text("x")
    check_writable(str(tmp_path / "new" / "deeper"))  # creatable: fine, and nothing created
    assert not (tmp_path / "new").exists()
    with pytest.raises(NotADirectoryError, match="is a file"):
        check_writable(str(tmp_path / "file" / "out.pkl.parts"))
