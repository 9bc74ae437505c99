import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from densepose_ext import model_zoo
from densepose_ext.model_zoo import MODEL_ZOO


def test_every_zoo_entry_has_a_config_and_url():
    assert len(MODEL_ZOO) == 41
    for entry in MODEL_ZOO:
        path = model_zoo.get_config_file(entry.config)
        assert os.path.isfile(path)
        name = entry.config[: -len(".yaml")]
        url = model_zoo.get_checkpoint_url(name)
        assert url == entry.url
        assert url.startswith("https://dl.fbaipublicfiles.com/densepose/")
        assert f"/{entry.model_id}/model_final_" in url


@pytest.mark.parametrize(
    "name",
    [
        "densepose_rcnn_R_50_FPN_s1x",
        "densepose_rcnn_R_50_FPN_s1x.yaml",
        "configs/densepose_rcnn_R_50_FPN_s1x.yaml",
    ],
)
def test_config_name_forms(name):
    assert model_zoo.get_config_file(name).endswith(
        os.path.join("configs", "densepose_rcnn_R_50_FPN_s1x.yaml")
    )


def test_unknown_and_untrained_names():
    with pytest.raises(RuntimeError, match="not a densepose_ext model-zoo config"):
        model_zoo.get_config_file("densepose_rcnn_R_50_FPN_s2x")
    with pytest.raises(RuntimeError, match="no official trained checkpoint"):
        model_zoo.get_checkpoint_url("Base-DensePose-RCNN-FPN")


def test_list_configs_matches_source_tree(repo_root):
    listed = model_zoo.list_configs()
    on_disk = sorted(
        os.path.relpath(os.path.join(d, f), repo_root / "configs").replace(os.sep, "/")
        for d, _, files in os.walk(repo_root / "configs")
        for f in files
        if f.endswith(".yaml")
    )
    assert listed == on_disk
    official = [p for p in listed if not p.startswith("cascade/")]
    assert len(official) == 61  # the original model zoo's configs
    assert "cascade/densepose_rcnn_R_50_FPN_cascade_mask_kp_s1x.yaml" in listed


def test_get_config_trained_sets_official_weights():
    cfg = model_zoo.get_config("cse/densepose_rcnn_R_50_FPN_soft_s1x", trained=True)
    assert cfg.MODEL.WEIGHTS.endswith("250533982/model_final_2c4512.pkl")
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_LOSS_NAME == "SoftEmbeddingLoss"


def test_get_trained_loads_weights_from_download_cache(tmp_path, monkeypatch):
    """`get(name, trained=True)` reads the official URL through PathManager's cache (no network)."""
    name = "densepose_rcnn_R_50_FPN_s1x"
    url = model_zoo.get_checkpoint_url(name)
    reference = model_zoo.get(name, trained=False, device="cpu")
    state = {k: v.detach().numpy() + 0.5 for k, v in reference.state_dict().items()}
    # Where iopath's HTTP handler keeps a downloaded URL: <cache>/<url path without file>/<file>
    cached = tmp_path / url.split("://", 1)[1].split("/", 1)[1]
    cached.parent.mkdir(parents=True)
    with open(cached, "wb") as f:
        pickle.dump({"model": state, "__author__": "test"}, f)
    monkeypatch.setenv("FVCORE_CACHE", str(tmp_path))
    model = model_zoo.get(name, trained=True, device="cpu")
    assert not model.training
    loaded = model.state_dict()
    for key in (
        "roi_heads.densepose_predictor.u_lowres.weight",
        "backbone.bottom_up.stem.conv1.weight",
    ):
        np.testing.assert_allclose(loaded[key].numpy(), state[key])


def test_wheel_ships_configs(tmp_path, repo_root):
    """A wheel built from the tree contains every config; installed from it, lookups find them."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(repo_root),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("densepose_ext-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("densepose_ext/model_zoo/configs/"))
    assert len(shipped) == len(model_zoo.list_configs())  # the 61 official + configs/cascade
    assert "densepose_ext/model_zoo/configs/cse/densepose_rcnn_R_50_FPN_soft_s1x.yaml" in shipped

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "from densepose_ext.model_zoo import get_config_file, get_config;"
        "p = get_config_file('densepose_rcnn_R_50_FPN_DL_WC1M_s1x');"
        "get_config('densepose_rcnn_R_50_FPN_DL_WC1M_s1x');"
        "print(p)"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith(str(target))
