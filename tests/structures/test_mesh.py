"""Mesh loading and validation from local pickles (lazily loaded extras, clear errors)."""

import pickle
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
import torch

from densepose_ext.structures.mesh import Mesh, MeshLoadError, load_mesh
from densepose_ext.utils.files import ExternalFileError


@dataclass(frozen=True)
class Info:
    name: str
    data: str
    geodists: Optional[str] = None
    symmetry: Optional[str] = None
    texcoords: Optional[str] = None


TETRA_VERTICES = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
TETRA_FACES = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], dtype=np.uint16)


def dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return str(path)


@pytest.fixture
def tetra(tmp_path):
    return Info(
        "tetra",
        dump(tmp_path / "tetra.pkl", {"vertices": TETRA_VERTICES, "faces": TETRA_FACES}),
        geodists=dump(tmp_path / "geodists_tetra.pkl", np.ones((4, 4)) - np.eye(4)),
        symmetry=dump(
            tmp_path / "symmetry_tetra.pkl", {"vertex_transforms": np.array([0, 2, 1, 3])}
        ),
        texcoords=dump(tmp_path / "texcoords_tetra.pkl", np.zeros((4, 2))),
    )


def test_loads_and_lazy_extras(tetra, tmp_path):
    mesh = load_mesh(tetra)
    assert mesh.vertices.dtype == torch.float32 and mesh.vertices.shape == (4, 3)
    assert mesh.faces.dtype == torch.int64 and mesh.faces.shape == (4, 3)
    assert mesh._geodists is None  # not read yet
    assert mesh.geodists.shape == (4, 4) and mesh.geodists.dtype == torch.float32
    transforms = mesh.symmetry["vertex_transforms"]
    assert transforms.dtype == torch.int64 and transforms.tolist() == [0, 2, 1, 3]
    assert mesh.texcoords.shape == (4, 2)
    assert mesh.num_vertices == 4


def test_missing_extras_are_reported(tmp_path):
    info = Info(
        "bare", dump(tmp_path / "bare.pkl", {"vertices": TETRA_VERTICES, "faces": TETRA_FACES})
    )
    mesh = load_mesh(info)
    with pytest.raises(MeshLoadError, match="bare.*geodesic"):
        _ = mesh.geodists


def test_mesh_from_tensors():
    mesh = Mesh(torch.zeros(3, 3), torch.tensor([[0, 1, 2]]), name="t")
    assert mesh.to("cpu").faces.tolist() == [[0, 1, 2]]


def test_missing_file(tmp_path):
    with pytest.raises(ExternalFileError, match="absent.pkl"):
        load_mesh(Info("absent", str(tmp_path / "absent.pkl")))


def test_corrupt_pickle(tmp_path):
    path = tmp_path / "broken.pkl"
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(MeshLoadError, match="broken.pkl"):
        load_mesh(Info("broken", str(path)))


@pytest.mark.parametrize(
    "content, message",
    [
        ({"vertices": TETRA_VERTICES}, "dict\\(vertices, faces\\)"),
        ([1, 2, 3], "dict\\(vertices, faces\\)"),
        ({"vertices": TETRA_VERTICES[:, :2], "faces": TETRA_FACES}, "vertices.*shape"),
        ({"vertices": TETRA_VERTICES, "faces": TETRA_FACES[:, :2]}, "faces.*shape"),
        ({"vertices": TETRA_VERTICES, "faces": TETRA_FACES + 4}, "outside \\[0, 4\\)"),
        (
            {"vertices": np.where(TETRA_VERTICES == 1, np.nan, 0.0) + 0.5, "faces": TETRA_FACES},
            "NaN",
        ),
    ],
)
def test_invalid_content(tmp_path, content, message):
    path = dump(tmp_path / "bad_mesh.pkl", content)
    with pytest.raises(MeshLoadError, match=message):
        load_mesh(Info("bad", path))


def test_all_zero_vertices_rejected_with_advice(tmp_path):
    path = dump(tmp_path / "smpl_27554.pkl", {"vertices": np.zeros((4, 3)), "faces": TETRA_FACES})
    with pytest.raises(MeshLoadError) as info:
        load_mesh(Info("smpl_27554", path))
    text = str(info.value)
    assert "smpl_27554.pkl" in text and "all 4 vertex positions are zero" in text
    assert "official download" in text and "register_mesh" in text


def test_bad_extras(tetra, tmp_path):
    bad = Info(
        "tetra",
        tetra.data,
        geodists=dump(tmp_path / "g.pkl", np.ones((3, 3))),
        symmetry=dump(tmp_path / "s.pkl", {"vertex_transforms": np.array([0, 1, 2, 9])}),
        texcoords=dump(tmp_path / "t.pkl", np.ones((4, 3))),
    )
    mesh = load_mesh(bad)
    with pytest.raises(MeshLoadError, match="geodists.*shape"):
        _ = mesh.geodists
    with pytest.raises(MeshLoadError, match="vertex_transforms"):
        _ = mesh.symmetry
    with pytest.raises(MeshLoadError, match="texcoords.*shape"):
        _ = mesh.texcoords
