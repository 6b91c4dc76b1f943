"""Every string from data that reaches HTML is escaped for where it lands (issue 15);
checked here on the page's text, and in a real browser in tests/test_browser.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freight.cli import main
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


def test_a_name_is_never_rendered_as_a_jinja_template(tmp_path: Path) -> None:
    """branca parses each element's rendered script and HTML again as a Jinja template: a
    name holding ``{{ 7*7 }}`` was written as 49 (and ``{{ ... }}`` could call Python
    while the map was drawn). Every data string reaches the page with its braces escaped."""
    from maps import render_map, render_report
    from tests.fixtures_results import make_network, write_counties, write_result_folder

    net = make_network()
    run = write_result_folder(tmp_path / "run", net)
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    s["title"] = "T{{ 7*7 }}{% if true %}J{% endif %}"
    (run / "summary.json").write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    flows = (run / "flows.csv").read_text(encoding="utf-8-sig")
    (run / "flows.csv").write_text(flows.replace("信发集团", "信发{{ 6*7 }}"), encoding="utf-8-sig")
    html = render_map(run, net, counties=write_counties(tmp_path / "c.geojson")).read_text(
        encoding="utf-8")
    assert "{{" not in html and "{%" not in html
    assert "T49" not in html and "信发42" not in html
    # the headline's title, as text (an {% if %} not taken as a tag either)
    assert "T&#123;&#123; 7*7 &#125;&#125;&#123;% if true %&#125;J&#123;% endif %&#125;" in html
    assert "信发\\u007b\\u007b 6*7 \\u007d\\u007d" in html  # a shipper, in the script data
    report = render_report(run).read_text(encoding="utf-8")
    assert "{{" not in report and "T49" not in report


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


def _js_json_by_dumps(value: object) -> str:
    """The same literal by ``json.dumps`` piece by piece: an independent formulation."""
    table = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
                           "{": "\\u007b", "}": "\\u007d", "\u2028": "\\u2028",
                           "\u2029": "\\u2029"})  # fmt: skip
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).translate(table)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_js_json_by_dumps(str(k))}:{_js_json_by_dumps(v)}"
                              for k, v in value.items()) + "}"  # fmt: skip
    if isinstance(value, list | tuple):
        return "[" + ",".join(_js_json_by_dumps(v) for v in value) + "]"
    return json.dumps(value, allow_nan=False)


_JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON_DATA)
def test_js_json_writes_what_json_dumps_writes(value: object) -> None:
    assert js_json(value) == _js_json_by_dumps(value)
    assert json.loads(js_json(value)) == value


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_js_json_refuses_what_json_refuses(bad: float) -> None:
    with pytest.raises(ValueError):
        js_json([bad])
    with pytest.raises(ValueError):
        json.dumps(bad, allow_nan=False)
