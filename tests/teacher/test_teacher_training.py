"""Teacher training (loop, log, checkpoint) and an R-CNN training step on an inpainted dataset."""

import json
import os

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from teacher_test_data import write_teacher_dataset

from densepose_ext import add_densepose_config
from densepose_ext.data.dataset_mapper import DatasetMapper
from densepose_ext.data.datasets.coco import (
    load_densepose_coco_json,
    register_densepose_coco_dataset,
)
from densepose_ext.teacher import (
    TeacherConfig,
    TeacherNet,
    TrainSettings,
    crops_of_records,
    inpaint_coco_json,
    load_teacher,
    make_batch,
    predict_points,
    train_teacher,
)
from densepose_ext.teacher.cli import main as teacher_main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_point_input_batches_hide_the_supervised_points(tmp_path):
    files = write_teacher_dataset(str(tmp_path), num_images=1)
    records = load_densepose_coco_json(files["json_file"], files["image_root"])
    crops = crops_of_records(records, 16)
    assert len(crops) == 2 and crops[0].image.shape == (3, 16, 16)
    config = TeacherConfig(crop_size=16, width=4, point_input=True)
    batch, target = make_batch(crops, config, np.random.default_rng(0), (0.5, 0.5))
    assert batch.shape == (2, 31, 16, 16)
    assert target["x"].numel() == 30  # half of each person's 30 points are supervised
    assert torch.equal(batch[:, 5:29].sum(dim=1), torch.ones(2, 16, 16))  # one part per pixel
    for k in range(2):
        shown_u = set(batch[k, 29].flatten().tolist())  # nearest-point U fill
        assert 1 < len(shown_u) <= 15
        hidden_u = target["u"][target["crop_indices"] == k].tolist()
        assert not shown_u & set(hidden_u)  # supervised points are not shown
    image_only = TeacherConfig(crop_size=16, width=4, point_input=False)
    batch, target = make_batch(crops, image_only, np.random.default_rng(0))
    assert batch.shape == (2, 4, 16, 16) and target["x"].numel() == 60


def test_training_lowers_the_loss_and_writes_log_and_weights(tmp_path):
    files = write_teacher_dataset(str(tmp_path), num_images=1)
    crops = crops_of_records(load_densepose_coco_json(files["json_file"], files["image_root"]), 16)
    config = TeacherConfig(crop_size=16, width=4, point_input=False)
    settings = TrainSettings(iterations=60, batch_size=2, lr=1e-2, log_period=20)
    model = train_teacher(crops, str(tmp_path / "t"), config, settings, progress=False)
    lines = [json.loads(s) for s in (tmp_path / "t" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [20, 40, 60]
    assert lines[-1]["loss_I"] < 0.8 * lines[0]["loss_I"]
    assert "iter 60" in (tmp_path / "t" / "log.txt").read_text()
    loaded = load_teacher(str(tmp_path / "t" / "teacher.pth"))
    xs, ys = [crops[0].x], [crops[0].y]
    before = predict_points(model, crops[:1], xs, ys)[0]
    after = predict_points(loaded, crops[:1], xs, ys)[0]
    for a, b in zip(before, after):
        assert np.array_equal(a, b)


def test_cli_trains_and_inpaints(tmp_path):
    files = write_teacher_dataset(str(tmp_path), num_images=1)
    source = ["--json", files["json_file"], "--image-root", files["image_root"]]
    out = str(tmp_path / "t")
    teacher_main(
        [
            "train",
            *source,
            "--output",
            out,
            "--iterations",
            "2",
            "--crop-size",
            "16",
            "--width",
            "4",
            "--no-progress",
        ]
    )
    target = str(tmp_path / "inpainted.json")
    teacher_main(
        [
            "inpaint",
            *source,
            "--weights",
            f"{out}/teacher.pth",
            "--output",
            target,
            "--points-per-person",
            "50",
            "--no-progress",
        ]
    )
    anns = [a for a in json.load(open(target))["annotations"] if "dp_x" in a]
    assert [sum(a["dp_inpainted"]) for a in anns] == [50, 50]


def test_rcnn_training_step_on_an_inpainted_dataset(tmp_path):
    files = write_teacher_dataset(str(tmp_path), num_images=2)
    torch.manual_seed(0)
    model = TeacherNet(TeacherConfig(crop_size=16, width=4)).eval()
    inpainted = str(tmp_path / "inpainted.json")
    inpaint_coco_json(files["json_file"], files["image_root"], model, inpainted, grid_step=12)
    name = "teacher_test_inpainted"
    register_densepose_coco_dataset(
        name, inpainted, files["image_root"], {"densepose_transform_src": files["flip_tables"]}
    )
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(os.path.join(REPO, "tests", "engine", "tiny_config.yaml"))
    cfg.DATASETS.TRAIN = (name,)
    cfg.MODEL.ROI_DENSEPOSE_HEAD.INPAINTED_POINT_WEIGHT = 0.5
    cfg.MODEL.ROI_DENSEPOSE_HEAD.MAX_POINTS_PER_ROI = 100
    cfg.INPUT.RANDOM_FLIP = "horizontal"
    from detectron2.data import DatasetCatalog

    mapper = DatasetMapper(cfg, is_train=True)
    batch = [mapper(r) for r in DatasetCatalog.get(name)]
    assert all(len(d) > 100 for d in batch[0]["instances"].gt_densepose if d is not None)
    rcnn = build_model(cfg)
    rcnn.train()
    with EventStorage():
        losses = rcnn(batch)
    for key in ("loss_densepose_I", "loss_densepose_U", "loss_densepose_V", "loss_densepose_S"):
        assert torch.isfinite(losses[key]), key
    sum(losses.values()).backward()
