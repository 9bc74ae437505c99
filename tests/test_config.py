"""`load_densepose_config` and `is_cse`: the one way every entry point loads a config."""

import pytest

from densepose_ext.config import ConfigError, is_cse, load_densepose_config


def test_loads_zoo_name_path_and_opts(repo_root):
    by_name = load_densepose_config("densepose_rcnn_R_50_FPN_s1x", ["MODEL.DEVICE", "cpu"])
    by_path = load_densepose_config(str(repo_root / "configs/densepose_rcnn_R_50_FPN_s1x.yaml"))
    assert by_name.MODEL.DEVICE == "cpu"
    assert by_name.MODEL.ROI_DENSEPOSE_HEAD.NAME == by_path.MODEL.ROI_DENSEPOSE_HEAD.NAME
    assert not is_cse(by_name)
    assert is_cse(load_densepose_config("cse/densepose_rcnn_R_50_FPN_s1x.yaml"))


@pytest.mark.parametrize(
    "config, opts, message",
    [
        ("no_such_config.yaml", [], "neither a file nor a model-zoo name"),
        ("densepose_rcnn_R_50_FPN_s1x", ["MODEL.NO_SUCH_KEY", "1"], "bad config overrides"),
    ],
)
def test_errors_name_the_problem(config, opts, message):
    with pytest.raises(ConfigError, match=message):
        load_densepose_config(config, opts)


def test_bad_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("MODEL: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_densepose_config(str(bad))
