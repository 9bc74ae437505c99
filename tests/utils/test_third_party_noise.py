"""What a user sees: importing the package and running texture / export / the exported file print
our own lines only (no torch / detectron2 / fvcore warnings)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO_ROOT / "tests" / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"


def run(args, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1", PYTHONWARNINGS="")
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_import_prints_nothing(tmp_path):
    proc = run(["-c", "import densepose_ext, densepose_ext.apply, densepose_ext.export"], tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    sys.path.insert(0, str(REPO_ROOT / "tests" / "apply"))
    from apply_net_helpers import make_tiny_checkpoint, write_test_images

    tmp = tmp_path_factory.mktemp("noise")
    write_test_images(tmp / "images", {"a.png": (64, 80)})
    return make_tiny_checkpoint(tmp / "model" / "model.pth"), tmp


def test_texture_export_and_exported_file_runs_print_only_our_lines(checkpoint):
    weights, tmp = checkpoint
    model = ["--config", str(TINY_CONFIG), "--model", str(weights), "--no-progress"]
    texture = run(["-m", "densepose_ext.texture", "extract", "images", *model], tmp)
    assert texture.stderr.splitlines()[-1].startswith("texture extract: processed 1"), (
        texture.stderr
    )
    assert len(texture.stderr.splitlines()) == 1, texture.stderr
    export = run(
        ["-m", "densepose_ext.export", str(TINY_CONFIG), str(weights), "--output", "m.pt"], tmp
    )
    assert export.returncode == 0 and export.stderr == "", export.stderr
    runner = REPO_ROOT / "densepose_ext" / "export" / "run.py"
    exported = run([str(runner), "m.pt", "images", "--output", "out"], tmp)
    assert exported.returncode == 0 and exported.stderr == "", exported.stderr
