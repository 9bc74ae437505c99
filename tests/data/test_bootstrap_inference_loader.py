"""InferenceBasedLoader with a tiny random model: pseudo-GT accepted by the training losses, and the
trainer's bootstrap branch (annotated + pseudo-labelled batches, a few training iterations)."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import CfgNode, get_cfg
from detectron2.modeling import build_model
from detectron2.structures import BitMasks
from detectron2.utils.events import EventStorage

from densepose_ext import add_densepose_config
from densepose_ext.data.bootstrap import (
    InferenceBasedLoader,
    SampleCountingLoader,
    ScoreBasedFilter,
    build_data_sampler,
    register_image_list_dataset,
)
from densepose_ext.structures import DensePoseList

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engine"
sys.path.insert(0, str(ENGINE_TESTS))
from tiny_densepose_dataset import register_tiny_dataset, write_tiny_dataset  # noqa: E402


def _tiny_cfg(uv_confidence=False):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(ENGINE_TESTS / "tiny_config.yaml"))
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0  # a random model still "detects" its top boxes
    cfg.TEST.DETECTIONS_PER_IMAGE = 4
    if uv_confidence:
        cfg.MODEL.ROI_DENSEPOSE_HEAD.UV_CONFIDENCE.ENABLED = True
        cfg.MODEL.ROI_DENSEPOSE_HEAD.UV_CONFIDENCE.TYPE = "iid_iso"
    return cfg


def _image_batches():
    g = torch.Generator().manual_seed(0)
    return [
        [
            {"images": torch.rand(2, 3, 64, 80, generator=g) * 255, "categories": ["x"]},
            {"images": torch.rand(1, 3, 96, 72, generator=g) * 255, "categories": ["y"]},
        ],
        [{"images": torch.empty(0, 3, 1, 1), "categories": []}],  # unreadable video
        [{"images": torch.rand(1, 3, 80, 64, generator=g) * 255, "categories": ["y"]}],
    ]


@pytest.mark.parametrize("sampler_type", ["densepose_uniform", "densepose_UV_confidence"])
def test_pseudo_ground_truth_trains_the_student(sampler_type):
    torch.manual_seed(0)
    cfg = _tiny_cfg(uv_confidence=sampler_type == "densepose_UV_confidence")
    teacher = build_model(cfg)
    sampler_cfg = CfgNode(
        {"TYPE": sampler_type, "COUNT_PER_CLASS": 4, "USE_GROUND_TRUTH_CATEGORIES": False}
    )
    batches = _image_batches()
    inputs = [img for batch in batches for item in batch for img in item["images"]]
    loader = InferenceBasedLoader(
        teacher,
        batches,
        data_sampler=build_data_sampler(cfg, sampler_cfg, embedder=None),
        data_filter=ScoreBasedFilter(0.0),
        batch_size=3,
        inference_batch_size=2,
        category_to_class_mapping={"y": 1},
    )
    assert not teacher.training
    out_batches = list(loader)
    assert [len(b) for b in out_batches] == [
        3,
        1,
    ]  # 4 images with detections, lists of 3 + the rest
    samples = [s for b in out_batches for s in b]
    for sample in samples:
        image, inst = sample["image"], sample["instances"]
        assert any(
            image.shape == x.shape and torch.equal(image, x) for x in inputs
        )  # an input image, unchanged
        assert inst.image_size == tuple(image.shape[-2:])
        assert set(inst.get_fields()) == {
            "gt_boxes",
            "gt_classes",
            "gt_densepose",
            "gt_masks",
            "dataset_classes",
        }
        assert isinstance(inst.gt_densepose, DensePoseList) and len(inst.gt_densepose) == len(inst)
        assert (
            isinstance(inst.gt_masks, BitMasks)
            and inst.gt_masks.tensor.shape[1:] == image.shape[-2:]
        )
        expected_class = 1 if image.shape[-2:] != (64, 80) else 0  # "y" -> 1, "x" -> default 0
        assert inst.dataset_classes.tolist() == [expected_class] * len(inst)
        assert sample["dataset"] == ""
    # the student accepts the pseudo-GT: one training step with finite DensePose losses
    student = build_model(cfg)
    student.train()
    with EventStorage():
        losses = student(samples[:3])
    dp_losses = {k: v for k, v in losses.items() if k.startswith("loss_densepose")}
    assert {"loss_densepose_I", "loss_densepose_S"} <= set(dp_losses)
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = [p.grad for n, p in student.named_parameters() if "densepose_predictor" in n]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.fixture(scope="module")
def bootstrap_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("bootstrap")
    register_tiny_dataset("tiny_densepose_train", write_tiny_dataset(str(root / "annotated")))
    rng = np.random.default_rng(0)
    names = []
    for i in range(3):
        cv2.imwrite(str(root / f"u{i}.png"), rng.integers(0, 255, (96, 128, 3)).astype(np.uint8))
        names.append(f"u{i}.png")
    register_image_list_dataset("tiny_unlabelled", names, str(root), category="person")
    torch.manual_seed(0)
    master_path = str(root / "master.pth")
    torch.save({"model": build_model(_tiny_cfg()).state_dict()}, master_path)
    return master_path


def _bootstrap_cfg(master_path, out_dir):
    cfg = _tiny_cfg()
    cfg.OUTPUT_DIR = str(out_dir)
    cfg.SOLVER.IMS_PER_BATCH = 4
    cfg.BOOTSTRAP_MODEL.WEIGHTS = master_path
    cfg.BOOTSTRAP_MODEL.DEVICE = "cuda"  # falls back to cpu without CUDA
    cfg.BOOTSTRAP_DATASETS = [
        {
            "DATASET": "tiny_unlabelled",
            "RATIO": 1.0,
            "IMAGE_LOADER": {"TYPE": "", "BATCH_SIZE": 2, "NUM_WORKERS": 0},
            "INFERENCE": {"INPUT_BATCH_SIZE": 2, "OUTPUT_BATCH_SIZE": 2},
            "DATA_SAMPLER": {"TYPE": "densepose_uniform", "COUNT_PER_CLASS": 4},
            "FILTER": {"TYPE": "detection_score", "MIN_VALUE": 0.0},
        }
    ]
    return cfg


def test_trainer_mixes_annotated_and_bootstrapped_batches(bootstrap_setup, tmp_path, caplog):
    from densepose_ext.engine import Trainer

    cfg = _bootstrap_cfg(bootstrap_setup, tmp_path)
    loader = Trainer.build_train_loader(cfg)
    assert isinstance(loader, SampleCountingLoader)
    datasets = set()
    for _, batch in zip(range(6), loader):
        assert len(batch) == 4
        datasets.update(s.get("dataset", "") for s in batch)
    assert datasets == {"tiny_densepose_train", ""}
    if not torch.cuda.is_available():
        assert "CUDA is unavailable" in caplog.text


def test_bootstrapped_training_runs(bootstrap_setup, tmp_path):
    from densepose_ext.engine import Trainer

    cfg = _bootstrap_cfg(bootstrap_setup, tmp_path)
    # the mix of each batch is drawn at random (unseeded, as in training): 6 batches of 4 hold
    # samples of both sources but with probability 2 * 0.5**24; 2 batches failed once in ~130
    cfg.SOLVER.MAX_ITER = 6
    cfg.SOLVER.CHECKPOINT_PERIOD = 100
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    assert trainer.iter == cfg.SOLVER.MAX_ITER
    history = trainer.storage.histories()
    assert "batch/" in history and "batch/tiny_densepose_train" in history
    assert np.isfinite(history["total_loss"].latest())


class _NoDetections(torch.nn.Module):
    """Stands in for a master that finds nothing; records input sizes."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.calls = []

    def forward(self, inputs):
        from detectron2.structures import Boxes, Instances

        self.calls.append([tuple(x["image"].shape) for x in inputs])
        outputs = []
        for x in inputs:
            inst = Instances(tuple(x["image"].shape[-2:]))
            inst.pred_boxes, inst.scores = Boxes(torch.zeros(0, 4)), torch.zeros(0)
            outputs.append({"instances": inst})
        return outputs


def test_loader_without_kept_detections_yields_nothing_and_warns(caplog):
    model = _NoDetections()
    loader = InferenceBasedLoader(
        model, _image_batches(), data_filter=ScoreBasedFilter(0.5), inference_batch_size=2
    )
    loader.WARN_EVERY = 2
    assert list(loader) == []
    assert [len(c) for c in model.calls] == [2, 1, 1]  # groups of INPUT_BATCH_SIZE per loader batch
    assert "consecutive images gave no pseudo ground truth" in caplog.text
