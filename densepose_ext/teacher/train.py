"""The teacher's training loop (single process, CPU or GPU) with a progress bar and a log.

Point-input teachers are trained to inpaint: every iteration shows each crop a random fraction of
its annotated points and supervises the others, the task they face when filling in a person.
"""

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from tqdm import tqdm

from .checkpoint import save_teacher
from .crops import PersonCrop
from .inputs import teacher_input
from .loss import TeacherLossWeights, teacher_loss
from .model import TeacherConfig, TeacherNet

__all__ = ["TrainSettings", "make_batch", "train_teacher"]

logger = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Optimisation settings: Adam with a cosine learning-rate decay to 0 over `iterations`.

    `shown_fraction`: range of the fraction of points a point-input teacher sees per crop.
    """

    iterations: int = 2000
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    log_period: int = 50
    shown_fraction: Tuple[float, float] = (0.3, 0.9)
    loss: TeacherLossWeights = field(default_factory=TeacherLossWeights)


def make_batch(
    crops: List[PersonCrop],
    config: TeacherConfig,
    rng: np.random.Generator,
    shown_fraction: Tuple[float, float] = (0.3, 0.9),
) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Inputs [B, C_in, S, S] and the supervised points (`crop_indices`, x, y, i, u, v) of `crops`.

    Without point input every point is supervised. With it, each crop shows a random subset of
    its points (fraction drawn from `shown_fraction`) and the rest are supervised (all of them if
    that leaves none).
    """
    inputs, targets = [], {k: [] for k in ("crop_indices", "x", "y", "i", "u", "v")}
    for index, crop in enumerate(crops):
        n = crop.x.size
        keep = np.zeros(n, bool)
        if config.point_input and n > 1:
            fraction = rng.uniform(*shown_fraction)
            keep[rng.permutation(n)[: int(round(fraction * n))]] = True
        supervised = ~keep if (~keep).any() else np.ones(n, bool)
        inputs.append(teacher_input(crop, config, keep))
        targets["crop_indices"].append(np.full(int(supervised.sum()), index, np.int64))
        for name in ("x", "y", "i", "u", "v"):
            targets[name].append(getattr(crop, name)[supervised])
    batch = torch.from_numpy(np.stack(inputs))
    return batch, {k: torch.from_numpy(np.concatenate(v)) for k, v in targets.items()}


def _file_logger(output_dir: str) -> logging.Handler:
    handler = logging.FileHandler(os.path.join(output_dir, "log.txt"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    return handler


def train_teacher(
    crops: List[PersonCrop],
    output_dir: str,
    config: Optional[TeacherConfig] = None,
    settings: Optional[TrainSettings] = None,
    progress: bool = True,
) -> TeacherNet:
    """Trains a teacher on `crops`; writes `log.txt`, `metrics.jsonl` and `teacher.pth` into
    `output_dir` and returns the model (eval mode)."""
    config = config or TeacherConfig()
    settings = settings or TrainSettings()
    if not crops:
        raise ValueError("no person crops to train on (annotations need dp_I/U/V and dp_masks)")
    sizes = {c.size for c in crops}
    if sizes != {config.crop_size}:
        raise ValueError(f"crops of size {sorted(sizes)} for a teacher of {config.crop_size}")
    os.makedirs(output_dir, exist_ok=True)
    handler = _file_logger(output_dir)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        model = _train(crops, output_dir, config, settings, progress)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return model


def _train(crops, output_dir, config, settings, progress) -> TeacherNet:
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    model = TeacherNet(config).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: 0.5 * (1 + math.cos(math.pi * it / settings.iterations))
    )
    logger.info(
        f"teacher: {len(crops)} crops, {sum(p.numel() for p in model.parameters())} parameters, "
        f"config {config.to_dict()}, settings {asdict(settings)}"
    )
    metrics_file = open(os.path.join(output_dir, "metrics.jsonl"), "w")
    bar = tqdm(range(settings.iterations), disable=not progress, desc="teacher", leave=False)
    running: Dict[str, float] = {}
    try:
        for it in bar:
            picks = rng.choice(len(crops), min(settings.batch_size, len(crops)), replace=False)
            batch, target = make_batch(
                [crops[k] for k in picks], config, rng, settings.shown_fraction
            )
            losses = teacher_loss(model(batch), **target, weights=settings.loss)
            total = sum(losses.values())
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            schedule.step()
            for k, value in losses.items():
                running[k] = running.get(k, 0.0) + value.item()
            if (it + 1) % settings.log_period == 0 or it + 1 == settings.iterations:
                count = (
                    settings.log_period
                    if (it + 1) % settings.log_period == 0
                    else (it + 1) % settings.log_period
                )
                means = {k: round(v / count, 5) for k, v in running.items()}
                running = {}
                record = dict(iteration=it + 1, lr=schedule.get_last_lr()[0], **means)
                metrics_file.write(json.dumps(record) + "\n")
                metrics_file.flush()
                logger.info(f"iter {it + 1}: {means}")
                bar.set_postfix(means)
    finally:
        metrics_file.close()
    model.eval()
    save_teacher(model, os.path.join(output_dir, "teacher.pth"))
    logger.info(f"saved {os.path.join(output_dir, 'teacher.pth')}")
    return model
