"""The real default network (OpenStreetMap via scgraph-data, curated lines and places).

Distances are checked against figures that do not come from this graph where we have
them (published line lengths, labelled with their source tag as in DOMAIN.md: [S] found
in a public source, [M] general knowledge quoted from memory, unverified, [D] derived),
and against the graph figures DATA-SOURCES.md measured on the raw scgraph graph
(labelled "graph figure": a consistency check, not an independent truth).
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point

from networks import NetworkConfig, load_network, route, summarize
from networks.io import point_km
from networks.loading import build_network

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "liaocheng" / "liaocheng-2019-prior.toml"  # states [network]
STATIONS = ROOT / "data" / "north_china" / "rail_line_stations.csv"

pytestmark = pytest.mark.skipif(not SCENARIO.exists(), reason="default data not present")

#: The scenario's rail tolerance is 5 km; 青岛港 (port_qingdao) sits on a 3 km fragment of
#: OSM track that joins nothing, 8.4 km from the connected network, so these tests load
#: with 10 km and test_rail_links_within_scenario_tolerance reports the data problem.
RAIL_TOLERANCE_KM = 10.0


def _config(*, rail_tolerance_km: float = RAIL_TOLERANCE_KM) -> NetworkConfig:
    net = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))["network"]

    def p(x: str) -> str:
        return str((SCENARIO.parent / x).resolve())

    return NetworkConfig(
        road=p(net["road"]),
        rail=p(net["rail"]),
        pipeline=p(net["pipeline"]),
        rail_lines=p(net["rail_lines"]),
        rail_line_stations=p(net["rail_line_stations"]),
        places=tuple(p(x) for x in net["places"]),
        snap_m=float(net.get("snap_m", 30.0)),
        link_tolerance_km={"road": 10.0, "rail": rail_tolerance_km, "pipeline": 5.0},
    )


@pytest.fixture(scope="module")
def net():
    return load_network(_config())


def _station(line_id: str, name: str) -> str:
    with open(STATIONS, encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if row["line_id"] == line_id and row["station"] == name:
                return f"{row['lon']},{row['lat']}"
    raise KeyError((line_id, name))


# (what, origin, destination, mode, expected km, source)
CORRIDORS = [
    (
        "邯济 邯郸–晏城北",
        ("hanji", "邯郸"),
        ("hanji", "晏城北"),
        "rail",
        232,
        "DOMAIN.md [S]: 邯济 232 km",
    ),
    (
        "大秦 大同–秦皇岛",
        ("daqin", "大同"),
        ("daqin", "秦皇岛东"),
        "rail",
        653,
        "[M] 大秦铁路 653 km",
    ),
    ("胶济 济南–青岛", ("jiaoji", "济南"), ("jiaoji", "青岛"), "rail", 384, "[M] 胶济铁路 ~384 km"),
    (
        "蓝烟 蓝村–烟台",
        ("lanyan", "蓝村"),
        ("lanyan", "烟台港"),
        "rail",
        184,
        "[M] 蓝烟铁路 183.6 km",
    ),
    (
        "侯月 侯马–月山",
        ("houyue", "侯马北"),
        ("houyue", "月山"),
        "rail",
        252,
        "[M] 侯月铁路 252 km",
    ),
    (
        "京广 石家庄–郑州",
        ("jingguang", "石家庄"),
        ("jingguang", "郑州"),
        "rail",
        412,
        "[M/D] 京广: 北京–郑州 689 km minus 北京–石家庄 277 km",
    ),
    (
        "京沪 天津–兖州",
        ("jinghu", "天津"),
        ("jinghu", "兖州"),
        "rail",
        513,
        "[M/D] 京沪普速: 北京–济南 495, 北京–天津 137, 济南–兖州 ~155 km",
    ),
    (
        "神朔 神木北–朔州",
        ("shenshuo", "神木北"),
        ("shenshuo", "朔州"),
        "rail",
        270,
        "[M] 神朔铁路 ~270 km",
    ),
    (
        "聊城–日照港 rail",
        "stn_liaocheng",
        "port_rizhao",
        "rail",
        435,
        "graph figure, DATA-SOURCES.md",
    ),
    (
        "聊城–黄骅港 rail",
        "stn_liaocheng",
        "port_huanghua",
        "rail",
        342,
        "graph figure, DATA-SOURCES.md",
    ),
    (
        "聊城–天津港 rail",
        "stn_liaocheng",
        "port_tianjin",
        "rail",
        417,
        "graph figure, DATA-SOURCES.md",
    ),
    (
        "聊城–太原 rail",
        "stn_liaocheng",
        "112.55,37.87",
        "rail",
        457,
        "graph figure, DATA-SOURCES.md (太原 station ~112.55,37.87 [M])",
    ),
    (
        "聊城–济南 road",
        "cty_dongchangfu",
        "117.00,36.67",
        "road",
        110,
        "[M] ~110 km by 济聊高速 (济南 city centre ~117.00,36.67)",
    ),
    (
        "聊城–日照港 road",
        "cty_dongchangfu",
        "port_rizhao",
        "road",
        341 * 1.12,
        "[D] DOMAIN.md straight line 341 km x road/straight ratio 1.09–1.16 (DATA-SOURCES.md)",
    ),
]


#: The same routes on the layers as derived before the junction fix (data/derive/
#: junctions.py), to show its effect; measured with this test's network. 聊城–日照港 rail
#: grew because the fix let 石济高铁 match its track north of 济南, which freight then
#: leaves (it ran on that passenger line before).
KM_BEFORE_JUNCTION_FIX = {
    "邯济 邯郸–晏城北": 233.8,
    "大秦 大同–秦皇岛": 605.2,
    "胶济 济南–青岛": 360.1,
    "蓝烟 蓝村–烟台": 178.1,
    "侯月 侯马–月山": 262.0,
    "京广 石家庄–郑州": 397.5,
    "京沪 天津–兖州": 489.5,
    "神朔 神木北–朔州": 247.2,
    "聊城–日照港 rail": 443.7,
    "聊城–黄骅港 rail": 339.7,
    "聊城–天津港 rail": 431.1,
    "聊城–太原 rail": 494.6,
    "聊城–济南 road": 103.6,
    "聊城–日照港 road": 381.9,
}


@pytest.mark.parametrize("case", CORRIDORS, ids=[c[0] for c in CORRIDORS])
def test_corridor_distances_within_ten_percent(net, case) -> None:
    what, origin, dest, mode, expected, source = case
    o = _station(*origin) if isinstance(origin, tuple) else origin
    d = _station(*dest) if isinstance(dest, tuple) else dest
    r = route(net, o, d, mode=mode)
    before = KM_BEFORE_JUNCTION_FIX[what]
    print(
        f"{what}: {r.km:.1f} km vs {expected:.0f} ({source}) {r.km / expected - 1:+.1%}; "
        f"before the junction fix {before:.1f} km ({r.km - before:+.1f})"
    )
    assert r.km == pytest.approx(expected, rel=0.10), f"{what}: {r.km:.1f} vs {expected} ({source})"


@pytest.mark.parametrize("origin", ["mine_changzhi_wangzhuang", "mine_liulin_shaqu"])
def test_shanxi_coal_to_chiping_runs_on_freight_lines(net, origin) -> None:
    r = route(net, origin, "stn_chiping", mode="rail")
    G = net.graphs["rail"]
    info = G.graph["rail_lines"]
    for u, v in zip(r.nodes, r.nodes[1:], strict=False):
        assert G.edges[u, v]["freight"] is True
    assert r.lines and r.lines[-1] == "hanji"  # arrives on 邯济 at 茌平
    assert all(info[i]["freight"] for i in r.lines)
    assert not {"zhengji_hsr", "shiji_hsr", "jinghu_hsr"} & set(r.lines)
    named = sum(
        G.edges[u, v]["length_km"]
        for u, v in zip(r.nodes, r.nodes[1:], strict=False)
        if G.edges[u, v]["lines"]
    )
    # Only part of the way is named (the table leaves e.g. 太中银 and 瓦日's Shanxi part
    # unnamed); untagged track is freight track by default.
    print(f"{origin} -> 茌平: {r.km:.0f} km, {named / r.km:.0%} on named lines, {r.lines}")
    assert named > 0


#: Yellow River road bridges in Shandong/Henan, ESTIMATED positions (general knowledge,
#: read off memory of the map, +-3 km): name, lon, lat.
YELLOW_RIVER_BRIDGES = [
    ("东明黄河公路大桥 (G106)", 115.05, 35.05),
    ("鄄城黄河公路大桥", 115.52, 35.62),
    ("台前孙口黄河公路大桥", 115.88, 35.95),
    ("青兰高速东阿黄河特大桥 (G22)", 116.36, 36.25),
    ("平阴黄河大桥 (G220)", 116.43, 36.30),
    ("长清/齐河黄河大桥 (济聊一级公路)", 116.72, 36.57),
    ("济南建邦黄河大桥", 116.86, 36.70),
    ("济南泺口黄河大桥 (G104)", 117.00, 36.72),
    ("京台高速济南黄河大桥 (G3)", 117.10, 36.76),
]
#: The Yellow River, coarse polyline through Henan/Shandong (ESTIMATE, +-5 km).
YELLOW_RIVER = LineString(
    [
        (115.0, 34.9),
        (115.5, 35.6),
        (115.9, 35.95),
        (116.3, 36.2),
        (116.45, 36.32),
        (116.7, 36.55),
        (117.0, 36.72),
        (117.2, 36.9),
        (117.9, 37.4),
        (118.5, 37.5),
        (119.2, 37.75),
    ]
)


def test_road_to_rizhao_crosses_yellow_river_at_a_bridge(net) -> None:
    r = route(net, "cty_dongchangfu", "port_rizhao", mode="road")
    crossing = r.geometry.intersection(YELLOW_RIVER)
    points = [crossing] if isinstance(crossing, Point) else list(getattr(crossing, "geoms", []))
    assert points, "the road route to Rizhao must cross the Yellow River"
    for pt in points:
        name, km = min(
            ((n, point_km(pt.x, pt.y, x, y)) for n, x, y in YELLOW_RIVER_BRIDGES),
            key=lambda t: t[1],
        )
        print(f"crosses at {pt.x:.3f},{pt.y:.3f}: {km:.1f} km from {name}")
        assert km < 8.0, f"crossing at {pt.x:.3f},{pt.y:.3f} is {km:.1f} km from {name}"


def test_summary_and_line_matches(net) -> None:
    s = summarize(net)
    for mode in ("road", "rail", "pipeline"):
        print(mode, s[mode])
        assert s[mode]["edges"] > 0 and s[mode]["km"] > 0
    assert s["road"]["places_linked"] == len(net.places)
    for m in s["rail_lines"]:
        print(
            f"{m['line_id']:15} {m['matched_km']:7.1f} / {m['great_circle_km']:7.1f} km "
            f"ratio {m['ratio']}  gaps {len(m['gaps'])}  unmatched {m['unmatched_stations']}"
        )
    matched = {m["line_id"]: m for m in s["rail_lines"]}
    assert 0.95 < matched["hanji"]["ratio"] < 1.3 and not matched["hanji"]["gaps"]


def test_rail_links_within_scenario_tolerance(net) -> None:
    far = {
        pid: round(lk["rail"].offset_km, 1)
        for pid, lk in net.links.items()
        if "rail" in lk and lk["rail"].offset_km > 5.0
    }
    assert not far, f"rail places further than the scenario's 5 km from connected track: {far}"


def test_a_cold_build_is_the_network_the_cache_gives(net) -> None:
    # the module fixture loaded the default network through the cache (writing the entry
    # if there was none); building it again from the layers gives the same network, down
    # to the order of nodes, edges and attributes (timings: benchmarks/README.md)
    from tests.test_network_cache import fingerprint

    assert fingerprint(build_network(_config())) == fingerprint(net)
