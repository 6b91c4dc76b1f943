"""The modal map, rendered from the fixture result folder: layers, colours, widths, values,
labels, planned lines, the panels and the click data, offline (the page's HTML, no browser;
tests/test_browser.py opens it in Chromium)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from shapely.geometry import LineString

from maps import _style as st
from maps import render_map
from maps.assets import external_resources
from maps.interaction import flow_table, place_flows
from maps.labels import LABEL_MIN_ZOOM, LABEL_ORDER, place_labels
from maps.layers import (
    MAX_WIDTH_PX,
    MIN_FLOW_PX,
    NETWORK_WIDTH_PX,
    PLANNED_NETWORK_WIDTH_PX,
    flow_names,
    link_label,
    planned_edges,
    planned_places,
)
from maps.modal_map import (
    BASE_LAYERS,
    HIDDEN_LAYERS,
    LAYER_NAMES,
    STATE_LAYERS,
    access_layer_features,
    access_station_markers,
    county_shading,
    effect_layer_features,
    flow_layer_features,
    headline_panel,
    network_layer_features,
    shipper_markers,
    terminal_markers,
    width_unit_t,
)
from maps.panels import legend_html
from maps.results import county_reduction, read_results
from networks import Link, Place
from tests.fixtures_results import make_network, write_counties, write_result_folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("maprun")
    net = make_network()
    run = write_result_folder(base / "run", net)
    counties = write_counties(base / "counties.geojson")
    path = render_map(run, net, counties=counties)
    return {"run": run, "net": net, "counties": counties, "path": path,
            "html": path.read_text(encoding="utf-8"), "results": read_results(run)}  # fmt: skip


def _payloads(html: str) -> list[tuple[str, dict, dict]]:
    """(variable, FeatureCollection, options) of every GeoJSON layer in the page."""
    return [(m.group(1), json.loads(m.group(2)), json.loads(m.group(3)))
            for m in re.finditer(r"var (\w+) = LC\.geojson\(\w+,\s*(\{.*\}), (\{[^\n]*\})\);",
                                 html)]  # fmt: skip


def _layer(html: str, first_id_prefix: str) -> tuple[str, dict, dict]:
    for var, fc, opts in _payloads(html):
        if fc["features"] and str(fc["features"][0].get("id", "")).startswith(first_id_prefix):
            return var, fc, opts
    raise AssertionError(f"no layer with ids {first_id_prefix}*")


def _script_order(html: str, *needles: str) -> list[int]:
    return [html.index(n) for n in needles]


def test_offline_no_external_scripts_or_css(rendered: dict) -> None:
    html = rendered["html"]
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert external_resources(html) == []
    for cdn in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn"):
        assert cdn not in html
    assert "Leaflet 1.9.4" in html  # the vendored copy is inlined
    assert ".leaflet-control-layers-toggle" in html and "url(data:image/png;base64," in html
    assert "$(`" not in html and "$.ajax" not in html  # nothing that needs jQuery
    assert "LC.interact(" in html and "LC.labels(" in html  # our own script, inlined


def test_meta_charset_and_chinese_preserved(rendered: dict) -> None:
    html = rendered["html"]
    assert '<meta charset="utf-8">' in html[:600]
    for text in ("信发集团", "瓦日铁路", "规则转出的公路货量", "利用率"):
        assert text in html
    names = {f["properties"].get("name") or f["properties"].get("label")
             for _, fc, _ in _payloads(html) for f in fc["features"]}  # fmt: skip
    assert {"瓦日铁路", "茌平区", "莘县"} <= names


def test_title_and_collapsible_headline(rendered: dict) -> None:
    s = rendered["results"].summary
    html = rendered["html"]
    panel = headline_panel(s)
    title = re.search(r"<div class='lc-title' id='lc-title'>(.*?)</div>", panel).group(1)  # type: ignore[union-attr]
    assert title == st.esc(s["title"])
    # the title and the warning stay in sight; the figures fold under a <details>
    head, body = panel.split("<details open><summary>", 1)
    assert "lc-title" in head and "请先校准" in head
    assert "lc-kpis" in body and "lc-states" in body
    assert 'id="lc-headline"' in html and "<details open>" in html
    assert re.search(r'LC\.panel\(\w+, "lc-headline",\s*"topleft"\)', html)


def test_headline_panel_states_and_warning(rendered: dict) -> None:
    s = rendered["results"].summary
    panel = headline_panel(s)
    assert "成本模型不能解释现状选择——请先校准" in panel.split("</summary>")[0]  # shown folded
    for x in ("现状", "无规则最低成本", "有规则最低成本"):
        assert x in panel
    st_ = s["states"]
    for x in ("baseline", "without_rule", "with_rule"):
        assert st.fmt_num(st_[x]["truck_trips"]["total"]) in panel
        assert st.fmt_num(st_[x]["tonnes"]["road"] / 1e4, digits=1) in panel
        assert f"<th data-state='{x}'" in panel  # a column head switches the map's state
    assert "without − with" in panel and "policy cost ÷ CO₂ abated by the rule" in panel
    eff = s["comparisons"]["rule_effect"]["road_t"]
    assert f"{st.fmt_num(eff / 1e4, digits=1)} 万t" in panel
    s2 = dict(s, warnings=[], title="<b>x</b>")
    assert "lc-warn" not in headline_panel(s2) and "&lt;b&gt;x&lt;/b&gt;" in headline_panel(s2)


def test_layer_switch_states_one_at_a_time_and_road_off(rendered: dict) -> None:
    html = rendered["html"]
    lines = html[html.index("LC.layers(map_"):].splitlines()
    bases = re.findall(r'\["([^"]+)", feature_group_\w+\]', lines[1])
    overlays = re.findall(r'\["([^"]+)", feature_group_\w+\]', lines[2])
    assert bases == [LAYER_NAMES[x] for x in BASE_LAYERS]
    assert overlays == [LAYER_NAMES[k] for k in LAYER_NAMES if k not in BASE_LAYERS]
    # at load: the with-rule flows, not the other states, not the road network
    assert {"baseline", "without_rule", "effect", "road"} == HIDDEN_LAYERS
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup", html)
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(map_", html))
    assert len(groups) == len(LAYER_NAMES) and len(added) == len(LAYER_NAMES) - 4
    road_group = re.search(r'\["' + re.escape(LAYER_NAMES["road"]) + r'", (feature_group_\w+)\]',
                           html).group(1)  # type: ignore[union-attr]
    assert road_group not in added
    with_rule = re.search(r'\["' + re.escape(LAYER_NAMES["with_rule"])
                          + r'", (feature_group_\w+)\]', html).group(1)  # type: ignore[union-attr]
    assert with_rule in added


def test_flow_features_values_colours_widths(rendered: dict) -> None:
    links = rendered["results"].links
    unit = width_unit_t(links)
    for state in ("baseline", "without_rule", "with_rule"):
        feats = flow_layer_features(links, state, unit_t=unit)
        src = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]):
               f["properties"] for f in links["features"]
               if f["properties"][f"tonnes_{state}"] > 0}  # fmt: skip
        assert len(feats) == len(src)
        for f in feats:
            p = f["properties"]
            s = src[(p["mode"], p["u"], p["v"])]
            assert p["tonnes"] == s[f"tonnes_{state}"]
            assert p["colour"] == st.MODE_COLOURS[p["mode"]]
            assert f"{st.fmt_num(p['tonnes'])} t" in p["tip"]
            assert st.state_label(state) in p["tip"]
            for c, t in s[f"by_commodity_{state}"].items():
                assert f"{st.commodity_label(c)}: {st.fmt_num(t)} t" in p["tip"]
            assert "dash" not in p  # dashes mean "planned", never a state
        by_t = sorted(feats, key=lambda f: f["properties"]["tonnes"])
        widths = [f["properties"]["weight"] for f in by_t]
        assert widths == sorted(widths) and max(widths) <= MAX_WIDTH_PX
        assert min(widths) >= MIN_FLOW_PX
    on = flow_layer_features(links, "with_rule")
    modes = {f["properties"]["mode"] for f in on}
    assert modes == {"road", "rail", "pipeline"}
    with pytest.raises(ValueError, match="state must be one of"):
        flow_layer_features(links, "after")


def test_flows_are_wider_than_the_idle_network(rendered: dict) -> None:
    html = rendered["html"]
    flow = [f["properties"]["weight"] for _, fc, _ in _payloads(html) for f in fc["features"]
            if str(f.get("id", "")).startswith(STATE_LAYERS)]  # fmt: skip
    net = [f["properties"]["weight"] for _, fc, _ in _payloads(html) for f in fc["features"]
           if re.fullmatch(r"(road|rail|pipeline)\d+", str(f.get("id", "")))
           and not f["properties"]["planned"]]  # fmt: skip
    assert flow and net
    assert min(flow) > max(net)
    assert max(NETWORK_WIDTH_PX.values()) < MIN_FLOW_PX


def test_rule_effect_layer_solid_more_hollow_less(rendered: dict) -> None:
    """The difference view: with − without per link; F4's oil leaves the road (9–4, a
    hollow red line) for the pipeline (a solid purple one); links the rule leaves alone are
    not drawn."""
    res = rendered["results"]
    feats = effect_layer_features(res.links)
    by = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]): f["properties"]
          for f in feats if not f["properties"].get("core")}  # fmt: skip
    assert set(by) == {("road", 4, 9), ("pipeline", 201, 202)}
    road = by[("road", 4, 9)]
    (core,) = [f["properties"] for f in feats if f["properties"].get("core")]
    assert feats[feats.index(next(f for f in feats if f["properties"] is core)) - 1][
        "properties"] is road  # the core right after its line: drawn over it
    assert road["delta"] == -300_000 and road["colour"] == st.MODE_COLOURS["road"]
    assert core["colour"] == "#ffffff" and core["weight"] < road["weight"]
    assert "tip" not in core  # the mouse goes through it to the line's tooltip
    pipe = by[("pipeline", 201, 202)]
    assert pipe["delta"] == 300_000 and pipe["colour"] == st.MODE_COLOURS["pipeline"]
    assert "+300,000 t/年" in pipe["tip"] and "−300,000 t/年" in road["tip"]
    assert pipe["weight"] == road["weight"]  # one width scale for more and less
    html = rendered["html"]
    _, fc, _ = _layer(html, "effect")
    assert [f["id"] for f in fc["features"]] == [f["id"] for f in feats]
    assert "减少（空心）less (hollow)" in html


def test_rendered_flow_tooltips_and_colours_match_links(rendered: dict) -> None:
    html = rendered["html"]
    links = rendered["results"].links
    _, fc, opts = _layer(html, "with_rule")
    expected = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]):
                f["properties"]["tonnes_with_rule"] for f in links["features"]
                if f["properties"]["tonnes_with_rule"] > 0}  # fmt: skip
    seen = {}
    for f in fc["features"]:
        p = f["properties"]
        seen[(p["mode"], p["u"], p["v"])] = p["tonnes"]
        assert f"<b>{st.fmt_num(p['tonnes'])} t/年 t/yr</b>" in p["tip"]
        assert p["colour"] == st.MODE_COLOURS[p["mode"]]
    assert seen == expected and opts["opacity"] > 0.5
    rail = [f for f in fc["features"] if f["properties"]["mode"] == "rail"]
    assert rail and all(f["properties"]["colour"] == "#2166ac" for f in rail)
    _, fc_b, _ = _layer(html, "baseline")
    assert {f["properties"]["mode"] for f in fc_b["features"]} == {"road"}
    _, fc_o, _ = _layer(html, "without_rule")
    assert {f["properties"]["mode"] for f in fc_o["features"]} == {"road", "rail"}


def test_road_links_named_by_road_else_by_their_flows(rendered: dict) -> None:
    res = rendered["results"]
    names = flow_names(res.flows)
    # the fixture's roads have names: the name is the label
    for f in flow_layer_features(res.links, "with_rule", names=names):
        p = f["properties"]
        assert p["label"] and p["label"] != "—"
    named = next(f["properties"] for f in res.links["features"]
                 if f["properties"]["name"] == "G22 青兰高速")  # fmt: skip
    assert link_label(named, "with_rule", names) == "G22 青兰高速"
    # without a name (OSM roads in the default data have none): origin → destination
    blank = [dict(f, properties=dict(f["properties"], name="", lines=[]))
             for f in res.links["features"]]  # fmt: skip
    feats = flow_layer_features({"features": blank}, "with_rule", names=names)
    by_uv = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]):
             f["properties"] for f in feats}  # fmt: skip
    g22 = by_uv[("road", named["u"], named["v"])]  # F1's road part: 武乡 → 信发
    assert g22["label"] == "公路: 武乡煤矿 → 信发集团"
    assert "武乡煤矿 → 信发集团" in g22["tip"]
    assert all(p["label"] != "—" and "→" in p["label"] for p in by_uv.values())
    # more flows than pairs shown: the biggest first, then how many more
    props = {"mode": "road", "u": 1, "v": 2, "name": "", "lines": [],
             "flows_with_rule": ["F1", "F2", "F3", "F4"]}  # fmt: skip
    label = link_label(props, "with_rule", names)
    assert label.startswith("公路: 武乡煤矿 → 信发集团；") and label.endswith("(+2 more)")
    assert link_label(dict(props, flows_with_rule=[]), "with_rule", names) == "公路区段 1–2"


def test_network_layers_rail_named_hsr_dotted_road_clipped(rendered: dict) -> None:
    net = rendered["net"]
    rail = network_layer_features(net.graphs["rail"])
    by_label = {f["properties"]["label"]: f["properties"] for f in rail}
    assert by_label["京沪高铁"]["freight"] is False
    assert by_label["京沪高铁"]["colour"] == st.NO_FREIGHT_COLOUR
    assert by_label["京沪高铁"]["dash"] == st.NO_FREIGHT_DASH != st.PLANNED_DASH
    assert by_label["瓦日铁路"]["colour"] == st.NETWORK_COLOURS["rail"]
    assert by_label["瓦日铁路"]["edges"] == 2 and "瓦日铁路" in by_label["瓦日铁路"]["tip"]
    assert not any(p["planned"] for p in by_label.values())
    html = rendered["html"]
    _, road, _ = _layer(html, "road")
    labels = {f["properties"]["label"] for f in road["features"]}
    assert "G105" in labels  # inside the Liaocheng box, no flow
    assert "G22 青兰高速" in labels  # carries flow
    assert "G5 京昆高速" not in labels  # outside the box, no flow


def _planned_network():  # type: ignore[no-untyped-def]
    """The fixture network plus a planned line 聊城站 → 泰安 (not in the box) and its gate."""
    net = make_network()
    g = net.graphs["rail"]
    g.add_node(107, x=117.10, y=36.19)
    geom = LineString([(115.98, 36.45), (117.10, 36.19)])
    g.add_edge(102, 107, length_km=105.0, geometry=geom, name="聊泰铁路 (规划)",
               lines=("聊泰铁路 (规划)",), capacity_t=2e7, freight=True, commodities=None,
               added="planned", piece=0)  # fmt: skip
    net.places["gate_ta"] = Place(id="gate_ta", name="泰安 厂内站 (规划)", lon=117.10,
                                  lat=36.19, kind="siding", modes=("road", "rail"))  # fmt: skip
    net.links["gate_ta"] = {"road": Link(node=1, offset_km=0.0),
                            "rail": Link(node=107, offset_km=0.0)}  # fmt: skip
    return net


def test_planned_lines_and_gates_dashed_and_marked_in_the_legend(tmp_path: Path) -> None:
    net = _planned_network()
    assert planned_edges(net) == {("rail", 102, 107)}
    assert planned_places(net) == {"gate_ta"}  # 聊城站 joins existing track too: not planned
    feats = {f["properties"]["label"]: f["properties"]
             for f in network_layer_features(net.graphs["rail"], bbox=(0, 0, 1, 1))}  # fmt: skip
    plan = feats["聊泰铁路 (规划)"]  # drawn though outside the box: planned lines always are
    assert plan["planned"] and plan["dash"] == st.PLANNED_DASH
    assert plan["colour"] == st.MODE_COLOURS["rail"] and plan["weight"] == PLANNED_NETWORK_WIDTH_PX
    assert "规划 planned" in plan["tip"]
    # a flow on a planned line is dashed too
    props = {"mode": "rail", "u": 107, "v": 102, "name": "聊泰铁路", "tonnes_with_rule": 1e5}
    line = {"type": "LineString", "coordinates": [[115.98, 36.45], [117.1, 36.19]]}
    links = {"features": [{"geometry": line, "properties": props}]}
    (f,) = flow_layer_features(links, "with_rule", planned=planned_edges(net))
    assert f["properties"]["dash"] == st.PLANNED_DASH and "规划 planned" in f["properties"]["tip"]
    marks = terminal_markers([{"id": "gate_ta", "name": "泰安", "lon": 117.1, "lat": 36.19},
                              {"id": "stn_lc", "name": "聊城站", "lon": 116, "lat": 36.4}],
                             planned={"gate_ta"})  # fmt: skip
    assert [m["planned"] for m in marks] == [True, False]
    assert marks[0]["dash"] == st.PLANNED_DASH and "规划" in marks[0]["tip"]
    assert "<h4>规划 Planned</h4>" in legend_html(1e5, [], has_counties=False, has_planned=True)
    assert "规划" not in legend_html(1e5, [], has_counties=False, has_planned=False)
    run = write_result_folder(tmp_path / "run", net)
    html = render_map(run, net).read_text(encoding="utf-8")
    assert "<h4>规划 Planned</h4>" in html
    _, fc, opts = next(p for p in _payloads(html)
                       if any(f["properties"].get("planned") for f in p[1]["features"]))
    assert opts["opacity"] > 0.9 and all(f["properties"]["planned"] for f in fc["features"])


def test_shippers_tooltip_three_states_and_click_summary(rendered: dict) -> None:
    res = rendered["results"]
    marks = {m["id"]: m for m in shipper_markers(rendered["net"], res.flows)}
    assert set(marks) == {"xinfa", "dongchang", "huaxiang"}  # shipper/plant kinds only
    x = marks["xinfa"]
    assert x["road"] == {"baseline": 1_700_000, "without_rule": 300_000, "with_rule": 300_000}
    assert x["with_rule"]["rail"] == 1_400_000 and x["road_t"] == 300_000
    assert x["summary"][0] == ["(t/年)", "现状", "无规则最低成本", "有规则最低成本"]
    assert x["summary"][1] == ["公路 Road", "1,700,000", "300,000", "300,000"]
    assert "1,700,000" in x["tooltip"] and "1,400,000" in x["tooltip"]
    assert "有规则时全部离开公路" in marks["huaxiang"]["tooltip"]
    html = rendered["html"]
    assert "L.circleMarker" in html and ".bindPopup(" not in html.split("<body>", 1)[1]
    # the only marker is the labels' text (a divIcon): no image icon to fetch or miss
    assert html.count("L.marker(") == 1 and "{ icon: icon, interactive: false" in html


def test_terminals_sized_and_coloured(rendered: dict) -> None:
    marks = {m["id"]: m for m in terminal_markers(rendered["results"].terminals)}
    assert marks["xinfa"]["radius"] > marks["rizhao"]["radius"] > marks["youku"]["radius"]
    assert marks["rizhao"]["colour"] == st.UTILISATION_CLASSES[-1][1]  # full
    assert marks["xinfa"]["colour"] == st.UTILISATION_CLASSES[0][1]  # 28 %
    assert marks["youku"]["colour"] == st.UNKNOWN_CAPACITY_COLOUR
    assert "未知 unknown" in marks["youku"]["tip"] and "500,000 t/年" in marks["rizhao"]["tip"]
    assert "不限 unlimited" not in marks["youku"]["tip"]
    for x in ("现状", "无规则最低成本", "有规则最低成本"):
        assert x in marks["xinfa"]["tip"]


def test_access_layer_and_stations(rendered: dict) -> None:
    res = rendered["results"]
    feats = access_layer_features(res.links)
    # F2's 短驳 from 聊城站 (road node 1) to 信发 (road node 2), with the rule
    assert [(f["properties"]["u"], f["properties"]["v"]) for f in feats] == [(1, 2)]
    (f,) = feats
    assert f["properties"]["tonnes"] == 500_000 and f["properties"]["colour"] == st.ACCESS_COLOUR
    assert "短驳" in f["properties"]["tip"]
    (m,) = access_station_markers(res.summary, res.terminals)
    assert m["id"] == "stn_lc" and (m["lon"], m["lat"]) == (115.98, 36.45)
    for x in ("现状", "无规则最低成本", "有规则最低成本"):
        assert x in m["tip"]
    trips = res.summary["states"]["with_rule"]["access"]["trips"]
    assert st.fmt_num(trips) in m["tip"] and "聊城站货场" in m["tip"] and "东昌府区" in m["tip"]
    assert access_station_markers(res.summary, res.terminals, state="baseline") == []
    # each state's 短驳 is drawn in that state's layer
    html = rendered["html"]
    _, fc, _ = _layer(html, "access_with_rule")
    assert fc["features"][0]["properties"]["colour"] == st.ACCESS_COLOUR


def test_bottlenecks_layer(rendered: dict) -> None:
    html = rendered["html"]
    _, fc, opts = _layer(html, "bind")
    assert [f["properties"]["name"] for f in fc["features"]] == ["瓦日铁路"]
    assert "12.50 元/t" in fc["features"][0]["properties"]["tip"]
    assert fc["features"][0]["properties"]["colour"] == st.BOTTLENECK_COLOUR
    assert opts["pane"] == "lcBind"
    assert "#1 瓦日铁路 武乡—聊城" in html and "3.20 元/t" in html


def test_county_shading_follows_reduction_and_none_is_unfilled(rendered: dict) -> None:
    res = rendered["results"]
    counties = json.loads(Path(rendered["counties"]).read_text(encoding="utf-8"))
    shades, breaks = county_shading(counties, res.flows)
    red = county_reduction(res.flows)  # the rule's own effect: without − with
    assert red == {"茌平区": 0, "东阿县": 0, "莘县": 300_000}
    total = county_reduction(res.flows, a="baseline", b="with_rule")
    assert total == {"茌平区": 1_400_000, "东阿县": 0, "莘县": 300_000}
    order = sorted(shades, key=lambda s: s["reduction_t"])
    classes = [s["cls"] for s in order]
    assert classes == sorted(classes)
    assert order[-1]["name"] == "莘县" and order[-1]["colour"] == st.COUNTY_COLOURS[-1]
    by = {s["name"]: s for s in shades}
    assert by["高唐县"]["cls"] == -1 and by["高唐县"]["opacity"] == 0.0
    assert by["茌平区"]["opacity"] == 0.0  # its shift is not the rule's
    assert by["茌平区"]["total_t"] == 1_400_000
    # the rendered polygons carry the same fills (the layer's features, by adcode)
    html = rendered["html"]
    _, fc, _ = next(p for p in _payloads(html) if p[1]["features"][0]["properties"].get("adcode"))
    fills = {f["properties"]["adcode"]: f["properties"] for f in fc["features"]}
    for s in shades:
        assert fills[s["adcode"]]["fill"] == s["colour"]
        assert fills[s["adcode"]]["fill_opacity"] == s["opacity"]
    assert st.fmt_num(breaks[-1]) in html
    assert "无 none (不填色 no fill)" in html


def test_lowest_county_class_differs_visibly_from_none() -> None:
    """"none" has no fill at all; the lowest class is a clear green at the layer's opacity:
    on white, the two differ by far more than a just-visible step."""

    def on_white(colour: str, alpha: float) -> tuple[float, ...]:
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        return tuple(alpha * c + (1 - alpha) * 255 for c in rgb)

    none = on_white(st.COUNTY_NONE_COLOUR, st.COUNTY_NONE_FILL_OPACITY)
    low = on_white(st.COUNTY_COLOURS[0], st.COUNTY_FILL_OPACITY)
    assert none == (255.0, 255.0, 255.0)
    assert math.dist(none, low) > 40  # RGB distance; the old pair differed by ~10


def test_legend_is_a_control_above_a_km_only_scale(rendered: dict) -> None:
    html = rendered["html"]
    scale = html.index('L.control.scale({"metric": true, "imperial": false')
    legend = re.search(r'LC\.panel\(\w+, "lc-legend",\s*"bottomleft"\)', html).start()  # type: ignore[union-attr]
    assert scale < legend  # added after the scale: stacked above it in the same corner
    assert html.count("control.scale(") == 1 and "imperial\": true" not in html
    assert '<details open><summary>图例 Legend</summary>' in html


def test_place_labels_by_class_and_zoom(rendered: dict) -> None:
    labels = place_labels(rendered["net"], rendered["results"], rendered["counties"])
    by = {}
    for x in labels:
        by.setdefault(x["c"], []).append(x)
    assert [x["n"] for x in by["city"]] == ["聊城市"] and by["city"][0]["dot"]
    assert {x["n"] for x in by["county"]} == {"东昌府区", "茌平区", "东阿县", "莘县", "高唐县"}
    assert all(x["a"] == "c" for x in by["county"])
    assert [x["n"] for x in by["shipper"]] == ["信发集团", "莘县华祥石化", "东阿东昌焦化"]  # by t
    assert "聊城站货场" in {x["n"] for x in by["station"]}
    assert not {x["n"] for x in by["station"]} & {"信发集团"}  # named once, as a shipper
    # priority order, each class from its zoom: cities first, stations last
    assert [x["c"] for x in labels] == sorted((x["c"] for x in labels), key=LABEL_ORDER.index)
    assert LABEL_MIN_ZOOM["city"] < LABEL_MIN_ZOOM["shipper"] < LABEL_MIN_ZOOM["county"] \
        < LABEL_MIN_ZOOM["station"]
    assert all(x["z"] == LABEL_MIN_ZOOM[x["c"]] for x in labels)
    # in the page as JSON data, set as text by the script
    assert '"n":"信发集团"' in rendered["html"]
    # without county polygons: the county seats
    seats = place_labels(rendered["net"], rendered["results"], None)
    assert not [x for x in seats if x["c"] == "county"]  # the fixture has no county places


def test_click_data_flows_places_and_links(rendered: dict) -> None:
    res = rendered["results"]
    table, index = flow_table(res)
    assert [f["id"] for f in table] == ["F1", "F2", "F3", "F4"] and index["F3"] == 2
    f1 = table[index["F1"]]
    assert f1["t"] == "F1 · 煤炭 Coal · 120.0 万t/年 · 信发集团"
    assert f1["d"][0] == "武乡煤矿 → 信发集团"
    assert f1["d"][1] == "公路干线 road (万t): 现状 120.0 · 无规则 30.0 · 有规则 30.0"
    assert any("有规则 with the rule: 铁路 经 via 瓦日铁路" in d for d in f1["d"])
    assert any(d.startswith("留在公路 on the road: ") for d in f1["d"])
    places = place_flows(res, rendered["net"], index)
    assert sorted(places["xinfa"]["fl"]) == [index["F1"], index["F2"]]
    assert places["huaxiang"]["fl"] == [index["F4"]]
    # each flow link lists the flows on it, as links.geojson says
    for state in ("baseline", "with_rule"):
        for f, src in zip(flow_layer_features(res.links, state, flow_index=index),
                          [g for g in res.links["features"]
                           if g["properties"][f"tonnes_{state}"] > 0], strict=True):  # fmt: skip
            assert f["properties"]["fl"] == [index[x] for x in src["properties"][f"flows_{state}"]]
    html = rendered["html"]
    call = html[html.index("LC.interact("):]
    assert '"F1 · 煤炭 Coal' in call and '"xinfa"' in call


def test_tiles_options(tmp_path: Path, rendered: dict) -> None:
    url = "http://tiles.local/{z}/{x}/{y}.png"
    out = render_map(rendered["run"], rendered["net"], tiles=url, out=tmp_path / "m.html")
    html = out.read_text(encoding="utf-8")
    assert url in html and "L.tileLayer" in html and external_resources(html) == []
    assert "L.tileLayer" not in rendered["html"]  # tiles=None: plain background
    assert LAYER_NAMES["counties"] not in html  # no counties file given
    none = render_map(rendered["run"], rendered["net"], tiles="none", out=tmp_path / "n.html")
    assert "L.tileLayer" not in none.read_text(encoding="utf-8")  # `--tiles none`


def test_road_network_simplified_and_bounded() -> None:
    import networkx as nx

    g = nx.Graph(mode="road")
    for i in range(2000):  # a long wiggly road far away and a short one in the box
        x = 100 + i * 0.01
        g.add_edge(i, i + 1, geometry=LineString([(x, 30), (x + 0.005, 30.00001), (x + 0.01, 30)]),
                   name="far", lines=(), freight=True)  # fmt: skip
    g.add_edge(9000, 9001, geometry=LineString([(116, 36.4), (116.1, 36.4)]), name="near",
               lines=(), freight=True)  # fmt: skip
    feats = network_layer_features(g, bbox=(114.8, 35.7, 117.2, 37.3), keep={frozenset((5, 6))})
    labels = {f["properties"]["label"]: f for f in feats}
    assert set(labels) == {"far", "near"}
    assert labels["far"]["properties"]["edges"] == 1
    assert len(labels["far"]["geometry"]["coordinates"][0]) == 2  # simplified


def test_map_credits_openstreetmap_and_gem(rendered: dict) -> None:
    """ODbL: a map made from the OSM-derived layers must say © OpenStreetMap contributors."""
    from maps._style import DATA_ATTRIBUTION

    html = rendered["html"]
    assert "© OpenStreetMap contributors" in DATA_ATTRIBUTION
    assert "attributionControl.addAttribution" in html
    assert "OpenStreetMap contributors" in html and "Global Energy Monitor" in html


def test_same_page_twice(rendered: dict, tmp_path: Path) -> None:
    again = render_map(rendered["run"], rendered["net"], counties=rendered["counties"],
                       out=tmp_path / "again.html")  # fmt: skip
    assert again.read_bytes() == rendered["path"].read_bytes()
