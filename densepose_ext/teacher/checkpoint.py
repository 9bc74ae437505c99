"""Saving and loading a trained teacher (weights + `TeacherConfig` in one file)."""

import os

import torch

from .model import TeacherConfig, TeacherNet

__all__ = ["load_teacher", "save_teacher"]


def save_teacher(model: TeacherNet, path: str) -> None:
    """Writes `{"config": TeacherConfig as dict, "model": state dict}` to `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"config": model.config.to_dict(), "model": model.state_dict()}, path)


def load_teacher(path: str) -> TeacherNet:
    """The teacher saved at `path`, in eval mode on the CPU."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"teacher weights {path!r} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = TeacherNet(TeacherConfig(**state["config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise ValueError(f"{path!r} is not a teacher checkpoint: {e}") from e
    return model.eval()
