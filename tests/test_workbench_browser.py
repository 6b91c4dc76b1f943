"""The workbench's whole journey in a real headless Chromium against a real server on
localhost: log in, run the default, derive a scenario from it with a lower threshold,
run that, watch the progress to the end, open its map, compare it with the default run
(figures, difference map, changed flows), download the flows CSV and open it; and a
viewer, logged in, cannot start a job.

Screenshots at 1600 and 800 px go to ``$WORKBENCH_SCREENSHOT_DIR`` (or a temporary
folder). Skipped without Chromium, unless ``CI`` is set: then a missing browser fails.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chrome import headless_chrome
from workbench.devserver import LocalServer, add_users

pytestmark = pytest.mark.browser
PASSWORD = "journey-pass-1"
PATHS = "return document.querySelectorAll('.leaflet-overlay-pane svg path').length;"


@pytest.fixture(scope="module")
def shots() -> Path:
    out = os.environ.get("WORKBENCH_SCREENSHOT_DIR")
    path = Path(out) if out else Path(tempfile.mkdtemp(prefix="wb-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def downloads() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wb-downloads-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator[Any]:
    with headless_chrome(downloads=downloads) as drv:
        yield drv


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data = tmp_path_factory.mktemp("wb-journey")
    add_users(data, {"ana": "analyst", "vic": "viewer"}, PASSWORD)
    srv = LocalServer(data, workers=1).start()
    try:
        yield srv
    finally:
        srv.stop()


def _wait(cond: Any, timeout_s: float = 120.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _shoot(
    drv: Any, shots: Path, name: str, *, scroll_to: str | None = None, reload: bool = True
) -> None:
    for width in (1600, 800):
        drv.set_window_size(width, 1000)
        if reload:  # laid out for this width, as a planner opening it would see it
            drv.refresh()
        time.sleep(1.0)
        if scroll_to:
            drv.execute_script(f"document.querySelector({scroll_to!r}).scrollIntoView();")
            time.sleep(0.3)
        drv.save_screenshot(str(shots / f"{name}-{width}.png"))
    drv.set_window_size(1600, 1000)


def _login(drv: Any, server: LocalServer, name: str) -> None:
    from selenium.webdriver.common.by import By

    drv.delete_all_cookies()
    drv.get(server.url + "/login")
    drv.find_element(By.ID, "username").send_keys(name)
    drv.find_element(By.ID, "password").send_keys(PASSWORD)
    drv.find_element(By.ID, "login").click()
    _wait(lambda: drv.find_elements(By.ID, "who"), 20, "the home page")
    assert drv.find_element(By.ID, "who").text.startswith(name)


def _severe(drv: Any) -> list[dict[str, Any]]:
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def _run_to_the_end(drv: Any, shots: Path | None = None) -> int:
    """On a job page: watch the progress steps appear, then the results."""
    from selenium.webdriver.common.by import By

    _wait(lambda: "/jobs/" in drv.current_url, 30, "the job page")
    job = int(drv.current_url.rstrip("/").rsplit("/", 1)[1])
    seen: set[str] = set()

    def progressed() -> bool:
        for li in drv.find_elements(By.CSS_SELECTOR, "#progress ol.steps li"):
            with contextlib.suppress(Exception):  # replaced while read
                seen.add(li.text.split(" ")[0])
        return bool(drv.find_elements(By.ID, "figures"))

    if shots is not None:
        _wait(
            lambda: drv.find_elements(By.CSS_SELECTOR, "#progress ol.steps li.current"),
            120,
            "a running step",
        )
        drv.save_screenshot(str(shots / "job-running-1600.png"))
    _wait(progressed, 240, "the results")
    assert len(seen) >= 3, seen  # steps were shown live, not only at the end
    return job


def test_the_whole_journey(driver: Any, server: LocalServer, shots: Path, downloads: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    drv = driver
    drv.set_window_size(1600, 1000)
    _login(drv, server, "ana")
    _shoot(drv, shots, "home")

    # the default run
    drv.find_element(By.CSS_SELECTOR, 'button.run[data-slug="liaocheng-2019"]').click()
    default_job = _run_to_the_end(drv)

    # derive: the default with a 300 km threshold
    drv.get(server.url + "/")
    drv.find_element(By.CSS_SELECTOR, 'a.scenario-link[data-slug="liaocheng-2019"]').click()
    drv.find_element(By.ID, "derive").click()
    drv.find_element(By.ID, "name").send_keys("threshold-300")
    drv.find_element(By.ID, "title").send_keys("聊城 2019 门槛 300 km / threshold 300 km")
    drv.find_element(By.ID, "threshold_km").send_keys("300")
    _shoot(drv, shots, "derive", reload=False)  # keep what was typed
    drv.find_element(By.ID, "derive-submit").click()
    toml = _wait(lambda: drv.find_elements(By.ID, "toml"), 120, "the derived scenario")[0].text
    assert "policy.threshold_km = 300.0" in toml and "extends = " in toml
    _shoot(drv, shots, "scenario")

    # run it and watch the progress to the end
    drv.find_element(By.ID, "run").click()
    job = _run_to_the_end(drv, shots)
    figures = drv.find_element(By.ID, "figures").text
    assert "现状" in figures and "无规则最低成本" in figures and "有规则最低成本" in figures
    assert "policy_cost_cny" in drv.find_element(By.ID, "comparisons").text
    _shoot(drv, shots, "job")

    # its map, in the page and on its own
    frame = drv.find_element(By.ID, "map-frame")
    drv.switch_to.frame(frame)
    _wait(lambda: drv.execute_script(PATHS), 30, "the map in the frame")
    drv.switch_to.default_content()
    drv.get(f"{server.url}/jobs/{job}/files/map.html")
    paths = _wait(lambda: drv.execute_script(PATHS), 30, "the map")
    assert paths > 0
    # the map's page is sandboxed (opaque origin): its scripts cannot read the session
    assert (
        drv.execute_script(
            "try { document.cookie; return 'readable'; } catch (e) { return 'sandboxed'; }"
        )
        == "sandboxed"
    )
    _shoot(drv, shots, "map")
    drv.get(f"{server.url}/jobs/{job}/files/report.html")
    time.sleep(0.5)
    _shoot(drv, shots, "report")
    assert _severe(drv) == []

    # compare with the default run
    drv.get(f"{server.url}/jobs/{job}")
    Select(drv.find_element(By.ID, "compare-a")).select_by_value(str(default_job))
    drv.find_element(By.ID, "compare").click()
    _wait(lambda: drv.find_elements(By.ID, "compare-figures"), 30, "the comparison")
    assert "policy.threshold_km" in drv.find_element(By.ID, "params").text
    changed = drv.find_elements(By.CSS_SELECTOR, "#changed tbody tr")
    assert changed, "a 300 km threshold changes some flow"
    drv.switch_to.frame(drv.find_element(By.ID, "diff-frame"))
    n_diff = _wait(lambda: drv.execute_script(PATHS), 60, "the difference map")
    assert n_diff > 0
    drv.switch_to.default_content()
    _shoot(drv, shots, "compare")
    _shoot(drv, shots, "compare-map", scroll_to="#diff-frame")

    # download the flows CSV and open it
    drv.get(f"{server.url}/jobs/{job}")
    drv.find_element(By.ID, "download-csv").click()
    csv_path = _wait(lambda: next(iter(downloads.glob("*flows.csv")), None), 30, "the CSV")
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["flow_id"] and any("公路" in r["reason"] or r["reason"] for r in rows)
    assert {r["flow_id"] for r in rows} >= {"F01", "F02"}

    # a viewer looks but cannot start a job
    _login(drv, server, "vic")
    assert drv.find_elements(By.CSS_SELECTOR, "button.run") == []
    drv.get(f"{server.url}/jobs/{job}")
    assert drv.find_elements(By.ID, "figures") and not drv.find_elements(By.ID, "rerun")
    sid = drv.find_element(By.CSS_SELECTOR, "h1 a").get_attribute("href").rsplit("/", 1)[1]
    drv.execute_script(
        "const f = document.createElement('form'); f.method = 'post';"
        f"f.action = '/scenarios/{sid}/run';"
        "const i = document.createElement('input'); i.name = 'csrf';"
        "i.value = document.querySelector('input[name=csrf]').value; f.appendChild(i);"
        "document.body.appendChild(f); f.submit();"
    )
    err = _wait(lambda: drv.find_elements(By.ID, "error"), 20, "the refusal")[0].text
    assert "analyst" in err
    drv.get(f"{server.url}/jobs")
    assert f"#{job + 1}" not in drv.find_element(By.TAG_NAME, "main").text
