"""apply_net on bad inputs: one line naming the file and the problem, exit status 1, nothing
written, and the model not even loaded when the problem is in the command line."""

import pytest
from apply_net_helpers import TINY_CONFIG, make_tiny_checkpoint, write_test_images

from densepose_ext.apply import main


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_inputs")
    checkpoint = make_tiny_checkpoint(tmp / "model" / "model.pth")
    images = write_test_images(tmp / "images", {"a.png": (64, 80)})
    return str(checkpoint), str(images)


def one_error(capsys, command: str) -> str:
    """The single stderr line (anything else on stderr fails the test)."""
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"apply_net.py {command}: error: "), lines[0]
    return lines[0]


def test_output_under_a_file_is_refused_before_the_run(tmp_path, chart, capsys):
    checkpoint, images = chart
    (tmp_path / "some_file").write_text("")
    show = ["show", str(TINY_CONFIG), checkpoint, images, "dp_segm", "--no-progress"]
    assert main([*show, "--output", str(tmp_path / "some_file" / "t.png")]) == 1
    assert "some_file' is a file, not a folder" in one_error(capsys, "show")
    dump = ["dump", str(TINY_CONFIG), checkpoint, images, "--no-progress"]
    assert main([*dump, "--output", str(tmp_path / "some_file" / "r.pkl")]) == 1
    assert "--output" in one_error(capsys, "dump")
    args = [*dump, "--output", str(tmp_path / "r.pkl"), "--format", "pkl,npz"]
    assert main([*args, "--output_dir", str(tmp_path / "some_file")]) == 1
    assert "--output_dir" in one_error(capsys, "dump")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["some_file"]


def test_output_under_proc_is_refused(chart, capsys):
    checkpoint, images = chart
    dump = ["dump", str(TINY_CONFIG), checkpoint, images, "--no-progress"]
    assert main([*dump, "--output", "/proc/nope/r.pkl"]) == 1
    assert "cannot write --output '/proc/nope/r.pkl'" in one_error(capsys, "dump")


@pytest.mark.parametrize("content", ["hello\n", "MODEL:\n  WEIGHTS: x\n"])
@pytest.mark.parametrize("suffix", [".pth", ".pkl"])
def test_text_file_as_checkpoint(tmp_path, chart, capsys, content, suffix):
    _, images = chart
    text = tmp_path / f"model{suffix}"
    text.write_text(content)
    dump = ["dump", str(TINY_CONFIG), str(text), images, "--no-progress"]
    assert main([*dump, "--output", str(tmp_path / "r.pkl")]) == 1
    line = one_error(capsys, "dump")
    assert f"'{text}'" in line and "not a checkpoint file" in line, line
    assert "weights_only" not in line and len(line) < 300
    assert not (tmp_path / "r.pkl").exists()


@pytest.fixture
def cse(tmp_path):
    """A tiny CSE checkpoint, its 4-vertex mesh registered; the mesh catalog restored after."""
    import pickle

    import numpy as np
    from apply_net_helpers import QUAD_MESH, TINY_CSE_CONFIG, register_quad_mesh

    from densepose_ext.data.meshes import MeshCatalog

    infos, ids = dict(MeshCatalog._infos), dict(MeshCatalog._ids)
    register_quad_mesh(tmp_path / "quad")
    checkpoint = make_tiny_checkpoint(tmp_path / "model" / "model.pth", TINY_CSE_CONFIG)
    images = write_test_images(tmp_path / "images", {"a.png": (64, 80)})
    five = tmp_path / "other" / "five.pkl"  # a mesh file of another size (5 vertices)
    five.parent.mkdir()
    with open(five, "wb") as f:
        pickle.dump({"vertices": np.eye(5, 3), "faces": np.array([[0, 1, 2], [2, 3, 4]])}, f)
    yield str(TINY_CSE_CONFIG), str(checkpoint), str(images), QUAD_MESH, five
    for table, saved in ((MeshCatalog._infos, infos), (MeshCatalog._ids, ids)):
        table.clear()
        table.update(saved)


def test_mesh_with_another_vertex_count_is_refused_at_start(tmp_path, cse, capsys):
    config, checkpoint, images, mesh, five = cse
    show = ["show", config, checkpoint, images, "dp_vertex", "--no-progress"]
    out = str(tmp_path / "s.png")
    assert main([*show, "--mesh", f"{mesh}={five}", "--output", out]) == 1
    line = one_error(capsys, "show")
    assert f"mesh '{mesh}' ({five}) has 5 vertices" in line and "embedder for it has 4" in line
    assert not (tmp_path / "s.0001.png").exists()


def test_misspelt_mesh_name_is_refused(tmp_path, cse, capsys):
    config, checkpoint, images, mesh, five = cse
    dump = [
        "dump",
        config,
        checkpoint,
        images,
        "--no-progress",
        "--output",
        str(tmp_path / "r.pkl"),
    ]
    misspelt = mesh[:-1]
    assert main([*dump, "--mesh", f"{misspelt}={five}"]) == 1
    line = one_error(capsys, "dump")
    assert f"'{misspelt}' is not a mesh of the model; did you mean {mesh}?" in line, line
    assert f"its meshes: {mesh}" in line and not (tmp_path / "r.pkl").exists()
