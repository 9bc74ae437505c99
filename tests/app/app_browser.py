"""Debian's Chromium driven by Playwright for Python (Playwright's own browser download is not
needed): launch it, or skip (fail in CI) with the command that installs it."""

import os
import shutil

import pytest

INSTALL = (
    'pip install -e ".[app]" && sudo apt-get install -y chromium '
    "(or run scripts/setup_env.sh as root)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # without these Chromium floods refused connections
    "--disable-component-update",
    "--disable-sync",
]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str:
    """$CHROMIUM, else the first Chromium on PATH; skips (fails when $CI is true) if none."""
    path = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, CANDIDATES)), None)
    if path is None or not os.path.exists(path):
        missing("no Chromium executable found (set $CHROMIUM or install Debian's chromium)")
    return path


def missing(what: str) -> None:
    message = f"browser test: {what}; install: {INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
