"""`Trainer`: detectron2's `DefaultTrainer` with DensePose data, evaluators, optimiser and TTA.

Differences from `DefaultTrainer`: DensePose train / test loaders and mapper; the evaluators of
`evaluation.build_densepose_evaluators` (the CSE embedder is passed to the DensePose one); SGD or
AdamW (`SOLVER.OPTIMIZER`) with LR multipliers for parameters named `features` / `embeddings`;
multi-process training also works on CPU (gloo, DDP without device ids).
"""

import logging
import os
import weakref
from collections import OrderedDict
from typing import Any, Optional

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.engine import DefaultTrainer, SimpleTrainer, TrainerBase
from detectron2.engine.train_loop import AMPTrainer
from detectron2.evaluation import (
    DatasetEvaluator,
    DatasetEvaluators,
    inference_on_dataset,
    print_csv_format,
)
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger
from torch.nn.parallel import DistributedDataParallel

from ..data.bootstrap import (
    build_bootstrap_train_loader,
    build_master_model,
    has_bootstrap_datasets,
)
from ..data.build import build_detection_test_loader, build_detection_train_loader
from ..data.dataset_mapper import DatasetMapper, load_densepose_transform_data
from ..evaluation.build import build_densepose_evaluators

__all__ = ["Trainer", "create_ddp_model", "extract_embedder"]

logger = logging.getLogger(__name__)


def create_ddp_model(model: torch.nn.Module, **kwargs) -> torch.nn.Module:
    """DDP-wraps `model` when there are several processes; CPU models get `device_ids=None`."""
    if comm.get_world_size() == 1:
        return model
    on_cpu = next(model.parameters()).device.type == "cpu"
    if "device_ids" not in kwargs:
        kwargs["device_ids"] = None if on_cpu else [comm.get_local_rank()]
    return DistributedDataParallel(model, **kwargs)


def extract_embedder(model: torch.nn.Module) -> Optional[torch.nn.Module]:
    """`roi_heads.embedder` of a (possibly DDP-wrapped) model, or None."""
    if isinstance(model, DistributedDataParallel):
        model = model.module
    roi_heads = getattr(model, "roi_heads", None)
    return getattr(roi_heads, "embedder", None)


class Trainer(DefaultTrainer):
    """Training / evaluation of DensePose models with the stock detectron2 loop and hooks."""

    def __init__(self, cfg):
        # DefaultTrainer.__init__, with a DDP wrapper that also works for CPU models
        TrainerBase.__init__(self)
        if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
            setup_logger()
        cfg = DefaultTrainer.auto_scale_workers(cfg, comm.get_world_size())
        model = self.build_model(cfg)
        optimizer = self.build_optimizer(cfg, model)
        data_loader = self.build_train_loader(cfg)
        model = create_ddp_model(model, broadcast_buffers=False)
        self._trainer = (AMPTrainer if cfg.SOLVER.AMP.ENABLED else SimpleTrainer)(
            model, data_loader, optimizer
        )
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        self.checkpointer = DetectionCheckpointer(
            model, cfg.OUTPUT_DIR, trainer=weakref.proxy(self)
        )
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    # ------------------------------------------------------------------ data
    @classmethod
    def build_train_loader(cls, cfg):
        loader = build_detection_train_loader(cfg, mapper=DatasetMapper(cfg, True))
        if not has_bootstrap_datasets(cfg):
            return loader
        # bootstrapping: annotated batches mixed with the master model's pseudo-GT (data/bootstrap)
        master = build_master_model(cfg, cls.build_model)
        return build_bootstrap_train_loader(cfg, loader, master, extract_embedder(master))

    @classmethod
    def build_test_loader(cls, cfg, dataset_name: str):
        return build_detection_test_loader(cfg, dataset_name, mapper=DatasetMapper(cfg, False))

    # ------------------------------------------------------------------ optimiser
    @classmethod
    def build_optimizer(cls, cfg, model: torch.nn.Module) -> torch.optim.Optimizer:
        """SGD (default) or AdamW (`SOLVER.OPTIMIZER`) over detectron2's default parameter groups;
        `features` / `embeddings` get the CSE LR factors;
        `SOLVER.CLIP_GRADIENTS` applies to both."""
        base_lr = cfg.SOLVER.BASE_LR
        cse = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE
        params = get_default_optimizer_params(
            model,
            base_lr=base_lr,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
            bias_lr_factor=cfg.SOLVER.BIAS_LR_FACTOR,
            weight_decay_bias=cfg.SOLVER.WEIGHT_DECAY_BIAS,
            overrides={
                "features": {"lr": base_lr * cse.FEATURES_LR_FACTOR},
                "embeddings": {"lr": base_lr * cse.EMBEDDING_LR_FACTOR},
            },
        )
        name = cfg.SOLVER.get("OPTIMIZER", "SGD").upper()
        if name == "SGD":
            return maybe_add_gradient_clipping(cfg, torch.optim.SGD)(
                params,
                lr=base_lr,
                momentum=cfg.SOLVER.MOMENTUM,
                nesterov=cfg.SOLVER.NESTEROV,
                weight_decay=cfg.SOLVER.WEIGHT_DECAY,
            )
        if name == "ADAMW":
            return maybe_add_gradient_clipping(cfg, torch.optim.AdamW)(
                params, lr=base_lr, weight_decay=cfg.SOLVER.WEIGHT_DECAY
            )
        raise ValueError(f"SOLVER.OPTIMIZER must be 'SGD' or 'ADAMW', got {cfg.SOLVER.OPTIMIZER!r}")

    # ------------------------------------------------------------------ evaluation
    @classmethod
    def build_evaluator(
        cls,
        cfg,
        dataset_name: str,
        output_folder: Optional[str] = None,
        embedder: Optional[torch.nn.Module] = None,
    ) -> DatasetEvaluator:
        """The evaluators of `build_densepose_evaluators` (COCO boxes, DensePose when DENSEPOSE_ON);
        results go to `output_folder` (default OUTPUT_DIR/inference)."""
        if output_folder is None:
            output_folder = os.path.join(cfg.OUTPUT_DIR, "inference")
        return DatasetEvaluators(
            build_densepose_evaluators(cfg, dataset_name, output_folder, embedder)
        )

    @classmethod
    def test(cls, cfg, model: torch.nn.Module, evaluators: Optional[Any] = None):
        """Evaluates on every DATASETS.TEST; with DISTRIBUTED_INFERENCE False only the main
        process runs inference (other processes return {})."""
        if isinstance(evaluators, DatasetEvaluator):
            evaluators = [evaluators]
        if evaluators is not None and len(evaluators) != len(cfg.DATASETS.TEST):
            raise ValueError(f"{len(evaluators)} evaluators for {len(cfg.DATASETS.TEST)} test sets")
        distributed = cfg.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE
        embedder = extract_embedder(model)
        results = OrderedDict()
        for index, dataset_name in enumerate(cfg.DATASETS.TEST):
            if not distributed and not comm.is_main_process():
                results[dataset_name] = {}
                continue
            data_loader = cls.build_test_loader(cfg, dataset_name)
            if evaluators is not None:
                evaluator = evaluators[index]
            else:
                evaluator = cls.build_evaluator(cfg, dataset_name, embedder=embedder)
            results[dataset_name] = inference_on_dataset(model, data_loader, evaluator)
            if comm.is_main_process():
                logger.info(f"Evaluation results for {dataset_name} in csv format:")
                print_csv_format(results[dataset_name])
        if not distributed:
            comm.synchronize()
        return list(results.values())[0] if len(results) == 1 else results

    @classmethod
    def test_with_TTA(cls, cfg, model: torch.nn.Module):
        """Evaluation with `DensePoseGeneralizedRCNNWithTTA`; result keys get a `_TTA` suffix."""
        from ..modeling.tta import DensePoseGeneralizedRCNNWithTTA

        logger.info("Running inference with test-time augmentation ...")
        if isinstance(model, DistributedDataParallel):
            model = model.module
        transform_data = load_densepose_transform_data(cfg)
        tta_model = DensePoseGeneralizedRCNNWithTTA(cfg, model, transform_data)
        embedder = extract_embedder(model)
        evaluators = [
            cls.build_evaluator(
                cfg,
                name,
                output_folder=os.path.join(cfg.OUTPUT_DIR, "inference_TTA"),
                embedder=embedder,
            )
            for name in cfg.DATASETS.TEST
        ]
        results = cls.test(cfg, tta_model, evaluators)
        if len(cfg.DATASETS.TEST) == 1:
            return OrderedDict((k + "_TTA", v) for k, v in results.items())
        return OrderedDict(
            (name, OrderedDict((k + "_TTA", v) for k, v in res.items()))
            for name, res in results.items()
        )
