"""Every string from data that reaches HTML is escaped for where it lands (issue 15);
checked here on the page's text, and in a real browser in tests/test_browser.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

from freight.cli import main
import pytest

from maps._escape import html_text, js_json, js_string
from tests.test_browser import HOSTILE


def test_js_string_cannot_end_a_script_or_become_a_template() -> None:
    text = js_string(HOSTILE + "\u2028")
    assert json.loads(text) == HOSTILE + "\u2028"
    for raw in ("<", ">", "&", "'", "`${", "\u2028"):
        if raw != "`${":
            assert raw not in text
    assert text.startswith('"') and text.endswith('"')  # a plain string literal, not `...`


def test_html_text_escapes_markup_and_quotes() -> None:
    assert html_text('<a href="x">\'') == "&lt;a href=&quot;x&quot;&gt;&#x27;"
    assert html_text(None) == ""
    assert html_text("{{ 7*7 }}") == "&#123;&#123; 7*7 &#125;&#125;"


def test_js_json_is_data_that_never_reads_as_markup_or_a_template() -> None:
    value = {"n": HOSTILE, "xs": [1, 2.5, None, True, "{%x%}"], "k{": "}"}
    text = js_json(value)
    assert json.loads(text) == value
    for raw in ("<", ">", "&", "'", "{{", "{%", "}}"):
        assert raw not in text.replace('{"n"', "").replace("]}", "")
    assert "信发" in js_json("信发")  # UTF-8, not \\u escapes: half the bytes
    with pytest.raises(ValueError):
        js_json(float("nan"))


def test_no_hostile_name_reaches_a_page_raw(tmp_path: Path) -> None:
    """Without a browser: the pages hold the names only escaped (as entities, or as
    JSON string literals inside scripts), never a tag or a backtick literal of ours."""
    from tests.scenario_kit import DEFAULT_FLOWS, DEFAULT_PLACES, write_scenario

    places = [dict(p, name=f"{p['name']}{HOSTILE}") for p in DEFAULT_PLACES]
    places[1]["capacity_t"] = 600
    flows = [dict(DEFAULT_FLOWS[0], shipper=HOSTILE)]
    toml = write_scenario(tmp_path / "s", title=HOSTILE, places=places, flows=flows,
                          rail_name=HOSTILE, enforcement="soft")  # fmt: skip
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out)]) == 0
    for page in ("map.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script>window.__pwned" not in html, page
        assert "<img src=x" not in html, page
        assert "</title><script>" not in html, page
    html = (out / "map.html").read_text(encoding="utf-8")
    assert html.count("<title>") == 1 and html.count("</title>") == 1
    assert not re.search(r"bindTooltip\(\s*`", html)  # folium's template-literal tooltips
