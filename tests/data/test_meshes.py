"""Mesh catalog: built-in names, ids and URLs; user registration; real meshes (fixture_paths)."""

import pickle

import numpy as np
import pytest
from fixture_paths import data_file

from densepose_ext.data.meshes import (
    BUILTIN_MESH_NAMES,
    BUILTIN_MESHES_BASE_URL,
    MeshCatalog,
    MeshInfo,
    create_mesh,
    register_mesh,
)
from densepose_ext.data.meshes.catalog import _MeshCatalog

SPEC_ORDER = [
    "smpl_27554",
    "chimp_5029",
    "cat_5001",
    "cat_7466",
    "sheep_5004",
    "zebra_5002",
    "horse_5004",
    "giraffe_5002",
    "elephant_5002",
    "dog_5002",
    "dog_7466",
    "cow_5002",
    "bear_4936",
]


def test_builtin_meshes_ids_and_urls():
    assert list(BUILTIN_MESH_NAMES) == SPEC_ORDER
    for i, name in enumerate(SPEC_ORDER):
        assert MeshCatalog.get_mesh_id(name) == i
        assert MeshCatalog.get_mesh_name(i) == name
    assert BUILTIN_MESHES_BASE_URL == "https://dl.fbaipublicfiles.com/densepose/meshes/"
    info = MeshCatalog.get("chimp_5029")
    assert info.data == BUILTIN_MESHES_BASE_URL + "chimp_5029.pkl"
    assert info.geodists == BUILTIN_MESHES_BASE_URL + "geodists/geodists_chimp_5029.pkl"
    assert info.symmetry == BUILTIN_MESHES_BASE_URL + "symmetry/symmetry_chimp_5029.pkl"
    assert info.texcoords == BUILTIN_MESHES_BASE_URL + "texcoords/texcoords_chimp_5029.pkl"
    assert MeshCatalog.get("horse_5004").texcoords.endswith("texcoords/texcoords_zebra_5002.pkl")


def test_catalog_registration_semantics():
    catalog = _MeshCatalog()
    catalog.register(MeshInfo("a", "a.pkl"))
    catalog.register(MeshInfo("b", "b.pkl"))
    catalog.register(MeshInfo("a", "a2.pkl"))  # replaced, id kept
    assert catalog.names() == ["a", "b"]
    assert catalog.get_mesh_id("a") == 0 and catalog.get("a").data == "a2.pkl"
    with pytest.raises(KeyError, match="zzz"):
        catalog.get("zzz")
    with pytest.raises(KeyError):
        catalog.get_mesh_name(7)
    with pytest.raises(TypeError):
        catalog.register({"name": "x"})


def test_register_user_mesh_and_cache(tmp_path):
    path = tmp_path / "tri.pkl"
    with open(path, "wb") as f:
        pickle.dump({"vertices": np.eye(3), "faces": np.array([[0, 1, 2]])}, f)
    register_mesh(MeshInfo(name="test_user_tri", data=str(path)))
    assert "test_user_tri" in MeshCatalog.names()
    mesh = create_mesh("test_user_tri", "cpu")
    assert mesh.vertices.shape == (3, 3)
    assert create_mesh("test_user_tri", "cpu") is mesh  # cached
    # re-registering other files is picked up (the cache is keyed by the files)
    path2 = tmp_path / "tri2.pkl"
    with open(path2, "wb") as f:
        pickle.dump({"vertices": 2 * np.eye(3), "faces": np.array([[0, 2, 1]])}, f)
    register_mesh(MeshInfo(name="test_user_tri", data=str(path2)))
    assert create_mesh("test_user_tri").faces.tolist() == [[0, 2, 1]]


@pytest.mark.parametrize(
    "name, num_vertices, num_faces", [("smpl_27554", 27554, 55096), ("sheep_5004", 5004, 10000)]
)
def test_real_meshes_load(name, num_vertices, num_faces):
    path = data_file(f"meshes/{name}.pkl")
    register_mesh(MeshInfo(name=f"test_real_{name}", data=str(path)))
    mesh = create_mesh(f"test_real_{name}")
    assert mesh.vertices.shape == (num_vertices, 3) and mesh.faces.shape == (num_faces, 3)
    assert int(mesh.faces.max()) == num_vertices - 1
    assert float(mesh.vertices.abs().max()) > 0
