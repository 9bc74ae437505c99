"""Score filter, combined loader ratios, sample counting, category mapping of bootstrap specs."""

import itertools
import math
import random

import pytest
import torch
from detectron2.config import CfgNode, get_cfg
from detectron2.structures import Boxes, Instances

from densepose_ext import add_densepose_config
from densepose_ext.data.bootstrap import (
    CombinedDataLoader,
    SampleCountingLoader,
    ScoreBasedFilter,
    bootstrap_dataset_specs,
    build_inference_filter,
)
from densepose_ext.data.bootstrap.inference_based_loader import images_and_categories


def _output(scores):
    inst = Instances((10, 10))
    inst.pred_boxes = Boxes(torch.zeros(len(scores), 4))
    if scores is not None:
        inst.scores = torch.tensor(scores)
    return {"instances": inst}


def test_score_filter_keeps_scores_at_or_above_threshold():
    outputs = ScoreBasedFilter(min_score=0.5)([_output([0.2, 0.5, 0.75]), _output([0.1])])
    assert outputs[0]["instances"].scores.tolist() == [0.5, 0.75]
    assert len(outputs[1]["instances"]) == 0
    no_scores = _output([0.0, 0.0])
    del no_scores["instances"]._fields["scores"]
    assert len(ScoreBasedFilter(0.5)([no_scores])[0]["instances"]) == 2  # untouched


def test_filter_builder():
    assert build_inference_filter(CfgNode({"TYPE": ""})) is None
    f = build_inference_filter(CfgNode({"TYPE": "detection_score", "MIN_VALUE": 0.3}))
    assert f.min_score == 0.3
    assert build_inference_filter(CfgNode({"TYPE": "detection_score"})).min_score == 0.8
    with pytest.raises(KeyError, match="unknown"):
        build_inference_filter(CfgNode({"TYPE": "nope"}))


def _tagged_loader(tag, batch_size=3, limit=None):
    counter = itertools.count() if limit is None else iter(range(limit))
    while True:
        batch = list(itertools.islice(counter, batch_size))
        if not batch:
            return
        yield [(tag, i) for i in batch]


def test_combined_loader_ratio_matches_binomial_expectation():
    ratios = [1.0, 0.25]  # p(second loader) = 0.2
    loader = CombinedDataLoader(
        [_tagged_loader("a"), _tagged_loader("b", 2)], 8, ratios, rng=random.Random(0)
    )
    num_batches = 1000
    elements = [e for batch in itertools.islice(loader, num_batches) for e in batch]
    n, p = len(elements), 0.25 / 1.25
    from_b = sum(tag == "b" for tag, _ in elements)
    std = math.sqrt(n * p * (1 - p))
    assert abs(from_b - n * p) < 4 * std, (from_b, n * p, std)
    # each loader's elements are consumed in order, none skipped or repeated
    for tag in "ab":
        seq = [i for t, i in elements if t == tag]
        assert seq == list(range(len(seq)))


def test_combined_loader_batch_composition_varies_and_stops_on_exhaustion():
    loader = CombinedDataLoader(
        [_tagged_loader("a"), _tagged_loader("b", limit=10)], 4, [1.0, 1.0], rng=random.Random(1)
    )
    batches = list(loader)  # finite: stops when "b" runs out
    assert all(len(b) == 4 for b in batches)
    assert sum(t == "b" for b in batches for t, _ in b) <= 10
    assert len({sum(t == "b" for t, _ in b) for b in batches}) > 1
    with pytest.raises(ValueError):
        CombinedDataLoader([[]], 2, [1.0, 2.0])


def test_sample_counting_loader_counts_instances_per_dataset():
    def sample(dataset, n):
        inst = Instances((4, 4))
        inst.gt_boxes = Boxes(torch.zeros(n, 4))
        return {"dataset": dataset, "instances": inst}

    loader = SampleCountingLoader([[sample("coco", 2), sample("", 3), sample("", 1)]])
    batches = list(loader)
    assert len(batches) == 1 and loader.counts == {"coco": 2, "": 4}


def test_images_and_categories_broadcasts_a_single_category_to_all_frames():
    items = [
        {"images": torch.zeros(3, 3, 4, 4), "categories": ["chimp"]},
        {"images": torch.zeros(0, 3, 1, 1), "categories": []},
        {"images": torch.zeros(2, 3, 4, 4), "categories": ["a", "b"]},
    ]
    pairs = images_and_categories(items)
    assert [p["category"] for p in pairs] == ["chimp"] * 3 + ["a", "b"]


def test_bootstrap_specs_merge_over_schema_and_keep_category_mapping():
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file("configs/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uv.yaml")
    cfg.BOOTSTRAP_DATASETS[0]["IMAGE_LOADER"]["CATEGORY_TO_CLASS_MAPPING"] = {"chimpanzee": 0}
    (spec,) = bootstrap_dataset_specs(cfg)
    assert spec.DATASET == "chimpnsee" and spec.RATIO == 1.0
    assert (
        spec.IMAGE_LOADER.SELECT.STRATEGY == "random_k" and spec.IMAGE_LOADER.SELECT.NUM_IMAGES == 4
    )
    assert (
        spec.INFERENCE.INPUT_BATCH_SIZE == 1 and spec.DATA_SAMPLER.TYPE == "densepose_UV_confidence"
    )
    assert spec.IMAGE_LOADER.MAX_COUNT_PER_CATEGORY == 1_000_000  # schema default
    assert dict(spec.IMAGE_LOADER.CATEGORY_TO_CLASS_MAPPING) == {"chimpanzee": 0}
    assert spec.FILTER.MIN_VALUE == 0.8


def test_class_agnostic_evolution_categories():
    """The evolution base config's whitelist + map: COCO person and 10 animals -> one class."""
    from detectron2.data import DatasetCatalog, MetadataCatalog

    from densepose_ext.data.build import combine_dataset_dicts, register_category_options

    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file("configs/evolution/Base-RCNN-FPN-Atop10P_CA.yaml")
    cfg.MODEL.ROI_DENSEPOSE_HEAD.COARSE_SEGM_TRAINED_BY_MASKS = True
    name = "test_ca_coco"  # stands in for base_coco_2017_train, same options
    cfg.DATASETS.WHITELISTED_CATEGORIES[name] = cfg.DATASETS.WHITELISTED_CATEGORIES.pop(
        "base_coco_2017_train"
    )
    cfg.DATASETS.CATEGORY_MAPS[name] = cfg.DATASETS.CATEGORY_MAPS.pop("base_coco_2017_train")
    segm = [[0, 0, 4, 0, 4, 4]]

    def ann(cat):
        return {
            "bbox": [0, 0, 4, 4],
            "bbox_mode": 1,
            "category_id": cat,
            "iscrowd": 0,
            "segmentation": segm,
        }

    records = [
        {"image_id": 1, "annotations": [ann(1), ann(18), ann(3)]},  # person, dog, car (not kept)
        {"image_id": 2, "annotations": [ann(25)]},
    ]  # giraffe only
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    DatasetCatalog.register(
        name, lambda: [dict(r, annotations=[dict(a) for a in r["annotations"]]) for r in records]
    )
    cats = {1: "person", 3: "car", **{i: f"animal{i}" for i in range(16, 26)}}
    MetadataCatalog.get(name).set(categories=cats)
    register_category_options(cfg, [name])
    dicts = combine_dataset_dicts([name], cfg, filter_for_training=True)
    meta = MetadataCatalog.get(name)
    assert meta.thing_classes == ["person"]
    assert set(meta.thing_dataset_id_to_contiguous_id) == {1, *range(16, 26)}
    assert set(meta.thing_dataset_id_to_contiguous_id.values()) == {0}
    assert [[a["category_id"] for a in d["annotations"]] for d in dicts] == [
        [0, 0],
        [0],
    ]  # car dropped


EVOLUTION_BOOTSTRAP_CONFIGS = [
    f"configs/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_{kind}.yaml"
    for kind in ("uniform", "uv", "finesegm", "coarsesegm")
]


@pytest.mark.parametrize("path", EVOLUTION_BOOTSTRAP_CONFIGS)
def test_official_bootstrap_configs_build_what_they_state(path):
    """The YAML values reach the built parts; the schema defaults (declared in the config
    function) equal the values the original code assumed."""
    from densepose_ext.data.bootstrap import (
        RandomKFramesSelector,
        build_data_sampler,
        build_frame_selector,
        build_image_transform,
    )

    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(path)
    (spec,) = bootstrap_dataset_specs(cfg)
    selector = build_frame_selector(spec.IMAGE_LOADER.SELECT)
    assert isinstance(selector, RandomKFramesSelector) and selector.k == 4
    transform = build_image_transform(spec.IMAGE_LOADER.TRANSFORM)
    assert (transform.min_size, transform.max_size) == (800, 1333)
    assert build_inference_filter(spec.FILTER).min_score == 0.8
    samplers = build_data_sampler(cfg, spec.DATA_SAMPLER)._samplers
    assert samplers[("pred_densepose", "gt_densepose")].func.count_per_class == 8


def test_bootstrap_defaults_are_declared_in_the_schema():
    from densepose_ext.config import get_bootstrap_dataset_config
    from densepose_ext.data.bootstrap import build_frame_selector, build_image_transform

    schema = get_bootstrap_dataset_config()
    assert schema.DATA_SAMPLER.COUNT_PER_CLASS == 8 and schema.FILTER.MIN_VALUE == 0.8
    assert schema.IMAGE_LOADER.SELECT.STRATEGY == "all"
    assert (schema.IMAGE_LOADER.TRANSFORM.MIN_SIZE, schema.IMAGE_LOADER.TRANSFORM.MAX_SIZE) == (
        800,
        1333,
    )
    assert build_frame_selector(None) is None and build_image_transform(None) is None
    resize = build_image_transform(CfgNode({"TYPE": "resize", "MAX_SIZE": 640}))
    assert (resize.min_size, resize.max_size) == (800, 640)
