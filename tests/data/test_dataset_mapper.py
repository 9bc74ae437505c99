import pickle

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.structures import BoxMode
from pycocotools import mask as mask_utils

from densepose_ext import add_densepose_config
from densepose_ext.data.dataset_mapper import DatasetMapper
from densepose_ext.data.meshes.catalog import MeshCatalog, MeshInfo, register_mesh
from densepose_ext.structures.densepose_list import DensePoseList
from densepose_ext.structures.transform_data import (
    MASK_LABEL_SYMMETRIES,
    POINT_LABEL_SYMMETRIES,
    DensePoseTransformData,
)

H, W = 60, 80
MESH = "mapper_test_quad"


def _rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _tables() -> DensePoseTransformData:
    """U -> 1 - floor(255 u) / 255 (any part), V -> floor(255 v) / 255 + part / 1000."""
    cols = torch.arange(256, dtype=torch.float32)[None, :].expand(256, 256) / 255
    rows = torch.arange(256, dtype=torch.float32)[:, None].expand(256, 256) / 255
    return DensePoseTransformData(
        torch.tensor(MASK_LABEL_SYMMETRIES),
        torch.tensor(POINT_LABEL_SYMMETRIES),
        {
            "U_transforms": torch.stack([1 - cols] * 24),
            "V_transforms": torch.stack([rows + p / 1000 for p in range(24)]),
        },
    )


@pytest.fixture(scope="module")
def quad_mesh(tmp_path_factory):
    """A 4-vertex mesh whose symmetry swaps 0 <-> 1 and 2 <-> 3."""
    d = tmp_path_factory.mktemp("mesh")
    with open(d / "mesh.pkl", "wb") as f:
        pickle.dump(
            {
                "vertices": np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float),
                "faces": np.array([[0, 1, 2], [1, 3, 2]]),
            },
            f,
        )
    with open(d / "sym.pkl", "wb") as f:
        pickle.dump({"vertex_transforms": np.array([1, 0, 3, 2])}, f)
    register_mesh(MeshInfo(name=MESH, data=str(d / "mesh.pkl"), symmetry=str(d / "sym.pkl")))
    return MESH


def _record(tmp_path, with_cse: bool = False) -> dict:
    image = np.zeros((H, W, 3), np.uint8)
    image[:, :40] = 200  # left half bright
    path = str(tmp_path / "im.png")
    cv2.imwrite(path, image)
    segm = np.zeros((256, 256), bool)
    segm[:, :64] = True  # part 2 (right hand) occupies the left quarter of the box
    ann = {
        "bbox": [10.0, 5.0, 20.0, 40.0],
        "bbox_mode": BoxMode.XYWH_ABS,
        "category_id": 0,
        "iscrowd": 0,
        "dp_x": [16.0, 200.0],
        "dp_y": [32.0, 128.0],
        "dp_I": [5.0, 2.0],
        "dp_U": [0.25, 0.75],
        "dp_V": [0.5, 0.1],
        "dp_masks": [[], _rle(segm)] + [[] for _ in range(12)],
    }
    if with_cse:
        ann.update({"dp_vertex": [0, 2], "ref_model": MESH})
    plain = {
        "bbox": [50.0, 10.0, 10.0, 10.0],
        "bbox_mode": BoxMode.XYWH_ABS,
        "category_id": 0,
        "iscrowd": 0,
    }
    crowd = dict(plain, iscrowd=1)
    return {
        "file_name": path,
        "height": H,
        "width": W,
        "image_id": 7,
        "annotations": [ann, plain, crowd],
    }


def _mapper(flip: bool, **kwargs) -> DatasetMapper:
    augs = [T.ResizeShortestEdge(120, 1000)]  # 60 x 80 -> 120 x 160
    if flip:
        augs.append(T.RandomFlip(prob=1.0))
    return DatasetMapper(True, augmentations=augs, densepose_transform_data=_tables(), **kwargs)


def test_flip_mirrors_points_swaps_labels_and_remaps_uv(tmp_path):
    out = _mapper(flip=True)(_record(tmp_path))
    assert out["image"].shape == (3, 120, 160)
    assert out["image"][0, 0, -1] == 200 and out["image"][0, 0, 0] == 0  # image flipped
    inst = out["instances"]
    assert len(inst) == 2  # crowd removed
    # box (10, 5, 30, 45) scaled x2 -> (20, 10, 60, 90), flipped in width 160 -> (100, 10, 140, 90)
    np.testing.assert_allclose(inst.gt_boxes.tensor[0].numpy(), [100, 10, 140, 90])
    assert isinstance(inst.gt_densepose, DensePoseList) and inst.gt_densepose[1] is None
    data = inst.gt_densepose[0]
    np.testing.assert_allclose(data.x.numpy(), [240.0, 56.0])  # x <- 256 - x
    np.testing.assert_allclose(data.y.numpy(), [32.0, 128.0])
    assert data.i.tolist() == [6, 2]  # 5 <-> 6; 2 stays (torso front/back are their own mirror)
    np.testing.assert_allclose(data.u.numpy(), [1 - 63 / 255, 1 - 191 / 255], atol=1e-6)
    np.testing.assert_allclose(
        data.v.numpy(), [127 / 255 + 4 / 1000, 25 / 255 + 1 / 1000], atol=1e-6
    )
    # mask: part 2 on the left quarter -> part 3 (left hand) on the right quarter
    assert data.segm[100, 255] == 3 and data.segm[100, 192] == 3 and data.segm[100, 191] == 0
    assert data.segm[100, 0] == 0
    assert set(torch.unique(data.segm).tolist()) == {0.0, 3.0}


def test_no_flip_keeps_annotation(tmp_path):
    out = _mapper(flip=False)(_record(tmp_path))
    data = out["instances"].gt_densepose[0]
    np.testing.assert_allclose(data.x.numpy(), [16.0, 200.0])
    assert data.i.tolist() == [5, 2]
    np.testing.assert_allclose(data.u.numpy(), [0.25, 0.75])
    assert data.segm[100, 10] == 2
    np.testing.assert_allclose(out["instances"].gt_boxes.tensor[0].numpy(), [20, 10, 60, 90])


def test_flip_maps_cse_vertices_through_mesh_symmetry(tmp_path, quad_mesh):
    out = _mapper(flip=True)(_record(tmp_path, with_cse=True))
    data = out["instances"].gt_densepose[0]
    assert data.vertex_ids.tolist() == [1, 3]
    assert data.mesh_id == MeshCatalog.get_mesh_id(MESH) and data.mesh_name == MESH
    assert data.i.tolist() == [6, 2]  # chart GT of the same annotation flipped too


def test_masks_from_densepose_when_mask_on(tmp_path):
    out = _mapper(flip=False, mask_on=True)(_record(tmp_path))
    masks = out["instances"].gt_masks.tensor  # [2, 120, 160]
    assert masks.shape == (2, 120, 160)
    # part mask covers the left quarter of box (20, 10)-(60, 90): columns 20..29
    assert masks[0, 50, 20:30].all() and not masks[0, 50, 31:60].any()
    assert not masks[0, :10].any() and not masks[1].any()  # plain annotation has no mask source


def test_test_mode_drops_annotations(tmp_path):
    mapper = DatasetMapper(
        False, augmentations=[T.ResizeShortestEdge(30, 1000)], densepose_transform_data=None
    )
    out = mapper(_record(tmp_path))
    assert "annotations" not in out and "instances" not in out
    assert out["image"].shape == (3, 30, 40)


def test_from_config_loads_tables_from_metadata(tmp_path):
    from scipy.io import savemat

    cells = np.empty((1, 24), dtype=object)
    for p in range(24):
        cells[0, p] = np.full((256, 256), p, np.uint8)
    savemat(tmp_path / "uv.mat", {"U_transforms": cells, "V_transforms": cells})
    MetadataCatalog.get("mapper_test_ds").set(densepose_transform_src=str(tmp_path / "uv.mat"))
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.DATASETS.TRAIN = ("mapper_test_ds",)
    cfg.INPUT.ROTATION_ANGLES = [0]
    mapper = DatasetMapper(cfg, True)
    assert mapper.densepose_transform_data.uv_symmetries["U_transforms"][5, 0, 0] == pytest.approx(
        5 / 255
    )
    names = [type(a).__name__ for a in mapper.augmentations.augs]
    assert names == ["ResizeShortestEdge", "RandomFlip", "RandomRotation"]
    assert not mapper.mask_on
    cfg.MODEL.ROI_DENSEPOSE_HEAD.COARSE_SEGM_TRAINED_BY_MASKS = True
    assert DatasetMapper(cfg, True).mask_on
