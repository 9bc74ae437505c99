"""`InferenceBasedLoader`: unlabelled images -> master-model predictions -> pseudo-GT training
samples."""

import logging
import random
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

import torch
from torch import nn

__all__ = ["InferenceBasedLoader", "images_and_categories"]

logger = logging.getLogger(__name__)


def images_and_categories(batch: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Flattens dataset items {"images": [F, 3, H, W], "categories": [c] or [F]} into per-image
    dicts
    {"image": [3, H, W], "category": c}. A single category applies to every image of the item."""
    pairs = []
    for item in batch:
        images, categories = item["images"], list(item.get("categories", []))
        if len(categories) == 1 and len(images) > 1:
            categories = categories * len(images)
        if len(categories) < len(images):
            categories = categories + [None] * (len(images) - len(categories))
        pairs.extend(
            {"image": image, "category": category} for image, category in zip(images, categories)
        )
    return pairs


class InferenceBasedLoader:
    """Runs `model` (in eval mode, no gradients) on images from `data_loader` and yields lists of
    `output_batch_size` training samples {"image", "instances", "dataset"} built by `data_filter`
    and `data_sampler` from the predictions. Images without any kept instance are skipped; the
    last, possibly shorter, list is yielded when `data_loader` ends.
    """

    def __init__(
        self,
        model: nn.Module,
        data_loader: Iterable[List[Dict[str, Any]]],
        data_sampler: Optional[Callable] = None,
        data_filter: Optional[Callable] = None,
        shuffle: bool = True,
        batch_size: int = 4,
        inference_batch_size: int = 4,
        drop_last: bool = False,
        category_to_class_mapping: Optional[Dict[str, int]] = None,
    ):
        self.model = model
        self.model.eval()
        self.data_loader = data_loader
        self.data_sampler = data_sampler
        self.data_filter = data_filter
        self.shuffle = shuffle
        self.batch_size = int(batch_size)
        self.inference_batch_size = int(inference_batch_size)
        self.drop_last = drop_last
        self.category_to_class_mapping = dict(category_to_class_mapping or {})
        self.images_without_samples = 0  # consecutive images whose detections were all dropped

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __iter__(self) -> Iterator[List[Dict[str, Any]]]:
        pending: List[Dict[str, Any]] = []
        for batch in self.data_loader:
            pairs = images_and_categories(batch)
            pairs = [p for p in pairs if p["image"].numel() > 0 and p["image"].dim() == 3]
            if self.shuffle:
                random.shuffle(pairs)
            for start in range(0, len(pairs), self.inference_batch_size):
                pending.extend(
                    self._pseudo_annotate(pairs[start : start + self.inference_batch_size])
                )
                while len(pending) >= self.batch_size:
                    yield pending[: self.batch_size]
                    pending = pending[self.batch_size :]
        if pending and not self.drop_last:
            yield pending

    def _pseudo_annotate(self, pairs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """One teacher forward over `pairs`; returns the samples that keep at least one instance."""
        device = self.device
        inputs = [{"image": p["image"].to(device), "category": p["category"]} for p in pairs]
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            outputs = self.model(inputs)
        self.model.train(was_training)
        if len(outputs) != len(inputs):
            raise RuntimeError(f"model returned {len(outputs)} outputs for {len(inputs)} images")
        samples = []
        for output, inp in zip(outputs, inputs):
            instances = output["instances"]
            class_id = self.category_to_class_mapping.get(inp["category"], 0)
            instances.dataset_classes = torch.full(
                (len(instances),),
                class_id,
                dtype=torch.int64,
                device=instances.pred_boxes.tensor.device,
            )
            samples.append({"image": inp["image"], "instances": instances})
        if self.data_filter is not None:
            samples = self.data_filter(samples)
        if self.data_sampler is not None:
            samples = self.data_sampler(samples)
        kept = [s for s in samples if len(s["instances"]) > 0]
        self._watch_empty(len(pairs), len(kept))
        return kept

    WARN_EVERY = 200

    def _watch_empty(self, num_images: int, num_kept: int) -> None:
        """Warns when many consecutive images give no pseudo-GT (e.g. a too strict
        FILTER.MIN_VALUE):
        the loader would then run the teacher indefinitely without yielding."""
        if num_kept:
            self.images_without_samples = 0
            return
        before = self.images_without_samples
        self.images_without_samples += num_images
        if self.images_without_samples // self.WARN_EVERY > before // self.WARN_EVERY:
            logger.warning(
                f"{self.images_without_samples} consecutive images gave no pseudo ground truth "
                "(no detection passed the filter); check the master model and FILTER.MIN_VALUE"
            )
