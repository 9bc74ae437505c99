"""Shared test fixtures: locations of the repository, its configs and ../shared data."""

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("DENSEPOSE_EXT_SHARED", REPO_ROOT.parent / "shared"))

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` (real DensePose data, fixtures, spec); tests that need it skip without it."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data directory not found: {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="module")
def transform_data(shared_dir: Path):
    """The real flip tables (the uint8 copy of UV_symmetry_transforms.mat in ../shared)."""
    from densepose_ext.structures.transform_data import DensePoseTransformData

    path = shared_dir / "data" / "uv" / "UV_symmetry_transforms_uint8.mat"
    if not path.is_file():
        pytest.skip(f"missing {path}")
    return DensePoseTransformData.load(str(path))
