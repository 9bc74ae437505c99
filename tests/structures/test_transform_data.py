"""The real flip tables (UV_symmetry_transforms.mat, official floats or the uint8 copy) load."""

import torch
from fixture_paths import data_file

from densepose_ext.structures.transform_data import (
    MASK_LABEL_SYMMETRIES,
    POINT_LABEL_SYMMETRIES,
    DensePoseTransformData,
)


def test_real_flip_tables():
    data = DensePoseTransformData.load(str(data_file("uv/UV_symmetry_transforms.mat")))
    assert data.mask_label_symmetries.tolist() == list(MASK_LABEL_SYMMETRIES)
    assert data.point_label_symmetries.tolist() == list(POINT_LABEL_SYMMETRIES)
    for key in ("U_transforms", "V_transforms"):
        table = data.uv_symmetries[key]
        assert table.shape == (24, 256, 256) and table.dtype == torch.float32
        assert 0.0 <= float(table.min()) and float(table.max()) <= 1.0
        assert float(table.std()) > 0.1  # real content, not a constant
