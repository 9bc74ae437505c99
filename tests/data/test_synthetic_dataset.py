"""Generated DensePose-COCO files: format, agreement with the rendered GT, flip, registration."""

import json
import os

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_util
from pycocotools.coco import COCO

from densepose_ext.data.datasets import load_densepose_coco_json
from densepose_ext.data.synthetic.body import FINE_TO_COARSE
from densepose_ext.data.synthetic.generate import (
    body_template,
    generate_synthetic_dataset,
    render_example,
)
from densepose_ext.data.synthetic.register import (
    register_synthetic_dataset,
    register_synthetic_datasets,
)
from densepose_ext.data.synthetic.scene import mirror_scene, render_scene, sample_scene
from densepose_ext.structures.transform_data import POINT_LABEL_SYMMETRIES, DensePoseTransformData

SIZE, NUM_IMAGES, NUM_VAL, SEED = 160, 14, 4, 11


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp("synth")), NUM_IMAGES, size=SIZE, seed=SEED, num_val=NUM_VAL
    )


@pytest.fixture(scope="module")
def coco_train(dataset):
    return COCO(dataset.train_json)


def _index(image):
    return int(os.path.splitext(image["file_name"])[0])


def _dp_annotations(coco):
    return [a for a in coco.dataset["annotations"] if "dp_x" in a]


def test_json_loads_with_pycocotools(dataset, coco_train):
    coco_val = COCO(dataset.val_json)
    assert len(coco_train.imgs) == NUM_IMAGES - NUM_VAL and len(coco_val.imgs) == NUM_VAL
    (category,) = coco_train.loadCats(coco_train.getCatIds())
    assert {k: category[k] for k in ("id", "name", "supercategory")} == {
        "id": 1,
        "name": "person",
        "supercategory": "person",
    }
    assert len(category["keypoints"]) == 17 and len(category["skeleton"]) == 14
    anns = coco_train.dataset["annotations"]
    assert len({a["id"] for a in anns}) == len(anns)
    dp = _dp_annotations(coco_train)
    assert 0 < len(dp) < len(anns)  # some people have no DensePose points
    for ann in dp:
        n = len(ann["dp_x"])
        assert 20 <= n <= 120
        assert all(len(ann[k]) == n for k in ("dp_y", "dp_I", "dp_U", "dp_V", "dp_vertex"))
        assert len(ann["dp_masks"]) == 14 and ann["ref_model"] == body_template().mesh_name
        assert 0 <= min(ann["dp_x"]) and max(ann["dp_x"]) < 256
        assert all(1 <= i <= 24 for i in ann["dp_I"])
    for ann in anns:
        mask = coco_train.annToMask(ann)
        assert mask.sum() == ann["area"]
        x, y, w, h = ann["bbox"]
        rows, cols = np.nonzero(mask)
        assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (x, y, x + w, y + h)
    for image in coco_train.dataset["images"]:
        assert os.path.isfile(os.path.join(dataset.image_root, image["file_name"]))
    # the loader's DensePose validation accepts every generated annotation
    records = load_densepose_coco_json(
        dataset.train_json, dataset.image_root, None, on_invalid="reject"
    )
    assert sum("dp_x" in a for r in records for a in r["annotations"]) == len(dp)


def test_points_match_rendered_ground_truth(coco_train):
    checked = 0
    for image in coco_train.dataset["images"]:
        rendered, _ = render_example(_index(image), SEED, SIZE)
        for ann in coco_train.imgToAnns[image["id"]]:
            if "dp_x" not in ann:
                continue
            x0, y0, w, h = ann["bbox"]
            cols = np.floor(x0 + np.array(ann["dp_x"]) * w / 256).astype(np.int64)
            rows = np.floor(y0 + np.array(ann["dp_y"]) * h / 256).astype(np.int64)
            np.testing.assert_array_equal(rendered.part[rows, cols], ann["dp_I"])
            np.testing.assert_allclose(rendered.u[rows, cols], ann["dp_U"], atol=1e-5)
            np.testing.assert_allclose(rendered.v[rows, cols], ann["dp_V"], atol=1e-5)
            np.testing.assert_array_equal(rendered.vertex[rows, cols], ann["dp_vertex"])
            # all points of one annotation belong to one person
            assert len(np.unique(rendered.person[rows, cols])) == 1
            checked += len(cols)
    assert checked > 500


def _decode_dp_masks(dp_masks):
    labels = np.zeros((256, 256), dtype=np.int64)
    for q, rle in enumerate(dp_masks, start=1):
        if rle:
            labels[mask_util.decode(rle) > 0] = q
    return labels


def _person_of(rendered, ann):
    """Index of the rendered person an annotation belongs to (from its first point)."""
    x0, y0, w, h = ann["bbox"]
    col = int(np.floor(x0 + ann["dp_x"][0] * w / 256))
    row = int(np.floor(y0 + ann["dp_y"][0] * h / 256))
    return rendered.person[row, col]


def test_dp_masks_agree_with_rendered_parts(coco_train):
    """Each box pixel, looked up in the 256x256 mask at the cell nearest its centre,
    has its part."""
    agreement, part_sizes = [], []
    for image in coco_train.dataset["images"]:
        rendered, _ = render_example(_index(image), SEED, SIZE)
        for ann in coco_train.imgToAnns[image["id"]]:
            if "dp_x" not in ann:
                continue
            labels = _decode_dp_masks(ann["dp_masks"])
            on_points = labels[np.floor(ann["dp_y"]).astype(int), np.floor(ann["dp_x"]).astype(int)]
            assert (on_points == FINE_TO_COARSE[np.array(ann["dp_I"], dtype=np.int64)]).mean() > 0.9
            x0, y0, w, h = (int(c) for c in ann["bbox"])
            box = (slice(y0, y0 + h), slice(x0, x0 + w))
            mine = rendered.person[box] == _person_of(rendered, ann)
            truth = np.where(mine, FINE_TO_COARSE[rendered.part[box]], 0)
            rows = np.clip(np.round((np.arange(h) + 0.5) * 256 / h - 0.5), 0, 255).astype(np.int64)
            cols = np.clip(np.round((np.arange(w) + 0.5) * 256 / w - 0.5), 0, 255).astype(np.int64)
            back = labels[rows[:, None], cols[None, :]]
            agreement.append((back == truth).mean())
            part_sizes.append(np.bincount(back.ravel(), minlength=15)[1:] > 0)
    assert len(agreement) > 10 and min(agreement) > 0.97
    assert np.mean([s.sum() for s in part_sizes]) > 6  # several parts per person


def test_annotation_hflip_matches_mirrored_rendering(dataset, coco_train):
    """Spec flip (x <- 256 - x, label swap, UV tables of the body) equals the mirrored render."""
    tables = DensePoseTransformData.load(dataset.body.flip_tables)
    u_table = tables.uv_symmetries["U_transforms"].numpy()
    v_table = tables.uv_symmetries["V_transforms"].numpy()
    symmetries = np.array(POINT_LABEL_SYMMETRIES)
    template = body_template()
    for image in coco_train.dataset["images"][:6]:
        scene = sample_scene(np.random.default_rng([SEED, _index(image)]), SIZE, SIZE)
        mirrored = render_scene(template, mirror_scene(scene))
        for ann in coco_train.imgToAnns[image["id"]]:
            if "dp_x" not in ann:
                continue
            x0, y0, w, h = ann["bbox"]
            flipped_x0 = SIZE - x0 - w
            x = 256.0 - np.array(ann["dp_x"])
            i = np.array(ann["dp_I"], dtype=np.int64)
            row = np.floor(255 * np.array(ann["dp_V"])).astype(np.int64)
            col = np.floor(255 * np.array(ann["dp_U"])).astype(np.int64)
            u, v = u_table[i - 1, row, col], v_table[i - 1, row, col]
            px = np.floor(flipped_x0 + x * w / 256).astype(np.int64)
            py = np.floor(y0 + np.array(ann["dp_y"]) * h / 256).astype(np.int64)
            np.testing.assert_array_equal(mirrored.part[py, px], symmetries[i])
            np.testing.assert_allclose(mirrored.u[py, px], u, atol=0.5 / 255 + 1e-5)
            np.testing.assert_allclose(mirrored.v[py, px], v, atol=0.5 / 255 + 1e-5)
            np.testing.assert_array_equal(
                mirrored.vertex[py, px], template.symmetry[ann["dp_vertex"]]
            )


def test_generation_is_deterministic_and_cached(dataset, tmp_path):
    other = generate_synthetic_dataset(str(tmp_path), 5, size=SIZE, seed=SEED, num_val=0, workers=2)
    with open(other.train_json) as f, open(dataset.train_json) as g:
        mine, theirs = json.load(f), json.load(g)
    first = [a for a in theirs["annotations"] if a["image_id"] <= 5]
    assert mine["annotations"] == first
    for k in range(5):
        a = cv2.imread(os.path.join(other.image_root, f"{k:06d}.jpg"))
        b = cv2.imread(os.path.join(dataset.image_root, f"{k:06d}.jpg"))
        np.testing.assert_array_equal(a, b)
    stamp = os.path.getmtime(other.train_json)
    generate_synthetic_dataset(str(tmp_path), 5, size=SIZE, seed=SEED, num_val=0)
    assert os.path.getmtime(other.train_json) == stamp


def test_registration_through_yaml(dataset, tmp_path):
    from detectron2.config import get_cfg
    from detectron2.data import DatasetCatalog, MetadataCatalog, build_detection_train_loader
    from detectron2.data.build import get_detection_dataset_dicts

    register_synthetic_dataset(
        "densepose_synth_unittest_train", dataset.train_json, dataset.image_root
    )
    register_synthetic_dataset(
        "densepose_synth_unittest_contiguous",
        dataset.train_json,
        dataset.image_root,
        map_category_ids=True,
    )
    yaml_file = tmp_path / "synth.yaml"
    yaml_file.write_text('DATASETS:\n  TRAIN: ("densepose_synth_unittest_train",)\n  TEST: ()\n')
    cfg = get_cfg()
    cfg.merge_from_file(str(yaml_file))
    dicts = get_detection_dataset_dicts(cfg.DATASETS.TRAIN)
    assert (
        len(dicts) == NUM_IMAGES - NUM_VAL
        and "densepose_synth_unittest_train" in DatasetCatalog.list()
    )
    assert any("dp_I" in a and "dp_masks" in a for d in dicts for a in d["annotations"])
    meta = MetadataCatalog.get("densepose_synth_unittest_train")
    assert meta.categories == {1: "person"} and meta.class_to_mesh_name == {
        0: body_template().mesh_name
    }
    assert MetadataCatalog.get("densepose_synth_unittest_contiguous").thing_classes == ["person"]
    assert DensePoseTransformData.load(meta.densepose_transform_src).uv_symmetries[
        "U_transforms"
    ].shape == (24, 256, 256)
    assert os.path.isfile(meta.densepose_body_surface)
    # detectron2's stock train loader on the contiguous-id registration
    cfg.DATASETS.TRAIN = ("densepose_synth_unittest_contiguous",)
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.SOLVER.IMS_PER_BATCH = 2
    cfg.INPUT.MIN_SIZE_TRAIN = (SIZE,)
    batch = next(iter(build_detection_train_loader(cfg)))
    assert len(batch) == 2 and batch[0]["image"].shape[1:] == (SIZE, SIZE)
    assert all((b["instances"].gt_classes == 0).all() for b in batch)


def test_register_synthetic_datasets_creates_train_and_val(tmp_path):
    from detectron2.data import DatasetCatalog

    data = register_synthetic_datasets(
        str(tmp_path),
        num_train=3,
        num_val=2,
        size=96,
        train_name="synth_ut_tr",
        val_name="synth_ut_val",
    )
    assert (
        len(DatasetCatalog.get("synth_ut_tr")) == 3 and len(DatasetCatalog.get("synth_ut_val")) == 2
    )
    assert os.path.isfile(data.body.surface)


def test_points_per_person_sets_the_annotation_density(dataset, tmp_path):
    dense = generate_synthetic_dataset(
        str(tmp_path), 5, size=SIZE, seed=SEED, points_per_person=(250, 260)
    )
    with open(dense.train_json) as f, open(dataset.train_json) as g:
        dense_anns, default_anns = json.load(f)["annotations"], json.load(g)["annotations"]
    counts = [len(a["dp_x"]) for a in dense_anns if "dp_x" in a]
    assert (
        counts and max(counts) <= 260 and np.mean(counts) > 200
    )  # small people: one point per pixel
    # same scenes and boxes; only the number of points differs
    assert [a["bbox"] for a in dense_anns] == [
        a["bbox"] for a in default_anns if a["image_id"] <= 5
    ]
    with open(os.path.join(str(tmp_path), "params.json")) as f:
        assert (json.load(f)["min_points"], 260) == (250, 260)
    with pytest.raises(ValueError, match="points_per_person"):
        generate_synthetic_dataset(str(tmp_path / "bad"), 2, size=SIZE, points_per_person=(50, 10))
