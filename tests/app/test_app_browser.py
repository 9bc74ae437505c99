"""The page in a real headless browser (Debian's Chromium driven by Playwright for Python).

Set APP_SCREENSHOT=docs/images/app.png to save the screenshot used in docs/app.md.
"""

import os
import re

import cv2
import numpy as np
import pytest
import torch
from app_browser import chromium_path, launch_browser, missing

FRAMES_DONE = re.compile(r"(\d+)\s*/\s*(\d+)\s*frames")
WATCH_PROGRESS = r"""() => {
    window.__progress = [];
    window.__watch = setInterval(() => {
        const found = document.body.innerText.match(/\d+\s*\/\s*\d+\s*frames/g);
        if (found) window.__progress.push(...found);
    }, 25);
}"""


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed")
    playwright = sync_playwright().start()
    try:
        browser = launch_browser(playwright)
    except Exception as e:  # an executable that does not start
        playwright.stop()
        missing(f"Chromium does not start: {' '.join(str(e).split())[:300]}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, app_server):
    url, _ = app_server
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    page.wait_for_selector("#dp-run")
    yield page
    page.close()


def upload_and_run(page, path: str, output_label: str = None) -> None:
    clear = page.locator("#dp-input button[aria-label=Clear]")
    if clear.count():
        clear.click()
    page.locator("#dp-input input[type=file]").set_input_files(path)
    page.wait_for_selector(f"#dp-input >> text={os.path.splitext(os.path.basename(path))[0]}")
    if output_label:
        page.get_by_label(output_label).check()
    page.click("#dp-run")


def wait_for_message(page, pattern: str, timeout_ms: int = 60000) -> str:
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('#dp-message').innerText)",
        arg=pattern,
        timeout=timeout_ms,
    )
    return page.inner_text("#dp-message")


def fetch_image(page, url: str) -> np.ndarray:
    body = page.request.get(url).body()
    return cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)


def test_photo_with_preset_matches_apply_net_and_dump_downloads(
    page, app_files, apply_net_picture, tmp_path
):
    upload_and_run(page, app_files["photo"], "Hint preset: CivitAI")
    message = wait_for_message(page, "found")
    assert "person.png" in message and "people found" in message
    shown = fetch_image(page, page.locator("#dp-picture img").get_attribute("src"))
    expected = cv2.imread(apply_net_picture["civitai"], cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(shown, expected)  # pixel-exact: the same PNG

    with page.expect_download() as download:
        page.locator("#dp-pkl a[download]").click()
    saved = tmp_path / "results.pkl"
    download.value.save_as(saved)
    records = torch.load(saved, weights_only=False)
    assert len(records) == 1 and records[0]["file_name"].endswith("person.png")
    assert len(records[0]["scores"]) == len(records[0]["pred_densepose"]) > 0
    iuv_names = page.inner_text("#dp-iuv")
    assert "person_IUV" in iuv_names and "person_INDS" in iuv_names
    assert "results" in page.inner_text("#dp-json")
    if os.environ.get("APP_SCREENSHOT"):
        page.screenshot(path=os.environ["APP_SCREENSHOT"], full_page=True)


def test_text_file_and_corrupt_video_give_readable_errors(page, app_files):
    upload_and_run(page, app_files["notes"])
    message = wait_for_message(page, "Error")
    assert "notes.txt" in message and "cannot read image" in message
    assert "Traceback" not in page.content()
    assert page.locator("#dp-picture img").count() == 0

    upload_and_run(page, app_files["corrupt"])
    message = wait_for_message(page, "broken.mp4")
    assert "Error" in message and "video" in message, message


def test_short_video_plays_with_iuv_zip(page, app_files):
    upload_and_run(page, app_files["clip"], "IUV image")
    wait_for_message(page, r"clip\.avi: 4 frames, people found in 4")
    state = page.evaluate(
        """async () => {
            const video = () => document.querySelector('#dp-video video');
            for (let i = 0; i < 200 && !(video() && video().readyState >= 1); i++)
                await new Promise(r => setTimeout(r, 50));
            const v = video();
            return [v.readyState, v.duration, v.videoWidth, v.videoHeight, v.error];
        }"""
    )
    assert state[0] >= 1 and state[1] > 0 and state[2:4] == [128, 96] and state[4] is None, state
    assert "clip_iuv" in page.inner_text("#dp-iuv") and ".zip" in page.inner_text("#dp-iuv")
    assert not page.locator("#dp-picture").is_visible()


def test_video_progress_bar_and_cancel(page, app_files, app_server):
    page.evaluate(WATCH_PROGRESS)
    upload_and_run(page, app_files["long_clip"], "Hint preset: MagicAnimate")
    page.wait_for_function("() => window.__progress.length > 0", timeout=60000)
    page.click("#dp-cancel")
    message = wait_for_message(page, "Cancelled")
    done, total = map(int, re.search(r"after (\d+) of (\d+) frames", message).groups())
    assert total == 120 and 1 <= done < 60, message
    seen = [tuple(map(int, FRAMES_DONE.search(s).groups())) for s in page.evaluate("__progress")]
    assert all(t == 120 for _, t in seen) and min(d for d, _ in seen) <= done
    _, service = app_server
    assert not service.busy, "the model is still busy after the cancel"


def test_missing_browser_skips_with_the_install_command_and_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no Chromium executable found"):
        chromium_path()
