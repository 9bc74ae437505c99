"""apply_net on a CSE checkpoint with no network: embeddings from the checkpoint, local meshes."""

import os
import pickle
import socket
import stat

import cv2
import numpy as np
import pytest
import torch
from apply_net_helpers import TINY_CSE_CONFIG, draw_test_image, make_tiny_checkpoint

from densepose_ext.apply import main
from densepose_ext.data.meshes import MeshCatalog

MESH = "offline_test_quad"
INIT_URL = "https://dl.fbaipublicfiles.com/densepose/data/cse/phi_offline_test_quad.pkl"


def write_config(path, init_file: str = ""):
    init = f"\n          INIT_FILE: {init_file!r}" if init_file else ""
    path.write_text(
        f"""_BASE_: "{TINY_CSE_CONFIG}"
MODEL:
  ROI_DENSEPOSE_HEAD:
    CSE:
      EMBEDDERS:
        "{MESH}":
          TYPE: vertex_direct
          NUM_VERTICES: 4
          IS_TRAINABLE: True{init}
DATASETS:
  CLASS_TO_MESH_NAME_MAPPING:
    "0": "{MESH}"
"""
    )
    return path


@pytest.fixture
def offline(monkeypatch):
    """Any network connection raises; umask 022; the mesh catalog is restored afterwards."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    infos, ids = dict(MeshCatalog._infos), dict(MeshCatalog._ids)
    saved_umask = os.umask(0o022)
    yield
    os.umask(saved_umask)
    MeshCatalog._infos.clear()
    MeshCatalog._infos.update(infos)
    MeshCatalog._ids.clear()
    MeshCatalog._ids.update(ids)


def write_mesh(folder):
    """`<MESH>.pkl` and `texcoords/texcoords_<MESH>.pkl` in `folder` (download-site layout)."""
    (folder / "texcoords").mkdir(parents=True)
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.float64)
    with open(folder / f"{MESH}.pkl", "wb") as f:
        pickle.dump({"vertices": vertices, "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    with open(folder / "texcoords" / f"texcoords_{MESH}.pkl", "wb") as f:
        pickle.dump(np.array([[0, 0], [1, 0], [0.5, 0.5], [0, 1]], dtype=np.float32), f)
    return folder / f"{MESH}.pkl"


def test_cse_checkpoint_and_local_mesh_need_no_network(tmp_path, offline, capsys, monkeypatch):
    checkpoint = make_tiny_checkpoint(
        tmp_path / "model" / "model.pth", write_config(tmp_path / "train.yaml")
    )
    # the released configs name an INIT_FILE URL; the checkpoint holds the embeddings
    config = write_config(tmp_path / "released.yaml", init_file=INIT_URL)
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), draw_test_image(120, 160, 0))
    mesh_file = write_mesh(tmp_path / "meshes")
    atlas = tmp_path / "atlas.png"
    cv2.imwrite(str(atlas), np.full((16, 16, 3), 200, dtype=np.uint8))
    show = ["show", str(config), str(checkpoint), str(image), "bbox,dp_vertex,dp_cse_texture"]
    show += ["--texture_atlases_map", f'{{"{MESH}": "{atlas}"}}', "--no-progress"]
    show += ["--output", str(tmp_path / "s.png")]

    # no local mesh: one error before the run, naming the option, no per-image skip
    assert main(show) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--mesh NAME=PATH" in lines[0] and MESH in lines[0], err
    assert not (tmp_path / "s.0001.png").exists()

    assert main([*show[:5], "--mesh", f"{MESH}={mesh_file}", *show[5:]]) == 0
    assert cv2.imread(str(tmp_path / "s.0001.png")).shape == (120, 160, 3)

    # dump needs no mesh; the directory variable works as well as the option
    MeshCatalog._infos.pop(MESH)
    monkeypatch.setenv("DENSEPOSE_MESH_DIR", str(tmp_path / "meshes"))
    dump = ["dump", str(config), str(checkpoint), str(image), "--no-progress"]
    assert main([*dump, "--output", str(tmp_path / "r.pkl"), "--format", "pkl,npz"]) == 0
    assert main([*show[:5], *show[5:-1], str(tmp_path / "t.png")]) == 0
    for output in (tmp_path / "r.pkl", tmp_path / "r" / "a.npz", tmp_path / "s.0001.png"):
        assert stat.S_IMODE(output.stat().st_mode) == 0o644  # the test runs under umask 022
    (record,) = torch.load(tmp_path / "r.pkl", weights_only=False)
    assert len(record["scores"]) > 0
    assert str(np.load(tmp_path / "r" / "a.npz")["mesh_names"][0]) == MESH


def test_missing_mesh_directory_is_an_error(tmp_path, offline, monkeypatch, capsys):
    checkpoint = make_tiny_checkpoint(
        tmp_path / "model" / "model.pth", write_config(tmp_path / "train.yaml")
    )
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), draw_test_image(64, 64, 0))
    monkeypatch.setenv("DENSEPOSE_MESH_DIR", str(tmp_path / "nowhere"))
    args = ["dump", str(tmp_path / "train.yaml"), str(checkpoint), str(image), "--no-progress"]
    assert main([*args, "--output", str(tmp_path / "r.pkl")]) == 1
    assert "DENSEPOSE_MESH_DIR" in capsys.readouterr().err
    monkeypatch.delenv("DENSEPOSE_MESH_DIR")
    assert main([*args, "--output", str(tmp_path / "r.pkl"), "--mesh", "bad"]) == 1
    assert "NAME=PATH" in capsys.readouterr().err


def test_no_fx_tracing_warning(tmp_path, capsys):
    import logging

    from densepose_ext.utils.third_party_noise import silence_third_party_noise

    silence_third_party_noise()
    silence_third_party_noise()
    logger = logging.getLogger("torch.fx._symbolic_trace")
    assert len(logger.filters) >= 1
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        logger.warning("is_fx_tracing will return true for both fx.symbolic_trace and ...")
        logger.warning("something else")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["something else"]


def test_dump_summary_lists_a_shared_folder_once(tmp_path, capsys):
    from apply_net_helpers import TINY_CONFIG

    checkpoint = make_tiny_checkpoint(tmp_path / "model" / "chart.pth", TINY_CONFIG)
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), draw_test_image(64, 80, 1))
    args = ["dump", str(TINY_CONFIG), str(checkpoint), str(image), "--no-progress"]
    assert main([*args, "--output", str(tmp_path / "r.pkl"), "--format", "iuv_png,npz"]) == 0
    (summary,) = [line for line in capsys.readouterr().err.splitlines() if "outputs:" in line]
    assert summary.split("outputs: ")[1] == str(tmp_path / "r")
