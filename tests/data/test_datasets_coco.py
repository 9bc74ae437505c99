"""DensePose-COCO-format loader and the built-in dataset registrations."""

import json

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import BoxMode
from pycocotools import mask as mask_util

from densepose_ext.data.datasets import (
    COCO_FORMAT_DATASETS,
    LVIS_FORMAT_DATASETS,
    DatasetType,
    load_densepose_coco_json,
    load_densepose_lvis_json,
    register_builtin_datasets,
    register_densepose_coco_dataset,
)
from densepose_ext.utils.files import ExternalFileError


def _rle_256():
    mask = np.zeros((256, 256, 1), dtype=np.uint8, order="F")
    mask[10:100, 20:60] = 1
    rle = mask_util.encode(mask)[0]
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


DP_FIELDS = {
    "dp_x": [10.0, 200.5],
    "dp_y": [30.0, 100.0],
    "dp_I": [2.0, 15.0],
    "dp_U": [0.1, 0.9],
    "dp_V": [0.2, 0.3],
    "dp_masks": [[], _rle_256()],
    "dp_vertex": [5, 17],
    "ref_model": "smpl_27554",
}


def _write_json(path, annotations, categories=None):
    data = {
        "images": [
            {"id": 7, "file_name": "a.jpg", "height": 40, "width": 50},
            {"id": 3, "file_name": "b.jpg", "height": 20, "width": 30, "frame_id": 4, "vid_id": 9},
        ],
        "annotations": annotations,
        "categories": categories or [{"id": 1, "name": "person"}],
    }
    path.write_text(json.dumps(data))
    return str(path)


def _annotation(ann_id, image_id, **extra):
    ann = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "iscrowd": 0,
        "bbox": [1, 2, 10, 20],
        "area": 200,
    }
    ann.update(extra)
    return ann


def test_loader_copies_densepose_fields_and_cleans_segmentation(tmp_path):
    anns = [
        _annotation(1, 7, segmentation=[[0, 0, 5, 0, 5, 5], [1, 2, 3], [1, 1, 2, 2]], **DP_FIELDS),
        _annotation(2, 7, keypoints=[1.0, 2.0, 2, 0.0, 0.0, 0], segmentation=[[1, 2, 3, 4]]),
        _annotation(3, 3, segmentation={"size": [20, 30], "counts": "abc"}),
    ]
    json_file = _write_json(tmp_path / "dp.json", anns)
    records = load_densepose_coco_json(json_file, "/images", "dp_unittest")
    assert [r["image_id"] for r in records] == [3, 7]
    by_id = {r["image_id"]: r for r in records}
    rec = by_id[7]
    assert rec["file_name"] == "/images/a.jpg" and (rec["height"], rec["width"]) == (40, 50)
    assert rec["dataset"] == "dp_unittest"
    first, second = rec["annotations"]
    assert first["bbox"] == [1, 2, 10, 20] and first["bbox_mode"] == BoxMode.XYWH_ABS
    assert first["category_id"] == 1 and first["iscrowd"] == 0
    assert first["segmentation"] == [[0, 0, 5, 0, 5, 5]]
    for key, value in DP_FIELDS.items():
        assert first[key] == value
    assert "segmentation" not in second  # no valid polygon left
    assert second["keypoints"] == [1.5, 2.5, 2, 0.5, 0.5, 0]
    assert by_id[3]["frame_id"] == 4 and by_id[3]["video_id"] == 9
    assert by_id[3]["annotations"][0]["segmentation"] == {"size": [20, 30], "counts": "abc"}
    assert MetadataCatalog.get("dp_unittest").categories == {1: "person"}


def test_contiguous_category_ids(tmp_path):
    cats = [{"id": 5, "name": "dog"}, {"id": 2, "name": "cat"}]
    json_file = _write_json(
        tmp_path / "c.json",
        [_annotation(1, 7, category_id=5), _annotation(2, 7, category_id=2)],
        cats,
    )
    raw = load_densepose_coco_json(json_file, "", None)
    mapped = load_densepose_coco_json(json_file, "", None, map_category_ids=True)
    assert [a["category_id"] for a in raw[1]["annotations"]] == [5, 2]
    assert [a["category_id"] for a in mapped[1]["annotations"]] == [1, 0]


def test_annotation_id_uniqueness_and_ignore(tmp_path):
    dup = [_annotation(1, 7), _annotation(1, 3)]
    with pytest.raises(ValueError, match="not unique"):
        load_densepose_coco_json(_write_json(tmp_path / "train.json", dup), "", None)
    load_densepose_coco_json(
        _write_json(tmp_path / "densepose_minival.json", dup), "", None
    )  # exempt
    with pytest.raises(ValueError, match="ignore"):
        load_densepose_coco_json(
            _write_json(tmp_path / "i.json", [_annotation(1, 7, ignore=1)]), "", None
        )


def test_register_one_call_and_missing_file_error(tmp_path):
    json_file = _write_json(tmp_path / "x.json", [_annotation(1, 7, **DP_FIELDS)])
    register_densepose_coco_dataset(
        "dp_unittest_user", json_file, str(tmp_path), metadata={"foo": 1}
    )
    assert len(DatasetCatalog.get("dp_unittest_user")) == 2
    meta = MetadataCatalog.get("dp_unittest_user")
    assert meta.json_file == json_file and meta.image_root == str(tmp_path) and meta.foo == 1
    assert meta.densepose_transform_src.endswith("/densepose/data/UV_symmetry_transforms.mat")
    missing = str(tmp_path / "nope" / "missing.json")
    register_densepose_coco_dataset("dp_unittest_missing", missing, str(tmp_path))
    with pytest.raises(ExternalFileError, match="missing.json"):
        DatasetCatalog.get("dp_unittest_missing")


def test_builtin_names_paths_and_metadata(tmp_path, monkeypatch):
    assert "densepose_coco_2014_minival_100" in DatasetCatalog.list()  # registered on import
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    register_builtin_datasets()
    try:
        meta = MetadataCatalog.get("densepose_coco_2014_train")
        assert meta.json_file == str(tmp_path / "coco/annotations/densepose_train2014.json")
        assert meta.image_root == str(tmp_path / "coco/train2014")
        prefix = "https://dl.fbaipublicfiles.com/densepose/data/"
        assert meta.densepose_smpl_subdiv == prefix + "SMPL_subdiv.mat"
        assert meta.densepose_smpl_subdiv_transform == prefix + "SMPL_SUBDIV_TRANSFORM.mat"
        assert len(COCO_FORMAT_DATASETS) == 18 and len(LVIS_FORMAT_DATASETS) == 5
        for name in list(COCO_FORMAT_DATASETS) + list(LVIS_FORMAT_DATASETS) + ["chimpnsee"]:
            assert name in DatasetCatalog.list()
        assert MetadataCatalog.get("densepose_lvis_v1_ds1_train_v1").evaluator_type == "lvis"
        chimps = MetadataCatalog.get("chimpnsee")
        assert chimps.dataset_type == DatasetType.VIDEO_LIST and chimps.category == "chimpanzee"
        assert chimps.video_list_fpath == str(tmp_path / "chimpnsee/cdna.eva.mpg.de/video_list.txt")
        assert DatasetCatalog.get("chimpnsee") is None
        with pytest.raises(ExternalFileError, match="densepose_minival2014_100.json"):
            DatasetCatalog.get("densepose_coco_2014_minival_100")
    finally:
        monkeypatch.delenv("DETECTRON2_DATASETS")
        register_builtin_datasets()


def test_lvis_loader_image_paths(tmp_path):
    data = {
        "images": [
            {
                "id": 1,
                "height": 10,
                "width": 10,
                "coco_url": "http://x/train2017/000000155379.jpg",
                "not_exhaustive_category_ids": [3],
                "neg_category_ids": [4],
            }
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 943, "bbox": [0, 0, 2, 2], **DP_FIELDS}
        ],
    }
    (tmp_path / "l.json").write_text(json.dumps(data))
    (record,) = load_densepose_lvis_json(str(tmp_path / "l.json"), "root", "lvis_unittest")
    assert record["file_name"] == "root/coco_train2017/000000155379.jpg"
    assert record["not_exhaustive_category_ids"] == [3] and record["neg_category_ids"] == [4]
    assert record["annotations"][0]["dp_I"] == DP_FIELDS["dp_I"]
    assert MetadataCatalog.get("lvis_unittest").categories[943] == "sheep"


def test_registering_again_with_other_files_replaces_changed_metadata(tmp_path):
    first = _write_json(tmp_path / "first.json", [_annotation(1, 7)])
    register_densepose_coco_dataset("dp_unittest_again", first, str(tmp_path), {"foo": 1})
    DatasetCatalog.get("dp_unittest_again")
    meta = MetadataCatalog.get("dp_unittest_again")
    meta.set(thing_classes=["person"])
    assert meta.categories == {1: "person"}
    dogs = [{"id": 4, "name": "dog"}]
    second = _write_json(tmp_path / "second.json", [_annotation(1, 7, category_id=4)], dogs)
    register_densepose_coco_dataset("dp_unittest_again", second, str(tmp_path), {"foo": 2})
    DatasetCatalog.get("dp_unittest_again")
    meta = MetadataCatalog.get("dp_unittest_again")
    assert meta.json_file == second and meta.foo == 2 and meta.categories == {4: "dog"}
    assert meta.thing_classes == ["person"]  # entries not written again are kept
