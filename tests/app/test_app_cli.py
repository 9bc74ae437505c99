"""`python -m densepose_ext.app` arguments and the page without a model."""

import pytest

from densepose_ext.app.cli import build_parser, create_app, main
from densepose_ext.app.models import no_model_message


def test_config_without_model_is_a_one_line_error(capsys):
    assert main(["--config", "x.yaml"]) == 1
    assert "give both --config and --model" in capsys.readouterr().err


def test_missing_checkpoint_names_the_file(capsys, app_files):
    assert main(["--config", app_files["config"], "--model", "/nonexistent/model.pth"]) == 1
    assert "/nonexistent/model.pth" in capsys.readouterr().err


def test_opts_are_the_last_option():
    args = build_parser().parse_args(["--port", "1234", "--opts", "MODEL.DEVICE", "cpu"])
    assert args.port == 1234 and args.opts == ["MODEL.DEVICE", "cpu"]


def test_page_says_when_no_model_is_available(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no output/demo here
    monkeypatch.setenv("FVCORE_CACHE", str(tmp_path / "empty_cache"))
    monkeypatch.delenv("DEMO_OUT", raising=False)
    app, service, _ = create_app(["--work-dir", str(tmp_path / "jobs")])
    assert service.model_name is None
    config = app.get_config_file()
    texts = [c.get("props", {}).get("value") for c in config["components"]]
    assert any(isinstance(t, str) and no_model_message() in t for t in texts)
    fn = next(f for f in app.fns.values() if f.api_name == "densepose").fn
    *_, message = fn("anything.png")
    assert message.startswith("**Error:** No model available")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--port", "notaport"])
