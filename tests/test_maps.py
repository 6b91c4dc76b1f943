"""The modal map, rendered from the fixture result folder: layers, colours, values, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maps import _style as st
from maps import render_map
from maps.assets import external_resources
from maps.modal_map import (
    HIDDEN_LAYERS,
    LAYER_NAMES,
    access_layer_features,
    access_station_markers,
    county_shading,
    flow_layer_features,
    headline_panel,
    network_layer_features,
    shipper_markers,
    terminal_markers,
    width_unit_t,
)
from maps.results import county_reduction, read_results
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


def _payloads(html: str) -> list[tuple[str, dict]]:
    """(variable, FeatureCollection) of every folium GeoJson layer in the page."""
    return [(m.group(1), json.loads(m.group(2)))
            for m in re.finditer(r"(geo_json_\w+)_add\((\{.*\})\);", html)]  # fmt: skip


def _styles(html: str, var: str) -> _Styles:
    """Feature id -> style, parsed from folium's ``<var>_styler`` switch."""
    body = html.split(f"function {var}_styler(feature)", 1)[1].split("\n        }\n", 1)[0]
    out: dict[str, dict] = {}
    pending: list[str] = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("case "):
            pending.extend(re.findall(r'case "([^"]+)":', line))
        elif line.startswith("default:"):
            pending.append("default")
        elif line.startswith("return {"):
            style = json.loads(line[len("return ") :].rstrip(";"))
            for fid in pending:
                out[fid] = style
            pending = []
    return _Styles(out)


class _Styles(dict):
    """Style by feature id; ids folium folded into ``default`` fall back to it."""

    def __missing__(self, key: str) -> dict:
        return dict.__getitem__(self, "default")


def _layer(html: str, first_id_prefix: str) -> tuple[str, dict]:
    for var, fc in _payloads(html):
        if fc["features"] and str(fc["features"][0].get("id", "")).startswith(first_id_prefix):
            return var, fc
    raise AssertionError(f"no layer with ids {first_id_prefix}*")


def test_offline_no_external_scripts_or_css(rendered: dict) -> None:
    html = rendered["html"]
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert external_resources(html) == []
    for cdn in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn"):
        assert cdn not in html
    assert "Leaflet 1.9.4" in html  # the vendored copy is inlined
    assert ".leaflet-control-layers-toggle" in html and "url(data:image/png;base64," in html
    assert "$(`" not in html  # no folium template that needs jQuery


def test_meta_charset_and_chinese_preserved(rendered: dict) -> None:
    html = rendered["html"]
    assert '<meta charset="utf-8">' in html[:600]
    for text in ("信发集团", "瓦日铁路", "规则转出的公路货量", "利用率"):
        assert text in html
    names = {f["properties"]["name"] for _, fc in _payloads(html) for f in fc["features"]
             if "name" in f["properties"]}  # fmt: skip
    assert {"瓦日铁路", "茌平区", "莘县"} <= names


def test_layers_named_and_only_with_rule_flows_on(rendered: dict) -> None:
    html = rendered["html"]
    for name in LAYER_NAMES.values():
        assert json.dumps(name)[1:-1] in html or name in html
    assert "L.control.layers" in html
    # every group but today's and the without-rule flows is added to the map at load
    assert {"baseline", "without_rule"} == HIDDEN_LAYERS
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup", html)
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(map_", html))
    assert len(groups) == len(LAYER_NAMES) and len(added) == len(LAYER_NAMES) - 2
    assert "有规则最低成本货流 Flows, least cost with the rule" in LAYER_NAMES.values()


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
            assert p.get("dash") == {"baseline": "8 6", "without_rule": "2 5"}.get(state)
        by_t = sorted(feats, key=lambda f: f["properties"]["tonnes"])
        widths = [f["properties"]["weight"] for f in by_t]
        assert widths == sorted(widths) and max(widths) <= 14
    on = flow_layer_features(links, "with_rule")
    modes = {f["properties"]["mode"] for f in on}
    assert modes == {"road", "rail", "pipeline"}
    with pytest.raises(ValueError, match="state must be one of"):
        flow_layer_features(links, "after")


def test_rendered_flow_tooltips_and_colours_match_links(rendered: dict) -> None:
    html = rendered["html"]
    links = rendered["results"].links
    var, fc = _layer(html, "with_rule")
    styles = _styles(html, var)
    expected = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]):
                f["properties"]["tonnes_with_rule"] for f in links["features"]
                if f["properties"]["tonnes_with_rule"] > 0}  # fmt: skip
    seen = {}
    for f in fc["features"]:
        p = f["properties"]
        seen[(p["mode"], p["u"], p["v"])] = p["tonnes"]
        assert f"<b>{st.fmt_num(p['tonnes'])} t/年 t/yr</b>" in p["tip"]
        assert styles[f["id"]]["color"] == st.MODE_COLOURS[p["mode"]]
    assert seen == expected
    rail = [f for f in fc["features"] if f["properties"]["mode"] == "rail"]
    assert rail and all(styles[f["id"]]["color"] == "#2166ac" for f in rail)
    var_b, fc_b = _layer(html, "baseline")
    assert {f["properties"]["mode"] for f in fc_b["features"]} == {"road"}
    assert all(_styles(html, var_b)[f["id"]]["dashArray"] for f in fc_b["features"])
    var_o, fc_o = _layer(html, "without_rule")
    assert {f["properties"]["mode"] for f in fc_o["features"]} == {"road", "rail"}
    assert all(_styles(html, var_o)[f["id"]]["dashArray"] == "2 5" for f in fc_o["features"])


def test_network_layers_rail_named_hsr_dashed_road_clipped(rendered: dict) -> None:
    net = rendered["net"]
    rail = network_layer_features(net.graphs["rail"])
    by_label = {f["properties"]["label"]: f["properties"] for f in rail}
    assert by_label["京沪高铁"]["freight"] is False
    assert by_label["京沪高铁"]["colour"] == st.NO_FREIGHT_COLOUR and by_label["京沪高铁"]["dash"]
    assert by_label["瓦日铁路"]["colour"] == st.NETWORK_COLOURS["rail"]
    assert by_label["瓦日铁路"]["edges"] == 2 and "瓦日铁路" in by_label["瓦日铁路"]["tip"]
    html = rendered["html"]
    _, road = _layer(html, "road")
    labels = {f["properties"]["label"] for f in road["features"]}
    assert "G105" in labels  # inside the Liaocheng box, no flow
    assert "G22 青兰高速" in labels  # carries flow
    assert "G5 京昆高速" not in labels  # outside the box, no flow


def test_shippers_popup_before_after_and_reason(rendered: dict) -> None:
    res = rendered["results"]
    marks = {m["id"]: m for m in shipper_markers(rendered["net"], res.flows)}
    assert set(marks) == {"xinfa", "dongchang", "huaxiang"}  # shipper/plant kinds only
    x = marks["xinfa"]
    assert x["road"] == {"baseline": 1_700_000, "without_rule": 300_000, "with_rule": 300_000}
    assert x["with_rule"]["rail"] == 1_400_000 and x["road_t"] == 300_000
    assert "1,700,000" in x["popup"] and "1,400,000" in x["popup"]
    assert "现状" in x["popup"] and "无规则最低成本" in x["popup"]
    assert "瓦日铁路能力已满" in x["popup"]
    assert "有规则时全部离开公路" in marks["huaxiang"]["popup"]
    popups = [json.loads(m) for m in re.findall(r"\.bindPopup\((\"[^\n]*\"),", rendered["html"])]
    assert x["popup"] in popups and len(popups) == 3
    assert "L.circleMarker" in rendered["html"] and "L.marker(" not in rendered["html"]


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
    html = rendered["html"]
    var, fc = _layer(html, "access")
    assert _styles(html, var)[fc["features"][0]["id"]]["color"] == st.ACCESS_COLOUR


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
    assert "without − with" in panel and "policy cost ÷ CO₂ abated by the rule" in panel
    html = rendered["html"]
    assert 'id="lc-headline"' in html and "<details open>" in html
    s2 = dict(s, warnings=[], title="<b>x</b>")
    assert "lc-warn" not in headline_panel(s2) and "&lt;b&gt;x&lt;/b&gt;" in headline_panel(s2)


def test_bottlenecks_layer(rendered: dict) -> None:
    html = rendered["html"]
    var, fc = _layer(html, "bind")
    assert [f["properties"]["name"] for f in fc["features"]] == ["瓦日铁路"]
    assert "12.50 元/t" in fc["features"][0]["properties"]["tip"]
    assert _styles(html, var)[fc["features"][0]["id"]]["color"] == st.BOTTLENECK_COLOUR
    assert "#1 瓦日铁路 武乡—聊城" in html and "3.20 元/t" in html


def test_county_shading_follows_reduction(rendered: dict) -> None:
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
    assert by["高唐县"]["colour"] == st.COUNTY_NONE_COLOUR
    assert by["茌平区"]["colour"] == st.COUNTY_NONE_COLOUR  # its shift is not the rule's
    assert by["茌平区"]["total_t"] == 1_400_000
    # the rendered polygons carry the same colours (folium keys them by adcode)
    html = rendered["html"]
    var = next(v for v, fc in _payloads(html) if fc["features"][0]["properties"].get("adcode"))
    styles = _styles(html, var)
    for s in shades:
        assert styles[s["adcode"]]["fillColor"] == s["colour"]
    assert st.fmt_num(breaks[-1]) in html


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
    from shapely.geometry import LineString

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
