"""The printable report, rendered from the fixture result folder: totals, tables, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maps import render_report
from maps._style import fmt_num
from maps.assets import external_resources
from maps.report import flatten_parameters, modal_split_svg, truck_payload_t
from tests.fixtures_results import make_network, write_result_folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = write_result_folder(tmp_path_factory.mktemp("reprun") / "run", make_network())
    path = render_report(run)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return {"run": run, "path": path, "html": path.read_text(encoding="utf-8"), "s": summary}


def _cells(html: str, row_id: str) -> list[str]:
    m = re.search(rf'<tr[^>]*id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, row_id
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]


def test_self_contained_printable_utf8(report: dict) -> None:
    html = report["html"]
    assert report["path"].name == "report.html"
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert "@media print" in html and "size: A4" in html
    assert external_resources(html) == [] and "<script" not in html
    for text in ("聊城 2019 测试情景", "信发集团", "瓦日铁路", "现状", "无规则最低成本",
                 "有规则最低成本", "Least cost with the rule"):  # fmt: skip
        assert text in html


def test_leads_with_the_warning_and_the_three_states(report: dict) -> None:
    html = report["html"]
    body = html.split("<body>", 1)[1]
    i_warn, i_states = body.index('id="warnings"'), body.index('id="states"')
    first_h2 = body.index("<h2")
    assert i_warn < first_h2 < i_states  # the warning, then the three states, first of all
    assert i_states < body.index('id="sec-1"')
    assert "成本模型不能解释现状选择——请先校准" in body[:i_states]
    assert "does not explain today" in body[:i_states]


def test_states_table_equals_summary(report: dict) -> None:
    html, s = report["html"], report["s"]
    st = s["states"]
    rows = {
        "tonnes-road": ("tonnes", "road"), "tonnes-rail": ("tonnes", "rail"),
        "tkm-road": ("tkm", "road"), "tkm-access": ("access", "tkm"),
        "trips-line_haul": ("truck_trips", "line_haul"), "trips-access": ("truck_trips", "access"),
        "trips-total": ("truck_trips", "total"), "co2": ("co2_t",), "cost": ("cost_cny",),
    }  # fmt: skip

    def get(d: dict, path: tuple) -> float:
        for k in path:
            d = d[k]
        return d  # type: ignore[return-value]

    for rid, path in rows.items():
        cells = _cells(html, f"state-{rid}")
        vals = [get(st[x], path) for x in ("baseline", "without_rule", "with_rule")]
        assert cells[1:4] == [fmt_num(v) for v in vals], rid
        assert cells[4] == fmt_num(vals[1] - vals[2]), rid  # rule effect: without − with
        assert cells[5] == fmt_num(vals[0] - vals[1]), rid  # voluntary: today − without
    eff = s["comparisons"]["rule_effect"]
    assert _cells(html, "state-tonnes-road")[4] == fmt_num(eff["road_t"])
    assert "Rule effect = without − with" in html and "Voluntary = today − without" in html


def test_headline_figures_name_what_they_compare(report: dict) -> None:
    html, s = report["html"], report["s"]
    c = s["comparisons"]
    cost, co2 = c["policy_cost_cny"]["value"], c["co2_abated_by_rule_t"]["value"]
    abate = c["co2_abatement_cny_per_t"]["value"]
    assert abate * co2 == pytest.approx(cost)
    kpi = re.search(r'id="kpi-abatement">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert kpi.startswith(fmt_num(abate, digits=1))
    # the abatement cost is shown with the division it is: policy cost ÷ CO2 abated by the rule
    assert f"policy cost ÷ CO₂ abated by the rule = {fmt_num(cost)} ÷ {fmt_num(co2)}" in html
    assert fmt_num(cost) in re.search(r'id="kpi-policy-cost">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert fmt_num(c["rule_effect"]["road_t"]) in html
    assert _cells(html, "policy-cost")[1] == fmt_num(cost)
    assert _cells(html, "co2-abated")[1] == fmt_num(co2)
    assert _cells(html, "abatement")[1] == fmt_num(abate, digits=1)
    for key in ("rule_effect", "voluntary", "policy_cost_cny", "co2_abatement_cny_per_t"):
        assert c[key]["definition_en"] in html


def test_flows_moved_by_the_rule(report: dict) -> None:
    html = report["html"]
    cells = _cells(html, "moved-F4")  # oil: road without the rule, pipeline with it
    assert cells[5:7] == [fmt_num(300_000), "0"]
    assert 'id="moved-F1"' not in html  # F1's shift happens without the rule too


def test_commodity_and_shipper_totals(report: dict) -> None:
    html, s = report["html"], report["s"]
    modes = ("road", "rail", "pipeline")
    for x in ("baseline", "without_rule", "with_rule"):
        for c, d in s["states"][x]["by_commodity"].items():
            assert _cells(html, f"commodity-{c}-{x}")[2:5] == [fmt_num(d[m]) for m in modes]
    st = s["states"]
    sh = _cells(html, "shipper-total")
    assert sh[1] == fmt_num(sum(st["with_rule"]["tonnes"].values()))
    assert sh[2:5] == [fmt_num(st[x]["tonnes"]["road"]) for x in ("baseline", "without_rule",
                                                                   "with_rule")]  # fmt: skip
    assert sh[5] == fmt_num(s["comparisons"]["rule_effect"]["road_t"])
    assert sh[6] == fmt_num(s["comparisons"]["policy_cost_cny"]["value"])
    assert sh[7] == fmt_num(st["with_rule"]["cost_cny"])


def test_access_tables(report: dict) -> None:
    html, s = report["html"], report["s"]
    st = s["states"]
    row = _cells(html, "access_by_station-stn_lc")
    assert row[0] == "聊城站货场" and row[1] == "东昌府区"
    assert row[2:5] == [fmt_num(st[x]["access"]["tonnes"]) for x in ("baseline", "without_rule",
                                                                       "with_rule")]  # fmt: skip
    assert row[7] == fmt_num(st["with_rule"]["truck_trips"]["access"])
    assert row[8] == fmt_num(st["with_rule"]["access"]["tkm"])
    county = _cells(html, "access_by_county-东昌府区")
    assert county[1:4] == row[2:5]
    assert "短驳" in html and "station ↔ plant" in html


def test_road_left_reasons_and_bottlenecks(report: dict) -> None:
    html, s = report["html"], report["s"]
    assert _cells(html, "road-left-total")[4] == fmt_num(s["states"]["with_rule"]["tonnes"]["road"])
    assert "能力不足 Capacity" in html and "运距不足 Below threshold" in html
    assert "瓦日铁路能力已满" in html
    i1, i2 = (
        html.index("瓦日铁路 武乡—聊城 Wari railway"),
        html.index("日照港站 Rizhao port station"),
    )
    assert i1 < i2  # ranked by shadow price
    assert ">12.50<" in html and ">3.20<" in html


def test_unknown_capacities_are_counted_never_unlimited(report: dict) -> None:
    html = report["html"]
    note = re.search(r"<p id='capacity-unknown'[^>]*>(.*?)</p>", html, re.S).group(1)  # type: ignore[union-attr]
    assert "<b>3</b> of 5 terminals" in note and "<b>0</b> of 3 rail links" in note
    assert "treated as unlimited" in note or "treats them as unlimited" in note
    assert _cells(html, "terminal-stn_lc")[5] == "未知 unknown"
    assert _cells(html, "terminal-rizhao")[5] == "500,000 t/年"
    assert "不限 Unlimited" not in html and "unlimited</td>" not in html


def test_rule_and_parameters(report: dict) -> None:
    html, s = report["html"], report["s"]
    assert "400 km" in html and "soft" in html and "煤炭 Coal" in html
    rows = flatten_parameters(s["parameters"])
    assert ("costs.road.cny_per_tkm", "0.4 CNY/t·km", "[S] 交通运输部 2019") in rows
    assert truck_payload_t(s) == 33.0
    assert "JT/T 1178 &lt;33 t&gt;" in html  # escaped, not markup


def test_first_page_is_the_results(report: dict) -> None:
    """The glance section holds the warning, the rule's figures, the three states with what
    they mean, the maps, the modal split and tonnes by commodity -- and nothing else comes
    before it; print puts it on a page of its own."""
    html = report["html"]
    body = html.split("<body>", 1)[1]
    page1 = body[body.index('<section id="glance">'):body.index("</section>")]
    for needle in ('id="warnings"', 'id="kpi-rule-road"', 'id="kpi-abatement"',
                   "id='glance-states'", "class='note defs'", 'id="flow-maps"',
                   'data-mode="rail" data-state="with_rule"',
                   "id='glance-commodities'"):  # fmt: skip
        assert needle in page1, needle
    assert body.index("</section>") < body.index('id="sec-states"') < body.index('id="sec-1"')
    assert body.index('id="sec-appendix"') > body.index('id="sec-9"')
    assert "#glance { break-after: page; }" in html
    assert "id='parameters'" not in page1 and "<h1>" in body[:body.index('<section id="glance">')]


def test_glance_states_and_commodities_equal_the_summary(report: dict) -> None:
    html, s = report["html"], report["s"]
    st_ = s["states"]
    rows = {"road": ("tonnes", "road", 1e4, 1), "rail": ("tonnes", "rail", 1e4, 1),
            "trips": ("truck_trips", "total", 1e4, 1), "co2": ("co2_t", None, 1e4, 2),
            "cost": ("cost_cny", None, 1e8, 2)}  # fmt: skip
    for rid, (a, b, scale, d) in rows.items():
        vals = [st_[x][a] if b is None else st_[x][a][b]
                for x in ("baseline", "without_rule", "with_rule")]  # fmt: skip
        cells = _cells(html, f"glance-{rid}")
        assert cells[1:4] == [fmt_num(v / scale, digits=d) for v in vals], rid
        assert cells[4] == fmt_num((vals[1] - vals[2]) / scale, digits=d), rid
    assert 'id="glance-pipeline"' in html  # the fixture's oil goes by pipeline with the rule
    for c in st_["with_rule"]["by_commodity"]:
        cells = _cells(html, f"glance-commodity-{c}")
        road = [st_[x]["by_commodity"].get(c, {}).get("road", 0.0)
                for x in ("baseline", "without_rule", "with_rule")]  # fmt: skip
        assert cells[2:5] == [fmt_num(r / 1e4, digits=1) for r in road]
        assert cells[5] == fmt_num((road[1] - road[2]) / 1e4, digits=1)
    assert "现状</b>：各货流今天的运输方式" in html and "Rule effect</b> = without − with" in html


def test_static_maps_drawn_from_links(report: dict) -> None:
    from maps.minimap import MAX_PX, extent, flow_maps, state_svg

    html = report["html"]
    links = json.loads((report["run"] / "links.geojson").read_text(encoding="utf-8"))
    maps = re.search(r'<div class="maps" id="flow-maps">(.*?)</div>', html, re.S).group(1)  # type: ignore[union-attr]
    states = re.findall(r'<svg [^>]*data-state="(\w+)"', maps)
    # today all on the road, without the rule F1 and F2 partly by rail: the modal splits
    # differ, so today gets a panel of its own
    assert states == ["baseline", "without_rule", "with_rule"]
    split = {"tonnes": {"road": 1.0, "rail": 2.0}}
    same = {"states": {"baseline": split, "without_rule": split}}
    two = flow_maps(links, [], summary=same)
    assert re.findall(r'<svg [^>]*data-state="(\w+)"', two) == ["without_rule", "with_rule"]
    assert "Today's modal split is the same as without the rule" in two
    box = extent(links)
    for x in ("baseline", "with_rule"):
        svg = state_svg(links, [], x, box=box, top_t=1.2e6)
        n = sum(int(k) for k in re.findall(r'data-links="(\d+)"', svg))
        assert n == sum(1 for f in links["features"] if f["properties"][f"tonnes_{x}"] > 0)
        widths = [float(w) for w in re.findall(r'stroke-width="([\d.]+)" fill="none"', svg)]
        assert max(widths) <= MAX_PX
    modes = set(re.findall(r'data-mode="(\w+)"', state_svg(links, [], "with_rule", box=box,
                                                             top_t=1e6)))  # fmt: skip
    assert modes == {"road", "rail", "pipeline"}
    assert re.search(r"\d+ km</text>", maps)  # a km scale bar on each panel
    # with the counties: their outline under the flows, said in the legend
    ring = [[115.8, 36.3], [116.1, 36.3], [116.1, 36.6], [115.8, 36.3]]
    county = {"type": "Feature", "properties": {},
              "geometry": {"type": "Polygon", "coordinates": [ring]}}
    counties = {"type": "FeatureCollection", "features": [county]}
    out = flow_maps(links, [], counties=counties)
    assert 'fill="#e8e8e8"' in out and "情景区县" in out


def test_parameters_in_a_chinese_appendix(report: dict) -> None:
    from maps.appendix import param_label, source_kinds

    html = report["html"]
    appendix = html[html.index('id="sec-appendix"'):]
    table = appendix[appendix.index("id='parameters'"):]
    keys = re.findall(r"<tr id='param-([^']+)'>", table)
    # every parameter but the per-commodity costs of commodities not carried (steel)
    assert set(keys) == set(report["s"]["parameters"]) - {"costs.rail.steel.cny_per_t"}
    # grouped: the rule first, then road, rail, ...; the Chinese label, the key beside
    groups = re.findall(r"<tr class='group'><th colspan='3'>(\S+) ", table)
    assert groups == ["政策", "公路", "铁路", "管道", "装卸", "碳价、时间与投资"]
    row = re.search(r"<tr id='param-costs.road.cny_per_tkm'>(.*?)</tr>", table).group(1)  # type: ignore[union-attr]
    assert "公路运价（按吨公里）" in row and "costs.road.cny_per_tkm" in row
    assert "0.4 元/吨公里 <small>CNY/t·km</small>" in row
    assert "有公开出处" in row and "[S] 交通运输部 2019" in row
    port = re.search(r"<tr id='param-costs.handling.port'>(.*?)</tr>", table).group(1)  # type: ignore[union-attr]
    assert "装卸费 · 港口" in port and "校准值" in port and "29.1855" in port
    assert "强制" not in table and "软约束 soft" in table
    assert "煤炭 Coal、矿石 Ore" in table
    assert param_label("costs.rail.coal.cny_per_t") == "铁路 · 煤炭 运价基价1（发到基价）"
    assert param_label("network.link_tolerance_km.rail") == "铁路接入容差"
    assert param_label("costs.something.new") == "costs.something.new"  # no word: the key
    assert [zh for zh, _ in source_kinds("[D from M] x; [S] y")] == ["有公开出处",
                                                                   "由有出处的数据推算"]
    # the sources explained once, in both languages, above the table
    assert "来源标记" in appendix and "Source tags" in appendix


def test_modal_split_svg_proportional(report: dict) -> None:
    tonnes = {x: report["s"]["states"][x]["tonnes"] for x in ("baseline", "without_rule",
                                                             "with_rule")}  # fmt: skip
    svg = modal_split_svg(tonnes, width=690)
    rects = re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="30" fill="[^"]+" '
                       r'data-mode="(\w+)" data-state="(\w+)" data-t="(\d+)"', svg)  # fmt: skip
    assert {x for _, _, x, _ in rects} == {"baseline", "without_rule", "with_rule"}
    on = {m: (float(w), float(t)) for w, m, x, t in rects if x == "with_rule"}
    total = sum(t for _, t in on.values())
    for w, t in on.values():
        assert abs(w - 460 * t / total) < 0.01
    assert sum(w for w, _ in on.values()) == pytest.approx(460, abs=0.05)
    assert modal_split_svg(tonnes) in report["html"]


def test_capital_beside_the_yearly_cost(tmp_path: Path) -> None:
    run = write_result_folder(tmp_path / "run", make_network())
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert "capital-none" in render_report(run).read_text(encoding="utf-8")
    s["capital"]["items"] = [{"id": "sdg", "name": "鲁西专用线 <planned>", "capex_cny": 3.1e9,
                              "life_years": 30, "discount_rate": 0.06,
                              "annualised_cny": 225_211_000.0, "source": "estimate"}]  # fmt: skip
    s["capital"]["annualised_cny"] = 225_211_000.0
    (run / "summary.json").write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    html = render_report(run).read_text(encoding="utf-8")
    assert _cells(html, "state-capital")[2:4] == [fmt_num(225_211_000.0)] * 2
    plus = _cells(html, "state-cost-capital")
    assert plus[3] == fmt_num(s["states"]["with_rule"]["cost_cny"] + 225_211_000.0)
    assert "鲁西专用线 &lt;planned&gt;" in html and "6.0%" in html
    assert _cells(html, "capital-total")[4] == fmt_num(225_211_000.0)


def test_no_banner_without_warnings(tmp_path: Path) -> None:
    run = write_result_folder(tmp_path / "run", make_network())
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    s["warnings"] = []
    (run / "summary.json").write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    assert 'id="warnings"' not in render_report(run).read_text(encoding="utf-8")


def test_text_is_escaped(tmp_path: Path) -> None:
    run = write_result_folder(tmp_path / "run", make_network())
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    s["title"] = "<script>alert(1)</script> & 聊城"
    s["states"]["with_rule"]["access_by_station"]["stn_lc"]["name"] = "<img src=x onerror=1>"
    (run / "summary.json").write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    html = render_report(run).read_text(encoding="utf-8")
    assert (
        "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 聊城" in html
    )
    assert "<img src=x" not in html
    assert "&lt;阈值 2%&gt;" in html  # the warning's text, escaped
