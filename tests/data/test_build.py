import pytest
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog

from densepose_ext import add_densepose_config
from densepose_ext.data.build import combine_dataset_dicts, register_category_options


def _ann(cat, dp=False, crowd=0):
    ann = {"bbox": [0, 0, 4, 4], "bbox_mode": 1, "category_id": cat, "iscrowd": crowd}
    if dp:
        ann.update({"dp_x": [1.0], "dp_y": [1.0], "dp_I": [1], "dp_U": [0.5], "dp_V": [0.5]})
    return ann


def _register(name, records, categories):
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    DatasetCatalog.register(
        name, lambda: [dict(r, annotations=[dict(a) for a in r["annotations"]]) for r in records]
    )
    MetadataCatalog.get(name).set(categories=categories)


@pytest.fixture
def cfg():
    c = get_cfg()
    add_densepose_config(c)
    return c


def test_whitelist_and_category_map_merge_into_contiguous_classes(cfg):
    _register(
        "build_test_a",
        [{"image_id": 1, "annotations": [_ann(5), _ann(7), _ann(9)]}],
        {5: "cat", 7: "dog", 9: "bird"},
    )
    _register(
        "build_test_b",
        [{"image_id": 2, "annotations": [_ann(3), _ann(4)]}],
        {3: "zebra", 4: "horse"},
    )
    cfg.DATASETS.WHITELISTED_CATEGORIES.build_test_a = [5, 7]
    cfg.DATASETS.CATEGORY_MAPS.build_test_b = type(cfg)({"4": 3})
    register_category_options(cfg, ["build_test_a", "build_test_b"])
    dicts = combine_dataset_dicts(["build_test_a", "build_test_b"])
    # merged ids: 3 (zebra, from b: 3 and 4), 5 (cat), 7 (dog) -> contiguous 0, 1, 2
    meta_a, meta_b = MetadataCatalog.get("build_test_a"), MetadataCatalog.get("build_test_b")
    assert meta_a.thing_classes == ["zebra", "cat", "dog"] == meta_b.thing_classes
    assert meta_a.thing_dataset_id_to_contiguous_id == {5: 1, 7: 2}
    assert meta_b.thing_dataset_id_to_contiguous_id == {3: 0, 4: 0}
    assert meta_b.thing_dataset_id_to_merged_id == {3: 3, 4: 3}
    assert [a["category_id"] for a in dicts[0]["annotations"]] == [1, 2]  # bird (9) dropped
    assert [a["category_id"] for a in dicts[1]["annotations"]] == [0, 0]
    assert dicts[0]["dataset"] == "build_test_a"


def test_training_filter_keeps_images_with_densepose(cfg):
    records = [
        {"image_id": 1, "annotations": [_ann(1)]},  # box only
        {"image_id": 2, "annotations": [_ann(1, dp=True)]},
        {"image_id": 3, "annotations": [_ann(1, dp=True, crowd=1)]},  # only crowd
        {"image_id": 4, "annotations": []},
    ]
    _register("build_test_c", records, {1: "person"})
    cfg.DATALOADER.FILTER_EMPTY_ANNOTATIONS = True
    kept = combine_dataset_dicts(["build_test_c"], cfg, filter_for_training=True)
    assert [d["image_id"] for d in kept] == [2]
    cfg.MODEL.DENSEPOSE_ON = False  # detection only: any image with non-crowd boxes
    kept = combine_dataset_dicts(["build_test_c"], cfg, filter_for_training=True)
    assert [d["image_id"] for d in kept] == [1, 2]
    assert len(combine_dataset_dicts(["build_test_c"], cfg, filter_for_training=False)) == 4
