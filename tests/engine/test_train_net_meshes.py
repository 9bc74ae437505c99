"""train_net.py --mesh / $DENSEPOSE_MESH_DIR: registration and the up-front mesh check."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from fixture_paths import load_module_file

from densepose_ext.data.meshes import LocalMeshError, MeshCatalog

ROOT = Path(__file__).resolve().parents[2]
CSE_CONFIG = ROOT / "tests" / "apply" / "tiny_densepose_rcnn_R_18_FPN_cse.yaml"
MESH = "apply_net_test_quad"  # the mesh of CSE_CONFIG
TINY_CHART = ROOT / "tests" / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


@pytest.fixture
def train_net(monkeypatch):
    module = load_module_file("train_net.py", "train_net_under_test")
    monkeypatch.delenv("DENSEPOSE_MESH_DIR", raising=False)
    infos, ids = dict(MeshCatalog._infos), dict(MeshCatalog._ids)
    yield module
    MeshCatalog._infos.clear()
    MeshCatalog._infos.update(infos)
    MeshCatalog._ids.clear()
    MeshCatalog._ids.update(ids)


def write_mesh(folder: Path) -> Path:
    (folder / "geodists").mkdir(parents=True)
    vertices = np.eye(4, 3, dtype=np.float32)
    with open(folder / f"{MESH}.pkl", "wb") as f:
        pickle.dump({"vertices": vertices, "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    with open(folder / "geodists" / f"geodists_{MESH}.pkl", "wb") as f:
        pickle.dump(np.ones((4, 4), dtype=np.float32), f)
    return folder / f"{MESH}.pkl"


def test_mesh_option_registers_and_checks(train_net, tmp_path, monkeypatch):
    parser = train_net.build_argument_parser()
    args = parser.parse_args(["--config-file", str(CSE_CONFIG), "--eval-only"])
    cfg = train_net.load_config(args)
    MeshCatalog._infos.pop(MESH, None)
    with pytest.raises(LocalMeshError, match=f"'{MESH}'.*--mesh NAME=PATH"):
        train_net.register_meshes(args, cfg, check=True)
    mesh_file = write_mesh(tmp_path / "meshes")
    args = parser.parse_args(["--config-file", str(CSE_CONFIG), "--mesh", f"{MESH}={mesh_file}"])
    train_net.register_meshes(args, cfg, check=True)
    assert MeshCatalog.get(MESH).geodists.endswith(f"geodists_{MESH}.pkl")
    # the directory variable, for a mesh name that only the config knows
    MeshCatalog._infos.pop(MESH)
    monkeypatch.setenv("DENSEPOSE_MESH_DIR", str(tmp_path / "meshes"))
    train_net.register_meshes(parser.parse_args(["--config-file", str(CSE_CONFIG)]), cfg, True)
    assert MeshCatalog.get(MESH).data == str(mesh_file)


def test_missing_mesh_file_exits_before_launch(train_net, tmp_path, monkeypatch):
    argv = ["train_net.py", "--config-file", str(CSE_CONFIG), "--mesh", f"{MESH}={tmp_path}/x.pkl"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(train_net, "launch", lambda *a, **k: pytest.fail("launched"))
    with pytest.raises(SystemExit, match=r"train_net.py: error: --mesh apply_net_test_quad="):
        train_net.invoke_main()


def test_misspelt_mesh_name_exits_before_launch(train_net, tmp_path, monkeypatch):
    mesh_file = write_mesh(tmp_path / "meshes")
    argv = ["train_net.py", "--config-file", str(CSE_CONFIG), "--mesh", f"{MESH[:-1]}={mesh_file}"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(train_net, "launch", lambda *a, **k: pytest.fail("launched"))
    with pytest.raises(SystemExit) as error:
        train_net.invoke_main()
    message = str(error.value)
    assert f"'{MESH[:-1]}' is not a mesh of the model; did you mean {MESH}?" in message, message
    assert "\n" not in message


def test_unregistered_loss_exits_before_launch(train_net, monkeypatch):
    opts = ["MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME", "NoSuchLoss"]
    monkeypatch.setattr(sys, "argv", ["train_net.py", "--config-file", str(TINY_CHART), *opts])
    monkeypatch.setattr(train_net, "launch", lambda *a, **k: pytest.fail("launched"))
    with pytest.raises(SystemExit, match="LOSS_NAME 'NoSuchLoss' is not a registered DensePose"):
        train_net.invoke_main()


def test_unwritable_output_dir_exits_before_launch(train_net, tmp_path, monkeypatch):
    (tmp_path / "some_file").write_text("")
    opts = ["OUTPUT_DIR", str(tmp_path / "some_file" / "run")]
    monkeypatch.setattr(sys, "argv", ["train_net.py", "--config-file", str(TINY_CHART), *opts])
    monkeypatch.setattr(train_net, "launch", lambda *a, **k: pytest.fail("launched"))
    with pytest.raises(
        SystemExit, match=r"train_net.py: error: cannot write OUTPUT_DIR .*a folder"
    ):
        train_net.invoke_main()
