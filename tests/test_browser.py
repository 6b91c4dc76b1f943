"""The map and the report in a real headless Chromium (Debian ``chromium`` +
``chromedriver``), opened from ``file://`` with no network.

The journey, on the embedded default run (tests/conftest.py): the map at 1600 px -- layers,
headline and legend that fold, a scale bar in km that nothing covers, labels that do not
overlap, a click on a shipper that draws and lists its flows, a state switched from the
headline; at 800 px -- panels folded, the scale still clear, also with the legend open; the
report's first page in print layout, on one A4 page. Screenshots of each go under the
test's temporary folder, and into ``$FREIGHT_SCREENSHOTS`` when it is set. Then hostile
names: nothing in them runs, in the map (tooltips, the click list) or the report.

Skipped when Chromium is missing, unless ``CI`` is set: then a missing browser fails.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maps import render_map
from maps.modal_map import BASE_LAYERS, HIDDEN_LAYERS, LAYER_NAMES
from tests.chrome import headless_chrome
from tests.fixtures_results import make_network, write_counties, write_result_folder

pytestmark = pytest.mark.browser

#: An A4 sheet at 96 px an inch (the report's @page: A4, 12 mm margins).
A4_PX = (round(210 / 25.4 * 96), round(297 / 25.4 * 96))
#: The map object of the page (folium names it map_<id>).
MAP_JS = ("const maps = Object.keys(window).filter(k => k.startsWith('map_') "
          "&& window[k] instanceof L.Map); const m = window[maps[0]];")  # fmt: skip


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with headless_chrome() as drv:
        yield drv


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Where screenshots go: the test's temporary folder, and $FREIGHT_SCREENSHOTS."""
    out = [tmp_path_factory.mktemp("screenshots")]
    extra = os.environ.get("FREIGHT_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        out.append(Path(extra))
    return out


def _screenshot(drv: Any, shots: list[Path], name: str) -> None:
    for folder in shots:
        assert drv.save_screenshot(str(folder / name))
    assert (shots[0] / name).stat().st_size > 10_000


def _viewport(drv: Any, width: int, height: int) -> None:
    """Make the page's viewport ``width`` × ``height`` CSS px."""
    drv.set_window_size(width, height)
    inner = drv.execute_script("return [window.innerWidth, window.innerHeight];")
    drv.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    assert drv.execute_script("return [window.innerWidth, window.innerHeight];") == [width, height]


def _open(drv: Any, page: Path) -> None:
    drv.get(page.as_uri())
    time.sleep(1.2)
    assert _severe(drv) == []


def _severe(drv: Any) -> list[dict]:
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def _rect(drv: Any, css: str) -> dict[str, float]:
    return drv.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
        " width: r.width, height: r.height};", css)


def _clear_of(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two rectangles do not overlap."""
    return (a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
            or a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5)  # fmt: skip


def _scale_text(drv: Any) -> list[str]:
    return drv.execute_script(
        "return [...document.querySelectorAll('.leaflet-control-scale-line')]"
        ".map(e => e.textContent.trim());")


def _paths(drv: Any) -> int:
    return int(drv.execute_script(
        "return document.querySelectorAll('.leaflet-overlay-pane svg path').length;"))


def _shipper_path(drv: Any, name: str, zoom: float) -> Any:
    """The SVG element of the shipper marker named ``name``, centred at ``zoom``."""
    return drv.execute_script(
        MAP_JS + "let hit = null;"
        "m.eachLayer(l => { if (!hit && l instanceof L.CircleMarker && l.getTooltip()"
        " && l.options.fillColor === '#ffffff'"
        " && String(l.getTooltip().getContent()).includes(arguments[0])) hit = l; });"
        "if (!hit) return null; m.setView(hit.getLatLng(), arguments[1], {animate: false});"
        "return hit._path;", name, zoom)


@pytest.fixture(scope="module")
def default_pages(default_run: dict) -> dict[str, Any]:
    out = default_run["out"]
    with open(out / "flows.csv", encoding="utf-8-sig", newline="") as fh:
        flows = list(csv.DictReader(fh))
    return {"map": out / "map.html", "report": out / "report.html", "flows": flows,
            "summary": json.loads((out / "summary.json").read_text(encoding="utf-8"))}  # fmt: skip


def test_map_journey_at_1600(driver: Any, default_pages: dict, shots: list[Path]) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    _viewport(drv, 1600, 1000)
    _open(drv, default_pages["map"])
    info = drv.execute_script(MAP_JS + "return {version: L.version, maps: maps.length};")
    assert info == {"version": "1.9.4", "maps": 1}

    def labels(section: str) -> list[tuple[str, bool]]:
        return [(e.text.strip(), e.find_element(By.TAG_NAME, "input").is_selected())
                for e in drv.find_elements(By.CSS_SELECTOR,
                                           f".leaflet-control-layers-{section} label")]  # fmt: skip

    # the three states one at a time, with the rule first; the road network off
    assert labels("base") == [(LAYER_NAMES[k], k == "with_rule") for k in BASE_LAYERS]
    assert labels("overlays") == [(LAYER_NAMES[k], k not in HIDDEN_LAYERS) for k in LAYER_NAMES
                                  if k not in BASE_LAYERS]  # fmt: skip
    # the title, the headline figures open on a wide screen
    head = drv.find_element(By.ID, "lc-headline")
    assert drv.find_element(By.ID, "lc-title").text == default_pages["summary"]["title"]
    assert head.find_element(By.TAG_NAME, "details").get_attribute("open") is not None
    assert "规则转出公路货量" in head.text and "有规则最低成本" in head.text
    # the legend open, above a scale bar in km only, which it does not cover
    legend = drv.find_element(By.ID, "lc-legend")
    assert legend.is_displayed() and "图例 Legend" in legend.text
    scale = _scale_text(drv)
    assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0]), scale
    assert _clear_of(_rect(drv, "#lc-legend"), _rect(drv, ".leaflet-control-scale"))
    assert _rect(drv, "#lc-legend")["top"] >= _rect(drv, "#lc-headline")["bottom"]
    # city labels at the opening zoom, never on top of one another
    shown = drv.execute_script(
        "return [...document.querySelectorAll('.lc-label-box')].filter(e => e.style.display "
        "!== 'none').map(e => {const r = e.firstChild.getBoundingClientRect(); return "
        "{t: e.textContent, c: e.firstChild.className, l: r.left, r: r.right, top: r.top, "
        "b: r.bottom};});")
    assert any("lc-label-city" in x["c"] for x in shown)
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            assert _clear_of({"left": a["l"], "right": a["r"], "top": a["top"], "bottom": a["b"]},
                             {"left": b["l"], "right": b["r"], "top": b["top"],
                              "bottom": b["b"]}), (a["t"], b["t"])  # fmt: skip
    _screenshot(drv, shots, "map_1600.png")

    # the panels fold with a click on their title, and open again
    for pid in ("lc-legend", "lc-headline"):
        summary = drv.find_element(By.CSS_SELECTOR, f"#{pid} summary")
        summary.click()
        time.sleep(0.2)
        assert drv.find_element(By.CSS_SELECTOR, f"#{pid} details").get_attribute("open") is None
        if pid == "lc-legend":
            assert _rect(drv, "#lc-legend")["height"] < 40
            assert _clear_of(_rect(drv, "#lc-legend"), _rect(drv, ".leaflet-control-scale"))
        else:
            assert drv.find_element(By.ID, "lc-title").is_displayed()
        summary.click()
        time.sleep(0.2)

    # a click on a shipper: its flows' routes drawn on top, the others dimmed, and listed
    name = "信发集团"
    pid = next(r["origin"] if name in r["origin_name"] else r["destination"]
               for r in default_pages["flows"]
               if name in r["origin_name"] or name in r["destination_name"])  # fmt: skip
    ids = sorted({r["flow_id"] for r in default_pages["flows"]
                  if pid in (r["origin"], r["destination"])})  # fmt: skip
    marker = _shipper_path(drv, name, 9.5)
    assert marker is not None
    time.sleep(0.6)
    marker.click()
    time.sleep(0.6)
    panel = drv.find_element(By.ID, "lc-select")
    assert panel.is_displayed() and name in panel.text
    listed = [e.get_attribute("data-flow") for e in panel.find_elements(By.CSS_SELECTOR, "li")]
    assert sorted(listed) == ids
    drawn = int(panel.get_attribute("data-shown"))
    assert drawn > 0
    assert drv.execute_script("return document.querySelectorAll('.leaflet-lcHi-pane path')"
                              ".length;") == 2 * drawn  # a dark casing under each route
    dimmed = drv.execute_script(
        "return [...document.querySelectorAll('.leaflet-overlay-pane path')]"
        ".filter(p => p.getAttribute('stroke-opacity') === '0.15').length;")
    assert dimmed > 0
    _screenshot(drv, shots, "map_click_1600.png")
    # one listed flow alone, then Esc clears
    panel.find_elements(By.CSS_SELECTOR, "li")[0].click()
    time.sleep(0.3)
    one = int(drv.find_element(By.ID, "lc-select").get_attribute("data-shown"))
    assert 0 < one <= drawn
    drv.find_element(By.TAG_NAME, "body").send_keys("\ue00c")  # Escape
    time.sleep(0.3)
    assert not drv.find_element(By.ID, "lc-select").is_displayed()
    assert drv.execute_script("return document.querySelectorAll('.leaflet-lcHi-pane path')"
                              ".length;") == 0

    # the headline's state columns switch the map's state
    n_with = _paths(drv)
    drv.find_element(By.CSS_SELECTOR, ".lc-states th[data-state='baseline']").click()
    time.sleep(0.4)
    assert [s for s, on in labels("base") if on] == [LAYER_NAMES["baseline"]]
    assert "on" in drv.find_element(By.CSS_SELECTOR, ".lc-states th[data-state='baseline']") \
        .get_attribute("class")
    assert _paths(drv) != n_with
    # the difference view: the rule's effect, less as hollow lines (a white core)
    next(e for e in drv.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-base label")
         if LAYER_NAMES["effect"] in e.text).click()
    time.sleep(0.4)
    assert [s for s, on in labels("base") if on] == [LAYER_NAMES["effect"]]
    assert drv.find_elements(By.CSS_SELECTOR, ".lc-states .on") == []
    cores = drv.execute_script("return [...document.querySelectorAll('.leaflet-overlay-pane "
                               "path')].filter(p => p.getAttribute('stroke') === '#ffffff')"
                               ".length;")  # fmt: skip
    assert cores > 0
    _screenshot(drv, shots, "map_effect_1600.png")
    assert _severe(drv) == []


def test_map_at_800_folds_and_keeps_the_scale_clear(
    driver: Any, default_pages: dict, shots: list[Path]
) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    _viewport(drv, 800, 1000)
    try:
        _open(drv, default_pages["map"])
        opened = drv.execute_script(
            "return [...document.querySelectorAll('.lc-panel details')].map(d => d.open);")
        assert opened == [False, False]  # headline and legend folded: the map first
        assert "leaflet-control-layers-expanded" not in drv.find_element(
            By.ID, "lc-layers").get_attribute("class")
        assert drv.find_element(By.ID, "lc-title").is_displayed()
        scale = _scale_text(drv)
        assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0]), scale
        legend, bar = _rect(drv, "#lc-legend"), _rect(drv, ".leaflet-control-scale")
        assert _clear_of(legend, bar) and bar["bottom"] <= 1000 and bar["left"] >= 0
        assert legend["width"] < 0.4 * 800  # folded, it takes a corner, not the map
        _screenshot(drv, shots, "map_800.png")
        # opened, the legend still sits above the scale bar and inside the map
        drv.find_element(By.CSS_SELECTOR, "#lc-legend summary").click()
        time.sleep(0.3)
        legend, bar = _rect(drv, "#lc-legend"), _rect(drv, ".leaflet-control-scale")
        assert _clear_of(legend, bar) and legend["top"] >= 0 and legend["right"] <= 800
        assert _clear_of(legend, _rect(drv, "#lc-headline"))
        _screenshot(drv, shots, "map_800_legend.png")
        assert _severe(drv) == []
    finally:
        _viewport(drv, 1600, 1000)


def test_report_first_page_holds_the_results(
    driver: Any, default_pages: dict, shots: list[Path]
) -> None:
    """In print layout on an A4 sheet (its 12 mm margins as padding), the title and the
    glance section end within the first page; the screenshot is that page, the rest (which
    print starts on page 2: ``break-after: page``) hidden."""
    drv = driver
    width, height = A4_PX
    _viewport(drv, width, height)
    try:
        drv.get(default_pages["report"].as_uri())
        time.sleep(0.5)
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        drv.execute_script(
            "const s = document.createElement('style');"
            "s.textContent = 'body { padding: 12mm !important; } #glance ~ * { display: none; }';"
            "document.head.appendChild(s);")
        time.sleep(0.3)
        margin = 12 / 25.4 * 96
        assert _rect(drv, "body")["width"] == width
        box = _rect(drv, "#glance")
        assert box["bottom"] <= height - margin, box
        assert drv.execute_script("return getComputedStyle(document.getElementById('glance'))"
                                  ".breakAfter;") == "page"  # fmt: skip
        assert drv.execute_script("return document.querySelectorAll('#glance svg').length;") >= 3
        assert drv.execute_script("return document.scripts.length;") == 0
        _screenshot(drv, shots, "report_page1.png")
        assert _severe(drv) == []
    finally:
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        _viewport(drv, 1600, 1000)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    net = make_network()
    run = write_result_folder(base / "run", net)
    counties = write_counties(base / "counties.geojson")
    return {"map": render_map(run, net, counties=counties)}


def test_narrow_map_folds_the_headline_but_keeps_the_warning(driver: Any, pages: dict) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    _viewport(drv, 800, 1000)
    try:
        _open(drv, pages["map"])
        head = drv.find_element(By.ID, "lc-headline")
        assert "请先校准" in head.text and "calibrate" in head.text
    finally:
        _viewport(drv, 1600, 1000)


# --- hostile names (issue 15) ---------------------------------------------------------------

#: What a name from the data may hold: the end of the title element, a script, a
#: template-literal placeholder, a backtick, quotes, an event handler and a Jinja
#: expression. Each sets window.__pwned if it runs (the Jinja one would be written as 49).
HOSTILE = ("</title><script>window.__pwned='script'</script>`${window.__pwned='literal'}`"
           "'\"<img src=x onerror=\"window.__pwned='img'\">{{7*7}}\\")  # fmt: skip


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
    assert "{{7*7}}" in shown  # as written, not 49
    try:
        alert = drv.switch_to.alert  # type: ignore[attr-defined]
        raise AssertionError(f"an alert is open: {alert.text}")
    except NoAlertPresentException:
        pass
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []  # type: ignore[attr-defined]


def test_hostile_names_in_the_click_list_are_text(
    driver: Any, hostile_pages: dict[str, Path], shots: list[Path]
) -> None:
    """A click on the plant whose name, flows and shipper are hostile: the list shows them
    as text (the page sets it with textContent), and nothing runs."""
    from selenium.webdriver.common.by import By

    drv = driver
    _open(drv, hostile_pages["map"])
    marker = _shipper_path(drv, "电厂", 9)
    assert marker is not None
    time.sleep(0.5)
    marker.click()
    time.sleep(0.5)
    panel = drv.find_element(By.ID, "lc-select")
    assert panel.is_displayed()
    assert "<img src=x" in panel.text and "{{7*7}}" in panel.text and "</script>" in panel.text
    assert int(panel.get_attribute("data-shown")) > 0
    assert panel.find_elements(By.CSS_SELECTOR, "img, script") == []
    assert drv.execute_script("return window.__pwned === undefined;")
    assert _severe(drv) == []
    _screenshot(drv, shots, "map_hostile.png")


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
