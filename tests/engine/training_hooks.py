"""Trainer hooks shared by the training tests."""

from detectron2.engine import HookBase


class LossRecorder(HookBase):
    """Keeps the latest value of every loss after each step (one dict per iteration)."""

    def __init__(self):
        self.losses = []

    def after_step(self):
        self.losses.append(
            {k: v.latest() for k, v in self.trainer.storage.histories().items() if "loss" in k}
        )
