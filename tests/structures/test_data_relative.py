import numpy as np
import pytest
import torch
from detectron2.data import transforms as T
from pycocotools import mask as mask_utils

from densepose_ext.structures.data_relative import DensePoseDataRelative
from densepose_ext.structures.densepose_list import DensePoseList
from densepose_ext.structures.rle import RLEError, check_rle, decode_rle, rle_run_lengths
from densepose_ext.structures.transform_data import (
    MASK_LABEL_SYMMETRIES,
    POINT_LABEL_SYMMETRIES,
    DensePoseTransformData,
)


def _rle(mask: np.ndarray, as_str: bool = True) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    if as_str:
        rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _transform_data() -> DensePoseTransformData:
    """U table: value = 1 - column / 255; V table:
    value = row / 255 + part / 1000 (identifies part)."""
    cols = torch.arange(256, dtype=torch.float32)[None, :].expand(256, 256) / 255
    rows = torch.arange(256, dtype=torch.float32)[:, None].expand(256, 256) / 255
    u = torch.stack([1 - cols for _ in range(24)])
    v = torch.stack([rows + p / 1000 for p in range(24)])
    return DensePoseTransformData(
        torch.tensor(MASK_LABEL_SYMMETRIES),
        torch.tensor(POINT_LABEL_SYMMETRIES),
        {"U_transforms": u, "V_transforms": v},
    )


def test_rle_parser_matches_pycocotools():
    rng = np.random.default_rng(0)
    for _ in range(5):
        mask = rng.random((256, 256)) > rng.random()
        rle = _rle(mask)
        runs, size = rle_run_lengths(rle)
        assert size == (256, 256)
        assert runs.sum() == 256 * 256
        assert int(mask.sum()) == int(runs[1::2].sum())
        np.testing.assert_array_equal(decode_rle(rle, (256, 256)), mask.astype(np.uint8))


def test_rle_rejects_corruption():
    rle = _rle(np.eye(256, dtype=bool))
    with pytest.raises(RLEError):
        check_rle({"counts": rle["counts"][:-3], "size": [256, 256]})  # truncated runs
    with pytest.raises(RLEError):
        check_rle({"counts": rle["counts"], "size": [128, 256]})
    with pytest.raises(RLEError):
        check_rle({"counts": [10, -3, 65529], "size": [256, 256]})
    with pytest.raises(RLEError):
        check_rle({"counts": "~~~~", "size": [256, 256]})  # ends mid-value
    check_rle({"counts": [0, 256 * 256], "size": [256, 256]})


def _annotation() -> dict:
    segm_1 = np.zeros((256, 256), bool)
    segm_1[:, :100] = True  # part 1 (torso) on the left
    segm_2 = np.zeros((256, 256), bool)
    segm_2[:50, 50:150] = True  # part 2 (right hand) on top, overlapping part 1
    return {
        "dp_x": [10.0, 128.0, 250.5],
        "dp_y": [20.0, 64.0, 255.0],
        "dp_I": [3.0, 1.0, 24.0],
        "dp_U": [0.2, 0.5, 1.0],
        "dp_V": [0.4, 0.0, 0.999],
        "dp_masks": [_rle(segm_1), _rle(segm_2)] + [[] for _ in range(12)],
        "bbox": [0, 0, 10, 10],
    }


def test_construction_and_mask_labels():
    ann = _annotation()
    data = DensePoseDataRelative(ann, cleanup=True)
    assert len(data) == 3
    assert data.i.dtype == torch.int64 and data.i.tolist() == [3, 1, 24]
    assert data.segm.shape == (256, 256) and data.segm.dtype == torch.float32
    assert data.segm[10, 60] == 2  # later part overwrites
    assert data.segm[100, 60] == 1 and data.segm[100, 200] == 0
    assert data.vertex_ids is None and data.mesh_id == -1
    assert "dp_x" not in ann and "dp_masks" not in ann and "bbox" in ann


def test_single_dict_mask_is_binary():
    ann = _annotation()
    mask = np.zeros((256, 256), bool)
    mask[5:20, 5:20] = True
    ann["dp_masks"] = _rle(mask)
    data = DensePoseDataRelative(ann)
    assert set(torch.unique(data.segm).tolist()) == {0.0, 1.0}
    assert data.segm.sum() == 15 * 15


def test_validity_checks():
    ann = _annotation()
    assert DensePoseDataRelative.has_annotation(ann)
    del ann["dp_U"]
    assert not DensePoseDataRelative.has_annotation(ann)
    with pytest.raises(ValueError, match="dp_I"):
        DensePoseDataRelative.validate_annotation(ann)
    cse = {"dp_x": [1.0], "dp_y": [2.0], "dp_vertex": [5], "ref_model": "m"}
    assert DensePoseDataRelative.has_annotation(cse)
    data = DensePoseDataRelative(cse, mesh_name_to_id=lambda name: 7)
    assert data.mesh_id == 7 and data.mesh_name == "m" and data.i is None


def test_hflip_chart_points_and_mask():
    data = DensePoseDataRelative(_annotation())
    segm_before = data.segm.clone()
    data.apply_transform(T.TransformList([T.HFlipTransform(100)]), _transform_data())
    np.testing.assert_allclose(data.x.numpy(), [246.0, 128.0, 5.5])
    np.testing.assert_allclose(data.y.numpy(), [20.0, 64.0, 255.0])
    assert data.i.tolist() == [4, 1, 23]  # 3 <-> 4, 1 stays, 24 <-> 23
    # U table of the ORIGINAL part at [floor(255 v), floor(255 u)] = 1 - floor(255 u) / 255
    np.testing.assert_allclose(data.u.numpy(), [1 - 51 / 255, 1 - 127 / 255, 0.0], atol=1e-6)
    # V table: floor(255 v) / 255 + (original part - 1) / 1000
    np.testing.assert_allclose(
        data.v.numpy(), [102 / 255 + 2 / 1000, 0.0, 254 / 255 + 23 / 1000], atol=1e-6
    )
    expected = torch.tensor(MASK_LABEL_SYMMETRIES, dtype=torch.float32)[segm_before.flip(1).long()]
    assert torch.equal(data.segm, expected)
    assert data.segm[10, 255 - 60] == 3  # right hand (2) became left hand (3)


def test_double_flip_is_identity_for_points_and_noop_for_resize():
    data = DensePoseDataRelative(_annotation())
    x0 = data.x.clone()
    flips = T.TransformList(
        [T.HFlipTransform(50), T.ResizeTransform(10, 50, 20, 100), T.HFlipTransform(100)]
    )
    data.apply_transform(flips, _transform_data())
    assert torch.equal(data.x, x0) and data.i.tolist() == [3, 1, 24]


def test_hflip_cse_vertices_needs_symmetry():
    cse = {"dp_x": [1.0, 2.0], "dp_y": [2.0, 3.0], "dp_vertex": [0, 3], "ref_model": "m"}
    data = DensePoseDataRelative(cse)
    with pytest.raises(ValueError, match="symmetry"):
        data.apply_transform(T.TransformList([T.HFlipTransform(10)]))
    data.apply_transform(T.TransformList([T.HFlipTransform(10)]), None, torch.tensor([1, 0, 3, 2]))
    assert data.vertex_ids.tolist() == [1, 2]


def test_rotation_by_180_degrees():
    data = DensePoseDataRelative(_annotation())
    segm = data.segm.clone()
    rotation = T.RotationTransform(h=64, w=128, angle=180, expand=False)
    data.apply_transform(T.TransformList([rotation]))
    # rotation about the image centre: (x, y) -> (256 - x, 256 - y) in the box frame
    np.testing.assert_allclose(data.x.numpy(), [246.0, 128.0, 5.5], atol=1e-3)
    np.testing.assert_allclose(data.y.numpy(), [236.0, 192.0, 1.0], atol=1e-3)
    assert data.segm.shape == (256, 256)
    # nearest resampling through a 64 x 128 frame: compare coarse structure
    assert data.segm[128, 250] == 1 and data.segm[128, 10] == 0
    assert torch.equal(data.segm.sum() > 0, segm.sum() > 0)


def test_densepose_list_indexing_and_device():
    datas = [DensePoseDataRelative(_annotation()), None, DensePoseDataRelative(_annotation())]
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 5, 5], [2, 2, 8, 9]], dtype=torch.float32)
    lst = DensePoseList(datas, boxes, (20, 30))
    assert len(lst) == 3 and lst[1] is None and isinstance(lst[0], DensePoseDataRelative)
    sub = lst[torch.tensor([False, True, True])]
    assert len(sub) == 2 and sub[0] is None and torch.equal(sub.boxes_xyxy_abs, boxes[1:])
    assert len(lst[1:]) == 2 and len(lst[[2, 0]]) == 2
    assert torch.equal(lst[[2, 0]].boxes_xyxy_abs, boxes[[2, 0]])
    assert list(iter(lst))[1] is None
    assert lst.to("cpu") is lst
    cat = DensePoseList.cat([lst, sub])
    assert len(cat) == 5 and cat.boxes_xyxy_abs.shape == (5, 4)
    with pytest.raises(ValueError):
        DensePoseList(datas, boxes[:2], (20, 30))
