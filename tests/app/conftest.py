"""The app under test: a tiny random-weight chart model served on a free localhost port.

One server per test session (model load ~5 s); the browser and API tests share it. The random
model detects "people" with score ~0.998 (see tests/apply/apply_net_helpers.py), so the
threshold 0.5 below keeps detections, as in tests/apply/test_apply_preset.py.
"""

import os
import socket

import cv2
import pytest
from fixture_paths import load_module_file

if os.environ.get("CI", "").lower() == "true":
    import gradio  # noqa: F401 (CI installs the "app" extra: missing, it is an error)
else:
    pytest.importorskip("gradio", reason='the app needs the "app" extra: pip install -e ".[app]"')

MIN_SCORE = "0.5"
helpers = load_module_file("tests/apply/apply_net_helpers.py")


@pytest.fixture(scope="session")
def apply_helpers():
    """tests/apply/apply_net_helpers.py (tiny models, test images and videos)."""
    return helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_files(tmp_path_factory) -> dict:
    """A tiny checkpoint, a photo, a short and a longer video, a text file, a corrupt video."""
    root = tmp_path_factory.mktemp("app_files")
    checkpoint = helpers.make_tiny_checkpoint(root / "model" / "model_random.pth")
    photo = root / "person.png"
    cv2.imwrite(str(photo), helpers.draw_test_image(100, 140, seed=3))
    notes = root / "notes.txt"
    notes.write_text("not a picture\n")
    corrupt = root / "broken.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    return {
        "config": str(helpers.TINY_CONFIG),
        "checkpoint": str(checkpoint),
        "photo": str(photo),
        "notes": str(notes),
        "corrupt": str(corrupt),
        "clip": str(helpers.write_test_video(root / "clip.avi", num_frames=4, fps=5.0)),
        "long_clip": str(helpers.write_test_video(root / "long.avi", num_frames=120, fps=5.0)),
    }


@pytest.fixture(scope="session")
def app_server(app_files, tmp_path_factory):
    """(url, service) of the running app; closed at the end of the session."""
    from densepose_ext.app.cli import create_app

    port = free_port()
    argv = ["--config", app_files["config"], "--model", app_files["checkpoint"]]
    argv += ["--port", str(port), "--device", "cpu", "--min-score", MIN_SCORE]
    argv += ["--work-dir", str(tmp_path_factory.mktemp("app_jobs"))]
    app, service, _ = create_app(argv)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", service
    app.close()


@pytest.fixture(scope="session")
def apply_net_picture(app_files, tmp_path_factory):
    """What `apply_net.py show` writes for the photo: {preset or visualizers: path}."""
    from densepose_ext.apply import main

    out = tmp_path_factory.mktemp("apply_net_show")
    common = ["--no-progress", "--device", "cpu", "--min_score", MIN_SCORE]
    model = [app_files["config"], app_files["checkpoint"], app_files["photo"]]
    pictures = {}
    for key, extra in (("civitai", ["--preset", "civitai"]), ("dp_segm,bbox", ["dp_segm,bbox"])):
        template = out / (key.replace(",", "_") + ".png")
        assert main(["show", *model, *extra, "--output", str(template), *common]) == 0
        pictures[key] = str(template).replace(".png", ".0001.png")
    return pictures
