"""Shared test fixtures: locations of the repository, its configs and the test data.

Where each fixture or real data file comes from is decided in `fixture_paths.py`.
"""

from pathlib import Path

import pytest
import torch
from fixture_paths import REPO_ROOT, find_data_file

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="module")
def transform_data(tmp_path_factory):
    """Flip tables for the flip mechanics: the real UV_symmetry_transforms.mat when present,
    otherwise the synthetic body's tables (same format; `tests/structures/test_transform_data.py`
    checks the real file itself)."""
    from densepose_ext.structures.transform_data import DensePoseTransformData

    path = find_data_file("uv/UV_symmetry_transforms.mat")
    if path is None:
        from densepose_ext.data.synthetic.body_files import _save_flip_tables

        path = tmp_path_factory.mktemp("flip") / "UV_symmetry_transforms_synthetic.mat"
        _save_flip_tables(str(path))
    return DensePoseTransformData.load(str(path))
