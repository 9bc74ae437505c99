"""Helpers for apply_net tests: a tiny chart DensePose model with random weights, test images."""

import pickle
from pathlib import Path

import cv2
import numpy as np
import torch

TINY_CONFIG = Path(__file__).resolve().parent / "tiny_densepose_rcnn_R_18_FPN.yaml"
TINY_CSE_CONFIG = Path(__file__).resolve().parent / "tiny_densepose_rcnn_R_18_FPN_cse.yaml"
QUAD_MESH = "apply_net_test_quad"  # the mesh of TINY_CSE_CONFIG


def make_tiny_checkpoint(path: Path, config: Path = TINY_CONFIG, seed: int = 0) -> Path:
    """Random weights with biases set so that an untrained model still detects and segments.

    Box classifier: zero weights, bias favouring class 0 -> every kept proposal scores ~0.998.
    DensePose: coarse foreground bias +3; U/V layers scaled down around 0.5 so most values lie
    in [0, 1] (a few do not, which exercises clamping).
    """
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.config import get_cfg
    from detectron2.modeling import build_model

    from densepose_ext import add_densepose_config

    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(config))
    torch.manual_seed(seed)
    model = build_model(cfg)
    with torch.no_grad():
        box = model.roi_heads.box_predictor
        box.cls_score.weight.zero_()
        box.cls_score.bias.copy_(torch.tensor([3.0, -3.0]))
        dp = model.roi_heads.densepose_predictor
        coarse = dp.ann_index_lowres if hasattr(dp, "ann_index_lowres") else dp.coarse_segm_lowres
        coarse.bias.copy_(torch.tensor([-3.0, 3.0]))
        if (
            model.roi_heads.embedder is not None
        ):  # CSE: zero-initialised vertex embeddings -> random
            for param in model.roi_heads.embedder.parameters():
                param.normal_()
        for name in ("u_lowres", "v_lowres"):  # chart models only
            if hasattr(dp, name):
                getattr(dp, name).weight.mul_(0.05)
                getattr(dp, name).bias.fill_(0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    DetectionCheckpointer(model, save_dir=str(path.parent)).save(path.stem)
    return path.parent / (path.stem + ".pth")


def draw_test_image(height: int, width: int, seed: int) -> np.ndarray:
    """A BGR uint8 image with a textured background and a few filled ellipses ("people")."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
    for _ in range(3):
        center = (int(rng.integers(20, width - 20)), int(rng.integers(20, height - 20)))
        axes = (int(rng.integers(8, width // 4)), int(rng.integers(15, height // 3)))
        color = tuple(int(c) for c in rng.integers(80, 255, size=3))
        cv2.ellipse(image, center, axes, 0, 0, 360, color, -1)
    return image


def write_test_images(folder: Path, sizes: dict) -> Path:
    """`draw_test_image`s named and sized by `sizes` ({file name: (height, width)}) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, (h, w)) in enumerate(sizes.items()):
        cv2.imwrite(str(folder / name), draw_test_image(h, w, seed))
    return folder


def write_test_video(path: Path, num_frames: int, fps: float) -> Path:
    """An MJPG video of `num_frames` 96 x 128 `draw_test_image`s (seeds 0, 1, ...)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (128, 96))
    for seed in range(num_frames):
        writer.write(draw_test_image(96, 128, seed))
    writer.release()
    return path


def register_quad_mesh(folder: Path) -> str:
    """Registers a 4-vertex mesh with texture coordinates (files written to `folder`)."""
    from densepose_ext.data.meshes import MeshInfo, register_mesh

    folder.mkdir(parents=True, exist_ok=True)
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.float64)
    with open(folder / "quad.pkl", "wb") as f:
        pickle.dump({"vertices": vertices, "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    with open(folder / "quad_texcoords.pkl", "wb") as f:
        pickle.dump(np.array([[0, 0], [1, 0], [0.5, 0.5], [0, 1]], dtype=np.float32), f)
    register_mesh(
        MeshInfo(
            QUAD_MESH, data=str(folder / "quad.pkl"), texcoords=str(folder / "quad_texcoords.pkl")
        )
    )
    return QUAD_MESH


def read_video(path) -> tuple:
    """(every decoded BGR frame, the container's frame rate) of a written video."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps
