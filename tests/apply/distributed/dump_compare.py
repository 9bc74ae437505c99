"""Helpers for the distributed tests: the apply_net test helpers, and a comparison of two dumps."""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apply_net_helpers import (  # noqa: E402,F401  (re-exported)
    QUAD_MESH,
    TINY_CONFIG,
    TINY_CSE_CONFIG,
    make_tiny_checkpoint,
    register_quad_mesh,
    write_test_images,
    write_test_video,
)


def assert_same_values(a, b, where: str = "record") -> None:
    """Deep equality of dump records: same types, keys, order, tensor dtypes, shapes and values."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert_same_values(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same_values(x, y, f"{where}[{k}]")
    elif hasattr(a, "__dict__"):
        assert_same_values(vars(a), vars(b), where)
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_dump(one: Path, other: Path, formats) -> None:
    """`one` and `other` are the --output paths of two dumps (per-image files in <stem>/)."""
    if "pkl" in formats:
        a = torch.load(one, weights_only=False)
        b = torch.load(other, weights_only=False)
        assert [r["file_name"] for r in a] == [r["file_name"] for r in b]
        assert_same_values(a, b)
    if "json" in formats:
        a, b = one.with_suffix(".json"), other.with_suffix(".json")
        assert a.read_text() == b.read_text()
        assert json.loads(a.read_text())["images"]
    folder_a, folder_b = one.with_suffix(""), other.with_suffix("")
    if {"npz", "iuv_png"} & set(formats):
        names = sorted(p.name for p in folder_a.iterdir())
        assert names and names == sorted(p.name for p in folder_b.iterdir())
        for name in names:
            if name.endswith(".png"):
                assert (folder_a / name).read_bytes() == (folder_b / name).read_bytes(), name
            else:  # the zip entries of .npz carry their write time: compare the arrays
                with np.load(folder_a / name) as x, np.load(folder_b / name) as y:
                    assert sorted(x.files) == sorted(y.files), name
                    for key in x.files:
                        np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}:{key}")
