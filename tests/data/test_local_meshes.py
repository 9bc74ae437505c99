"""Local mesh files: --mesh NAME=PATH, $DENSEPOSE_MESH_DIR, and the up-front check."""

import pickle

import numpy as np
import pytest

from densepose_ext.data.meshes import (
    BUILTIN_MESHES_BASE_URL,
    MESH_DIR_ENV,
    LocalMeshError,
    MeshCatalog,
    create_mesh,
    parse_mesh_options,
    register_local_meshes,
    register_meshes_from_environment,
    require_meshes,
)


@pytest.fixture(autouse=True)
def restore_catalog():
    infos, ids = dict(MeshCatalog._infos), dict(MeshCatalog._ids)
    yield
    MeshCatalog._infos.clear()
    MeshCatalog._infos.update(infos)
    MeshCatalog._ids.clear()
    MeshCatalog._ids.update(ids)


def write_mesh(folder, name, texcoords="texcoords/texcoords_{}.pkl"):
    """A 4-vertex mesh `<name>.pkl` with texture coordinates at `texcoords` (relative)."""
    folder.mkdir(parents=True, exist_ok=True)
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32)
    with open(folder / f"{name}.pkl", "wb") as f:
        pickle.dump({"vertices": vertices, "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    if texcoords:
        path = folder / texcoords.format(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump(np.full((4, 2), 0.5, dtype=np.float32), f)
    return folder / f"{name}.pkl"


def test_parse_mesh_options():
    assert parse_mesh_options(["a=/x/a.pkl", " b = dir "]) == {"a": "/x/a.pkl", "b": "dir"}
    assert parse_mesh_options(None) == {}
    for bad in ("a", "=x", "a="):
        with pytest.raises(LocalMeshError, match="NAME=PATH"):
            parse_mesh_options([bad])


def test_mesh_option_replaces_builtin_files(tmp_path):
    mesh_id = MeshCatalog.get_mesh_id("cat_5001")
    path = write_mesh(tmp_path, "cat_5001")
    assert register_local_meshes({"cat_5001": str(path)}) == [("cat_5001", str(path))]
    info = MeshCatalog.get("cat_5001")
    assert info.data == str(path)
    assert info.texcoords == str(tmp_path / "texcoords" / "texcoords_cat_5001.pkl")
    # extras without a local copy keep the download site
    assert info.geodists == BUILTIN_MESHES_BASE_URL + "geodists/geodists_cat_5001.pkl"
    assert MeshCatalog.get_mesh_id("cat_5001") == mesh_id
    assert create_mesh("cat_5001").texcoords.shape == (4, 2)
    # a directory holding NAME.pkl works too; a new name is appended to the catalog
    write_mesh(tmp_path / "own", "my_mesh", texcoords="texcoords_{}.pkl")
    register_local_meshes({"my_mesh": str(tmp_path / "own")})
    assert MeshCatalog.get("my_mesh").texcoords == str(tmp_path / "own" / "texcoords_my_mesh.pkl")
    assert MeshCatalog.get("my_mesh").geodists is None


def test_missing_local_file_names_the_option(tmp_path):
    with pytest.raises(LocalMeshError, match=r"--mesh cat_5001=.*nope.pkl"):
        register_local_meshes({"cat_5001": str(tmp_path / "nope.pkl")})
    with pytest.raises(LocalMeshError, match=MESH_DIR_ENV):
        register_local_meshes(mesh_dir=str(tmp_path / "no_dir"))


def test_mesh_directory_from_environment(tmp_path, monkeypatch):
    write_mesh(tmp_path, "dog_5002")
    write_mesh(tmp_path, "bear_4936", texcoords=None)
    monkeypatch.setenv(MESH_DIR_ENV, str(tmp_path))
    registered = dict(register_meshes_from_environment())
    assert set(registered) == {"dog_5002", "bear_4936"}
    assert MeshCatalog.get("bear_4936").texcoords.startswith(BUILTIN_MESHES_BASE_URL)
    require_meshes(["dog_5002"], extras=("texcoords",))
    require_meshes(["dog_5002"], extras=("texcoords",), load=False)
    # a bad directory only warns here (the tools report it as an error)
    monkeypatch.setenv(MESH_DIR_ENV, str(tmp_path / "missing"))
    assert register_meshes_from_environment() == []


def test_require_meshes_is_one_error_naming_the_options(tmp_path):
    write_mesh(tmp_path, "sheep_5004", texcoords=None)
    register_local_meshes({"sheep_5004": str(tmp_path / "sheep_5004.pkl")})
    from densepose_ext.data.meshes import MeshInfo, register_mesh

    register_mesh(MeshInfo("offline_mesh", data=str(tmp_path / "absent.pkl")))
    with pytest.raises(LocalMeshError) as error:
        require_meshes(["offline_mesh"])
    message = str(error.value)
    assert "'offline_mesh'" in message and "--mesh NAME=PATH" in message
    assert MESH_DIR_ENV in message and "\n" not in message
    with pytest.raises(LocalMeshError, match="texcoords file of mesh 'offline_mesh'|mesh file"):
        require_meshes(["offline_mesh"], extras=("texcoords",), load=False)
    register_mesh(MeshInfo("no_extras", data=str(tmp_path / "sheep_5004.pkl")))
    with pytest.raises(LocalMeshError, match="texcoords file of mesh 'no_extras'"):
        require_meshes(["no_extras"], extras=("texcoords",))
