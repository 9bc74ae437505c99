"""Which models the app offers when none is given."""

import os

from densepose_ext.app.models import cached_checkpoint_path, find_models
from densepose_ext.model_zoo import MODEL_ZOO


def test_finds_the_demo_model_and_cached_zoo_checkpoints(tmp_path):
    repo = tmp_path / "repo"
    (repo / "demo" / "configs").mkdir(parents=True)
    (repo / "demo" / "configs" / "synthetic_R_18_chart.yaml").write_text("VERSION: 2\n")
    cache = tmp_path / "cache"
    assert find_models(str(repo), demo_out=str(tmp_path / "none"), cache_dir=str(cache)) == []

    (repo / "output" / "demo" / "train").mkdir(parents=True)
    (repo / "output" / "demo" / "train" / "model_final.pth").write_bytes(b"x")
    entry = MODEL_ZOO[2]
    cached = cached_checkpoint_path(entry.url, str(cache))
    assert cached.startswith(str(cache)) and cached.endswith(entry.url.rsplit("/", 1)[-1])
    os.makedirs(os.path.dirname(cached))
    with open(cached, "wb") as f:
        f.write(b"weights")
    found = find_models(str(repo), cache_dir=str(cache))
    assert [m.name for m in found] == ["demo: synthetic_R_18_chart", entry.config[:-5]]
    assert found[0].min_score == 0.5 and found[1].weights == cached
    assert found[1].config.endswith(entry.config)
