"""What a user sees: importing the package, then texture and export runs, then running the exported
file, print our own lines only (no torch / detectron2 / fvcore warnings). Each check runs in a
fresh interpreter: Python shows a warning once per process, and pytest would capture it."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO_ROOT / "tests" / "apply" / "tiny_densepose_rcnn_R_18_FPN.yaml"

SESSION = """
import sys
import densepose_ext  # nothing may be printed by the import itself
from densepose_ext.export.__main__ import main as export
from densepose_ext.texture.cli import main as texture

config, weights = sys.argv[1:]
model = ["--config", config, "--model", weights, "--no-progress"]
assert texture(["extract", "images", *model]) == 0
assert export([config, weights, "--output", "m.pt"]) == 0
"""


def run(args, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1", PYTHONWARNINGS="")
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_import_texture_export_and_exported_file_print_only_our_lines(tmp_path):
    sys.path.insert(0, str(REPO_ROOT / "tests" / "apply"))
    from apply_net_helpers import make_tiny_checkpoint, write_test_images

    write_test_images(tmp_path / "images", {"a.png": (64, 80)})
    weights = make_tiny_checkpoint(tmp_path / "model" / "model.pth")
    session = run(["-c", SESSION, str(TINY_CONFIG), str(weights)], tmp_path)
    assert session.returncode == 0, session.stderr
    # stderr: the texture summary alone; stdout: the export's "wrote ..." line
    assert session.stderr.splitlines() == [
        "texture extract: processed 1 item(s); wrote texture.png, texture_coverage.png"
    ], session.stderr
    assert session.stdout.startswith("wrote m.pt") and "Warning" not in session.stdout
    runner = REPO_ROOT / "densepose_ext" / "export" / "run.py"
    exported = run([str(runner), "m.pt", "images", "--output", "out"], tmp_path)
    assert exported.returncode == 0 and exported.stderr == "", exported.stderr
