"""Headless Chromium for the browser tests: one way to start it, for the map and report,
the sweep page and the workbench's journey.

:func:`headless_chrome` skips the test where Chromium or chromedriver is missing, unless
``CI`` is set: then a missing browser fails (``.ci/run`` installs both from Debian). The
browser runs with a throw-away profile, removed with the browser, and fetches nothing by
itself (no sync, no component updates, no background networking).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--hide-scrollbars", "--window-size=1600,1000",
)  # fmt: skip


def browser_paths() -> tuple[str, str] | None:
    """Chromium's and chromedriver's paths, or None when either is not installed."""
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@contextlib.contextmanager
def headless_chrome(*, downloads: Path | None = None) -> Iterator[Any]:
    """A Selenium driver of headless Chromium keeping the browser's console log, saving
    downloads to ``downloads`` without asking; quit and its profile removed on exit."""
    paths = browser_paths()
    if paths is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI is set but chromium/chromedriver are not installed")
        pytest.skip(
            "chromium + chromedriver not installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in HEADLESS_FLAGS:
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.binary_location = paths[0]
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        opts.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    drv = webdriver.Chrome(service=Service(paths[1]), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
