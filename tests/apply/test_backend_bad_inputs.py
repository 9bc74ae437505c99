"""`apply_net --backend torchscript|onnxruntime --exported-model F` and the standalone runner on
files they cannot run: one line naming the file, nothing written; the cache key's versions."""

import json

import pytest
import torch
from apply_net_helpers import TINY_CONFIG, write_test_images

from densepose_ext.apply import main
from densepose_ext.apply.backend import cached_export_path
from densepose_ext.config import load_densepose_config
from densepose_ext.export import run as runner


class _Front(torch.nn.Module):
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image.float().mean()


def interface_file(path, interface: str = "densepose-torchscript"):
    """A TorchScript file with the metadata an `--interface` export stores."""
    metadata = {"interface": interface, "output_names": ["pred_boxes", "scores"], "family": "chart"}
    traced = torch.jit.trace(_Front(), torch.zeros(2, 2, 3, dtype=torch.uint8))
    torch.jit.save(traced, str(path), _extra_files={runner.METADATA_KEY: json.dumps(metadata)})
    return str(path)


def one_error(capsys, command: str) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"apply_net.py {command}: error: "), lines
    return lines[0]


@pytest.mark.parametrize("backend", ["onnxruntime", "torchscript"])
def test_interface_file_is_refused_and_nothing_is_written(tmp_path, capsys, backend):
    model = interface_file(tmp_path / "X.pt")
    images = write_test_images(tmp_path / "images", {"a.png": (48, 64)})
    out = tmp_path / "results.pkl"
    args = ["dump", str(TINY_CONFIG), model, str(images), "--no-progress", "--output", str(out)]
    assert main([*args, "--backend", backend, "--exported-model", model]) == 1
    line = one_error(capsys, "dump")
    assert "X.pt" in line
    if backend == "onnxruntime":
        assert "is a torchscript file, which --backend onnxruntime does not run" in line, line
    else:
        assert "exported with --interface densepose-torchscript" in line, line
    assert not out.exists()


def test_standalone_runner_refuses_interface_files(tmp_path, capsys):
    images = write_test_images(tmp_path / "images", {"a.png": (48, 64)})
    for interface in ("densepose-torchscript", "controlnet"):
        model = interface_file(tmp_path / f"{interface}.pt", interface)
        assert runner.main([model, str(images), "--output", str(tmp_path / "out")]) == 2
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and f"--interface {interface}" in lines[0], lines
    assert not (tmp_path / "out").exists()
    (tmp_path / "text.onnx").write_text("hello")
    assert runner.main([str(tmp_path / "text.onnx"), str(images)]) == 2
    assert "cannot run" in capsys.readouterr().err


def test_cache_key_follows_package_and_torch_versions(tmp_path, monkeypatch):
    import densepose_ext

    cfg = load_densepose_config(str(TINY_CONFIG))
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    cfg.MODEL.WEIGHTS = str(weights)
    before = cached_export_path(cfg, "torchscript")
    assert cached_export_path(cfg, "torchscript") == before
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    after_torch = cached_export_path(cfg, "torchscript")
    monkeypatch.setattr(densepose_ext, "__version__", "0.0.1")
    after_package = cached_export_path(cfg, "torchscript")
    assert len({before, after_torch, after_package}) == 3
