"""`apply_net.py dump --ray` on a local Ray (2 CPUs, no dashboard, shared by the module):
the same files as a one-process run, a killed worker, an interrupted run resumed, faults."""

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from dump_compare import (
    QUAD_MESH,
    TINY_CONFIG,
    TINY_CSE_CONFIG,
    assert_same_dump,
    make_tiny_checkpoint,
    register_quad_mesh,
    write_test_images,
    write_test_video,
)

from densepose_ext.apply import main
from densepose_ext.apply.cli import build_parser, execute

ALL_FORMATS = "pkl,json,npz,iuv_png"
IMAGES = {"a.png": (120, 160), "b.jpg": (96, 128), "c.png": (140, 100)}


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "model_random.pth"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """3 images, an unreadable one, a 5-frame video (3 work items at 2 frames per item)."""
    folder = write_test_images(tmp_path_factory.mktemp("inputs") / "in", IMAGES)
    (folder / "bad.png").write_bytes(b"not an image")
    write_test_video(folder / "clip.avi", 5, 10.0)
    return folder


@pytest.fixture(scope="module")
def one_process(inputs, checkpoint, tmp_path_factory) -> Path:
    """The reference: a one-process dump in every format."""
    out = tmp_path_factory.mktemp("one_process") / "r.pkl"
    assert dump(checkpoint, inputs, out, "--format", ALL_FORMATS) == 0
    return out


def dump_argv(checkpoint, inputs, output) -> list:
    """`apply_net.py dump` of the tiny chart model, without progress bar."""
    return [
        "dump",
        "--no-progress",
        str(TINY_CONFIG),
        checkpoint,
        str(inputs),
        "--output",
        str(output),
    ]


def dump(checkpoint, inputs, output, *extra) -> int:
    return main([*dump_argv(checkpoint, inputs, output), *(str(e) for e in extra)])


def ray_args(checkpoint, inputs, output, *extra):
    argv = dump_argv(checkpoint, inputs, output)
    args = build_parser().parse_args([*argv, "--ray", "--frames-per-item", "2", *map(str, extra)])
    return args


def test_killed_worker_and_interrupted_run_then_resume_give_the_one_process_outputs(
    ray_local, one_process, inputs, checkpoint, tmp_path, capsys
):
    """Run 1 (2 workers): worker 0 killed by pid after the first stored item (Ray restarts it
    and retries its items), the command interrupted after the third; run 2 (1 worker) computes
    only what is missing; the files equal the one-process run's in every format."""
    killed = []

    def kill_then_interrupt(progress):
        if not killed:
            killed.append(progress.worker_pids[0])
            os.kill(progress.worker_pids[0], signal.SIGKILL)
        elif progress.done_items >= 3:
            raise KeyboardInterrupt

    out = tmp_path / "ray" / "r.pkl"
    first = ray_args(checkpoint, inputs, out, "--num-workers", 2, "--format", ALL_FORMATS)
    first.on_part = kill_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        execute(first)
    assert killed
    assert not out.exists() and not out.with_suffix(".json").exists()  # no half output
    parts_dir = tmp_path / "ray" / "r.pkl.parts"
    done = len([p for p in parts_dir.iterdir() if p.suffix == ".pt"])
    assert 3 <= done < 7
    second = ray_args(checkpoint, inputs, out, "--num-workers", 1, "--format", ALL_FORMATS)
    stats = execute(second)
    assert (stats.items_total, stats.items_resumed, stats.items_computed) == (7, done, 7 - done)
    assert_same_dump(one_process, out, ALL_FORMATS.split(","))
    assert stats.processed == 8 and stats.failed == 1  # 3 images + 5 frames; bad.png skipped
    assert "bad.png" in stats.errors[0]
    manifest = json.loads((parts_dir / "manifest.json").read_text())
    assert manifest["done_items"] == 7 and manifest["failed"] == 1
    (bad,) = [e for e in manifest["items"] if e["status"] == "bad"]
    assert bad["path"].endswith("bad.png") and "bad.png" in bad["errors"][0]
    summary = capsys.readouterr().err
    assert f"7 work item(s): {done} resumed, {7 - done} computed on 1 worker(s)" in summary
    assert "img/s" in summary


def test_worker_that_cannot_read_the_model_is_one_error(ray_local, inputs, tmp_path, capsys):
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"truncated checkpoint")
    out = tmp_path / "out" / "r.pkl"
    assert dump(str(broken), inputs, out, "--ray", "--num-workers", 1) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot load" in errors[0] and "broken.pth" in errors[0]
    assert not (tmp_path / "out").exists()  # nothing written


def test_unreachable_cluster_is_one_error(inputs, checkpoint, tmp_path, capsys):
    pytest.importorskip("ray")
    out = tmp_path / "out" / "r.pkl"
    assert dump(checkpoint, inputs, out, "--ray", "127.0.0.1:9") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot reach the Ray cluster at 127.0.0.1:9" in errors[0]
    assert dump(checkpoint, inputs, out, "--ray", "head-node") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "must be auto or HOST:PORT, got 'head-node'" in errors[0]
    assert not (tmp_path / "out").exists()


def test_output_below_a_file_is_one_error(inputs, checkpoint, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert dump(checkpoint, inputs, tmp_path / "file" / "r.pkl", "--ray") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "is a file" in errors[0]
    assert (tmp_path / "file").read_text() == "x"


def test_without_ray_installed_the_error_says_how_to_install_it(
    inputs, checkpoint, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert dump(checkpoint, inputs, tmp_path / "r.pkl", "--ray") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and 'pip install "densepose_ext[ray]"' in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_ray_options_need_ray(inputs, checkpoint, tmp_path, capsys):
    assert dump(checkpoint, inputs, tmp_path / "r.pkl", "--num-workers", 2) == 1
    assert "--num-workers needs --ray" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # a second model kind: ~30 s more on the shared machine
def test_cse_model_on_ray_equals_one_process(ray_local, inputs, tmp_path):
    mesh_dir = tmp_path / "mesh"
    register_quad_mesh(mesh_dir)
    cse = str(make_tiny_checkpoint(tmp_path / "cse" / "model.pth", TINY_CSE_CONFIG))
    mesh = ["--mesh", f"{QUAD_MESH}={mesh_dir / 'quad.pkl'}"]
    common = [
        "dump",
        "--no-progress",
        str(TINY_CSE_CONFIG),
        cse,
        str(inputs),
        "--format",
        "pkl,npz",
    ]
    assert main([*common, "--output", str(tmp_path / "one" / "r.pkl"), *mesh]) == 0
    assert (
        main(
            [
                *common,
                "--output",
                str(tmp_path / "ray" / "r.pkl"),
                "--ray",
                "--num-workers",
                "2",
                *mesh,
            ]
        )
        == 0
    )
    assert_same_dump(tmp_path / "one" / "r.pkl", tmp_path / "ray" / "r.pkl", ["pkl", "npz"])
