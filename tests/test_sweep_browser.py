"""sweep.html in a real headless Chromium, from ``file://`` with no network: the charts
draw, nothing is fetched, no script error, the point chooser shows one MAC curve at a time,
and at 800 px the charts stack in one column."""

from __future__ import annotations

from pathlib import Path

import pytest

from freight.sweep import run_sweep
from freight.sweep_results import write_sweep
from maps.sweep_page import render_sweep
from tests.sweep_cases import write_two_flows
from tests.test_browser import driver  # noqa: F401  (the fixture: skipped without Chromium)

pytestmark = pytest.mark.browser


def test_sweep_page_draws_offline_and_the_point_chooser_works(
    driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = write_two_flows(tmp_path / "two", rail_capacity_t=1000.0)
    sweep = run_sweep(base, [{"policy.threshold_km": v} for v in (250.0, 400.0, 600.0)])
    write_sweep(sweep, tmp_path / "sw")
    page = render_sweep(tmp_path / "sw")
    driver.set_window_size(1600, 1200)
    driver.get(page.as_uri())
    assert "Sweep" in driver.title
    charts = driver.find_elements(By.CSS_SELECTOR, "#curves svg.chart")
    assert len(charts) == 4 and all(c.size["width"] > 300 for c in charts)
    # the two infeasible points are red crosses in every chart
    assert len(driver.find_elements(By.CSS_SELECTOR, "#curves g.fail")) == 4 * 2
    # shown first: the only optimal point (the base's 400 km has none)
    visible = [d for d in driver.find_elements(By.CSS_SELECTOR, ".mac") if d.is_displayed()]
    assert len(visible) == 1 and visible[0].get_attribute("data-point") == "2"
    Select(driver.find_element(By.ID, "mac-point")).select_by_index(0)
    visible = [d for d in driver.find_elements(By.CSS_SELECTOR, ".mac") if d.is_displayed()]
    assert len(visible) == 1 and visible[0].get_attribute("data-point") == "0"
    assert "infeasible" in visible[0].text and "F2" in visible[0].text  # its error
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(n.startswith("file:") for n in names)
    driver.set_window_size(800, 1200)
    xs = {c.location["x"] for c in driver.find_elements(By.CSS_SELECTOR, "#curves .card")}
    assert len(xs) == 1  # one column
