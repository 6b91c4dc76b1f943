"""The fixture map in a real headless Chromium (Debian ``chromium`` + ``chromedriver``),
opened from ``file://`` with no network: Leaflet loads, layers list, SVG paths draw, the
"today" layer toggles from the layer control, and the headline shows the three states with
the warning -- folded on a narrow screen, the warning still in sight.

Skipped when Chromium is missing, unless ``CI`` is set: then a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maps import render_map, render_report
from maps.modal_map import LAYER_NAMES, STATE_LAYERS
from tests.fixtures_results import make_network, write_counties, write_result_folder

pytestmark = pytest.mark.browser

HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1400,1000",
)  # fmt: skip


def _browser_paths() -> tuple[str, str] | None:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    paths = _browser_paths()
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
    drv = webdriver.Chrome(service=Service(paths[1]), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    net = make_network()
    run = write_result_folder(base / "run", net)
    counties = write_counties(base / "counties.geojson")
    return {"map": render_map(run, net, counties=counties), "report": render_report(run)}


def _paths(drv: object) -> int:
    return int(
        drv.execute_script(  # type: ignore[attr-defined]
            "return document.querySelectorAll('.leaflet-overlay-pane svg path').length;"
        )
    )


def _screenshot(drv: object, name: str) -> None:
    out = os.environ.get("MAPS_SCREENSHOT_DIR")
    if out:
        drv.save_screenshot(str(Path(out) / name))  # type: ignore[attr-defined]


def test_map_loads_offline_and_switches_to_today(driver: object, pages: dict) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    drv.get(pages["map"].as_uri())  # type: ignore[attr-defined]
    time.sleep(1.0)
    severe = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert severe == []
    info = drv.execute_script(  # type: ignore[attr-defined]
        "const maps = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map);"
        "return {version: L.version, maps: maps.length,"
        " zoom: maps.length ? window[maps[0]].getZoom() : null};"
    )
    assert info["version"] == "1.9.4" and info["maps"] == 1 and info["zoom"] is not None
    def labels(section: str) -> list[str]:
        return [e.text.strip() for e in drv.find_elements(  # type: ignore[attr-defined]
            By.CSS_SELECTOR, f".leaflet-control-layers-{section} label")]

    assert labels("base") == [LAYER_NAMES[k] for k in STATE_LAYERS]
    assert labels("overlays") == [LAYER_NAMES[k] for k in LAYER_NAMES if k not in STATE_LAYERS]
    assert drv.find_element(By.ID, "lc-legend").is_displayed()  # type: ignore[attr-defined]
    head = drv.find_element(By.ID, "lc-headline")  # type: ignore[attr-defined]
    assert head.is_displayed() and "有规则最低成本" in head.text and "请先校准" in head.text
    n_on = _paths(drv)
    assert n_on > 0
    _screenshot(drv, "map_fixture.png")
    radio = next(
        e
        for e in drv.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-base label")  # type: ignore[attr-defined]
        if LAYER_NAMES["baseline"] in e.text
    ).find_element(By.TAG_NAME, "input")
    assert not radio.is_selected()
    radio.click()
    time.sleep(0.3)
    assert radio.is_selected()
    # one state at a time: today's flows (all on the road) replace the with-rule ones
    assert _paths(drv) != n_on
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []  # type: ignore[attr-defined]


def test_narrow_map_folds_the_headline_but_keeps_the_warning(driver: object, pages: dict) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    drv.set_window_size(800, 1000)  # type: ignore[attr-defined]
    try:
        drv.get(pages["map"].as_uri())  # type: ignore[attr-defined]
        time.sleep(0.8)
        opened = drv.execute_script(  # type: ignore[attr-defined]
            "return [...document.querySelectorAll('.lc-headline details, .lc-legend details')]"
            ".map(d => d.open);"
        )
        assert opened == [False, False]
        head = drv.find_element(By.ID, "lc-headline")  # type: ignore[attr-defined]
        assert "请先校准" in head.text and "calibrate" in head.text
        _screenshot(drv, "map_fixture_800.png")
    finally:
        drv.set_window_size(1400, 1000)  # type: ignore[attr-defined]


def test_report_renders(driver: object, pages: dict) -> None:
    drv = driver
    drv.get(pages["report"].as_uri())  # type: ignore[attr-defined]
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []  # type: ignore[attr-defined]
    n_rects = drv.execute_script("return document.querySelectorAll('svg rect').length;")  # type: ignore[attr-defined]
    assert n_rects >= 4
    _screenshot(drv, "report_fixture.png")


# --- hostile names (issue 15) ---------------------------------------------------------------

#: What a name from the data may hold: the end of the title element, a script, a
#: template-literal placeholder, a backtick, quotes and an event handler. Each sets
#: window.__pwned if it runs.
HOSTILE = ("</title><script>window.__pwned='script'</script>`${window.__pwned='literal'}`"
           "'\"<img src=x onerror=\"window.__pwned='img'\">\\")  # fmt: skip


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real run (freight run, maps on) of the small scenario of tests/scenario_kit.py
    with HOSTILE in every name field: title, places (mine, plant, terminals; names and
    counties), a place id, flow ids, shippers, the rail line's name, an investment's name,
    and a bottleneck."""
    from freight.cli import main
    from tests.scenario_kit import DEFAULT_FLOWS, DEFAULT_PLACES, write_scenario

    base = tmp_path_factory.mktemp("hostile")
    places = [dict(p, name=f"{p['name']}{HOSTILE}", county=HOSTILE) for p in DEFAULT_PLACES]
    places[1]["capacity_t"] = 600  # a binding terminal: a bottleneck marker too
    places[2]["id"] = f"mine{HOSTILE}"
    flows = [dict(DEFAULT_FLOWS[0], id=f"F{HOSTILE}", origin=places[2]["id"], shipper=HOSTILE),
             dict(DEFAULT_FLOWS[0], id="F2", origin=places[2]["id"], tonnes_per_year=50,
                  shipper=f"2{HOSTILE}")]  # fmt: skip
    investment = (f"[investments.x]\nname = {json.dumps('投资' + HOSTILE, ensure_ascii=False)}\n"
                  'capex_cny = 1e6\nlife_years = 10\nsource = "test"\n')  # fmt: skip
    toml = write_scenario(base / "s", title=f"标题{HOSTILE}", places=places, flows=flows,
                          rail_name=f"铁路{HOSTILE}", enforcement="soft",
                          extra_toml=investment)  # fmt: skip
    out = base / "out"
    assert main(["run", str(toml), "--out", str(out)]) == 0
    return {"map": out / "map.html", "report": out / "report.html"}


def _open_everything(drv: object) -> int:
    """Open every tooltip and popup of every layer (and every layer group): their HTML
    is inserted as they open. Returns how many were opened."""
    return int(drv.execute_script(  # type: ignore[attr-defined]
        "const maps = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map);"
        "const m = window[maps[0]]; let n = 0;"
        "for (const k of Object.keys(window)) {"
        "  const g = window[k];"
        "  if (g instanceof L.LayerGroup && !m.hasLayer(g)) { m.addLayer(g); }"
        "}"
        "m.eachLayer(l => {"
        "  if (l.getTooltip && l.getTooltip()) { l.openTooltip(l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : undefined)); n++; }"
        "  if (l.getPopup && l.getPopup()) { l.openPopup(); n++; }"
        "});"
        "return n;"
    ))


def test_hostile_names_run_nothing_and_the_map_still_draws(
    driver: object, hostile_pages: dict[str, Path]
) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    drv = driver
    drv.get(hostile_pages["map"].as_uri())  # type: ignore[attr-defined]
    time.sleep(1.0)
    assert drv.execute_script("return window.__pwned === undefined;")  # type: ignore[attr-defined]
    severe = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert severe == []
    assert _paths(drv) > 0
    assert drv.title.startswith("标题</title>")  # type: ignore[attr-defined]  # the name, as text
    opened = _open_everything(drv)
    assert opened >= 5
    time.sleep(0.5)
    assert drv.execute_script("return window.__pwned === undefined;")  # type: ignore[attr-defined]
    # the names are shown as text wherever they appear
    shown = drv.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll('.leaflet-tooltip, .leaflet-popup'))"
        ".map(e => e.textContent).join('\\n');"
    )
    assert "`${window.__pwned='literal'}`" in shown and "<img src=x" in shown
    try:
        alert = drv.switch_to.alert  # type: ignore[attr-defined]
        raise AssertionError(f"an alert is open: {alert.text}")
    except NoAlertPresentException:
        pass
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []  # type: ignore[attr-defined]
    _screenshot(drv, "map_hostile.png")


def test_hostile_names_in_the_report_are_text(
    driver: object, hostile_pages: dict[str, Path]
) -> None:
    drv = driver
    drv.get(hostile_pages["report"].as_uri())  # type: ignore[attr-defined]
    time.sleep(0.3)
    assert drv.execute_script("return window.__pwned === undefined;")  # type: ignore[attr-defined]
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []  # type: ignore[attr-defined]
    assert drv.title.startswith("标题</title>")  # type: ignore[attr-defined]
    body = drv.execute_script("return document.body.textContent;")  # type: ignore[attr-defined]
    assert HOSTILE.replace("\\", "") in body.replace("\\", "")
