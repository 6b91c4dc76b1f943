"""A small but realistic result folder (docs/CONTRACTS.md schema) and the tiny network it
was "run" on, for the map and report tests.

Four flows into Liaocheng's shippers (coal from a Shanxi mine to 信发集团 on the 瓦日铁路,
ore from 日照港, coke to Tianjin left on the road below the threshold, oil to 华祥石化 by
pipeline); one binding rail edge (the 瓦日 section, 900,000 t) and one full terminal
(日照港站). Every summary number is computed from the flows, so tests can compare totals.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import networkx as nx
from shapely.geometry import LineString

from networks import Link, Network, Place

# node id -> (lon, lat)
ROAD_NODES = {
    1: (115.98, 36.45),  # 聊城 centre
    2: (116.25, 36.55),  # 茌平 信发
    3: (116.25, 36.30),  # 东阿
    4: (115.67, 36.23),  # 莘县
    5: (112.90, 37.00),  # 山西 武乡 mine
    6: (119.45, 35.40),  # 日照港
    7: (117.20, 39.10),  # 天津
    8: (116.23, 36.85),  # 高唐
    9: (115.50, 36.00),  # 油库 (pipeline head)
}
# (u, v, name, via point or None); 5-7 (outside the Liaocheng box, no flow) must not be drawn.
ROAD_EDGES = [
    (1, 2, "G309", None), (1, 3, "S250", None), (1, 4, "G309", None),
    (1, 5, "G22 青兰高速", (114.5, 36.8)), (2, 6, "G1511 日兰高速", (117.8, 36.0)),
    (3, 7, "G3 京台高速", (116.9, 37.8)), (1, 8, "G105", None), (4, 9, "S316", None),
    (5, 7, "G5 京昆高速", (114.5, 38.5)),
]  # fmt: skip
RAIL_NODES = {
    101: (112.90, 37.00),  # 武乡 siding
    102: (115.98, 36.45),  # 聊城站
    103: (116.25, 36.55),  # 信发 茌平专用线
    104: (119.45, 35.40),  # 日照港站
    105: (116.30, 37.40),  # 京沪高铁 north
    106: (116.90, 36.60),  # 京沪高铁 south
}
RAIL_EDGES = [
    # u, v, name, lines, capacity_t, freight
    (101, 102, "瓦日铁路", ("瓦日铁路",), 900_000.0, True),
    (102, 104, "瓦日铁路", ("瓦日铁路",), 2.0e8, True),
    (102, 103, "信发专用线", ("信发专用线",), 5.0e6, True),
    (105, 106, "京沪高铁", ("京沪高铁",), math.inf, False),
]
PIPE_NODES = {201: (115.50, 36.00), 202: (115.67, 36.23)}
PIPE_EDGES = [(201, 202, "莘县输油管道", ("莘县输油管道",), 1.0e6, True)]

PLACES = [
    # id, name, lon, lat, kind, modes, capacity_t, county
    ("mine_wuxiang", "武乡煤矿", 112.90, 37.00, "mine", ("road", "rail"), math.inf, ""),
    ("xinfa", "信发集团", 116.25, 36.55, "shipper", ("road", "rail"), 5.0e6, "茌平区"),
    ("rizhao", "日照港", 119.45, 35.40, "port", ("road", "rail"), 500_000.0, ""),
    ("dongchang", "东阿东昌焦化", 116.25, 36.30, "plant", ("road",), math.inf, "东阿县"),
    ("tianjin", "天津港", 117.20, 39.10, "port", ("road",), math.inf, ""),
    ("youku", "输油站", 115.50, 36.00, "pipeline_terminal", ("road", "pipeline"), math.inf, ""),
    ("huaxiang", "莘县华祥石化", 115.67, 36.23, "plant", ("road", "pipeline"), math.inf, "莘县"),
    ("lc_city", "聊城市", 115.98, 36.45, "city", ("road",), math.inf, "东昌府区"),
]
PLACE_NODES = {
    "mine_wuxiang": {"road": 5, "rail": 101}, "xinfa": {"road": 2, "rail": 103},
    "rizhao": {"road": 6, "rail": 104}, "dongchang": {"road": 3}, "tianjin": {"road": 7},
    "youku": {"road": 9, "pipeline": 201}, "huaxiang": {"road": 4, "pipeline": 202},
    "lc_city": {"road": 1},
}  # fmt: skip

ROAD_CNY_PER_TKM, RAIL_CNY_PER_TKM, PIPE_CNY_PER_TKM = 0.40, 0.15, 0.10
CO2_G_PER_TKM = {"road": 100.0, "rail": 10.0, "pipeline": 5.0}
TRUCK_PAYLOAD_T = 33.0

# flow id, commodity, origin, destination, tonnes, county, shipper,
# before route (road nodes), after chains: [(mode, nodes, tonnes, reason_code, reason)]
FLOWS = [
    ("F1", "coal", "mine_wuxiang", "xinfa", 1_200_000.0, "茌平区", "信发集团", [5, 1, 2], [
        ("rail", [101, 102, 103], 900_000.0, "", ""),
        ("road", [5, 1, 2], 300_000.0, "capacity",
         "瓦日铁路能力已满 Rail capacity full: 瓦日铁路 武乡—聊城 (900,000 t/yr)"),
    ]),
    ("F2", "ore", "rizhao", "xinfa", 500_000.0, "茌平区", "信发集团", [6, 2], [
        ("rail", [104, 102, 103], 500_000.0, "", ""),
    ]),
    ("F3", "coke", "dongchang", "tianjin", 200_000.0, "东阿县", "东阿东昌焦化", [3, 7], [
        ("road", [3, 7], 200_000.0, "below_threshold",
         "运距不足400公里 Haul below the 400 km threshold"),
    ]),
    ("F4", "oil", "youku", "huaxiang", 300_000.0, "莘县", "莘县华祥石化", [9, 4], [
        ("pipeline", [201, 202], 300_000.0, "", ""),
    ]),
]  # fmt: skip
COUNTIES = {  # name: (adcode, lon0, lat0, lon1, lat1)
    "东昌府区": ("371502", 115.80, 36.30, 116.10, 36.60),
    "茌平区": ("371503", 116.10, 36.45, 116.45, 36.75),
    "东阿县": ("371524", 116.10, 36.15, 116.45, 36.45),
    "莘县": ("371522", 115.40, 35.95, 115.80, 36.30),
    "高唐县": ("371526", 116.05, 36.75, 116.40, 37.05),
}


def _geom(nodes: dict[int, tuple[float, float]], u: int, v: int, via=None) -> LineString:
    a, b = sorted((u, v))
    pts = [nodes[a]] + ([via] if via else []) + [nodes[b]]
    return LineString(pts)


def _km(line: LineString) -> float:
    c = list(line.coords)
    tot = 0.0
    for (x0, y0), (x1, y1) in zip(c, c[1:], strict=False):
        dx = (x1 - x0) * 111.32 * math.cos(math.radians((y0 + y1) / 2))
        tot += math.hypot(dx, (y1 - y0) * 110.57)
    return tot


def make_network() -> Network:
    """The tiny road/rail/pipeline network the fixture flows run on."""
    graphs: dict[str, nx.Graph] = {}
    specs = {
        "road": (ROAD_NODES, [(u, v, n, (n,), math.inf, True, via) for u, v, n, via in ROAD_EDGES]),
        "rail": (RAIL_NODES, [(*e, None) for e in RAIL_EDGES]),
        "pipeline": (PIPE_NODES, [(*e, None) for e in PIPE_EDGES]),
    }
    for mode, (nodes, edges) in specs.items():
        g = nx.Graph(mode=mode, crs="EPSG:4326", source=f"fixture {mode}")
        for n, (x, y) in nodes.items():
            g.add_node(n, x=x, y=y)
        for u, v, name, lines, cap, freight, via in edges:
            geom = _geom(nodes, u, v, via)
            g.add_edge(
                u, v, length_km=_km(geom), geometry=geom, name=name,
                lines=tuple(lines) if mode != "road" else (), capacity_t=cap, freight=freight,
                commodities=frozenset({"oil"}) if mode == "pipeline" else None,
            )  # fmt: skip
        graphs[mode] = g
    places = {
        pid: Place(id=pid, name=name, lon=lon, lat=lat, kind=kind, modes=modes,
                   capacity_t=cap, county=county, source="fixture")
        for pid, name, lon, lat, kind, modes, cap, county in PLACES
    }  # fmt: skip
    links = {pid: {m: Link(node=n, offset_km=0.0) for m, n in d.items()}
             for pid, d in PLACE_NODES.items()}  # fmt: skip
    return Network(graphs=graphs, places=places, links=links, sources={})


def _path_edges(nodes: list[int]) -> list[tuple[int, int]]:
    return [tuple(sorted(e)) for e in zip(nodes, nodes[1:], strict=False)]  # type: ignore[misc]


def write_counties(path: Path) -> Path:
    """Write five box-shaped Liaocheng counties as GeoJSON (properties adcode, name)."""
    feats = [
        {"type": "Feature", "properties": {"adcode": a, "name": n},
         "geometry": {"type": "Polygon", "coordinates": [
             [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}
        for n, (a, x0, y0, x1, y1) in COUNTIES.items()
    ]  # fmt: skip
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def write_result_folder(out: Path, network: Network | None = None) -> Path:
    """Write summary.json, flows.csv, links.geojson, bottlenecks.csv, terminals.csv."""
    net = network or make_network()
    out.mkdir(parents=True, exist_ok=True)
    names = {p.id: p.name for p in net.places.values()}
    unit = {"road": ROAD_CNY_PER_TKM, "rail": RAIL_CNY_PER_TKM, "pipeline": PIPE_CNY_PER_TKM}
    tonnes = {s: {m: 0.0 for m in ("road", "rail", "pipeline")} for s in ("before", "after")}
    tkm = {s: {m: 0.0 for m in ("road", "rail", "pipeline")} for s in ("before", "after")}
    co2 = {"before": 0.0, "after": 0.0}
    cost = {"before": 0.0, "after": 0.0}
    by_comm: dict[str, dict] = {}
    reasons: dict[str, float] = {}
    load: dict[tuple[str, int, int], dict] = {}
    rows = []

    def route_km(mode: str, nodes: list[int]) -> float:
        g = net.graphs[mode]
        return sum(g.edges[e]["length_km"] for e in _path_edges(nodes))

    def use(state: str, mode: str, nodes: list[int], t: float, comm: str) -> None:
        for u, v in _path_edges(nodes):
            rec = load.setdefault((mode, u, v), {"before": {}, "after": {}})
            rec[state][comm] = rec[state].get(comm, 0.0) + t

    for fid, comm, o, d, t, county, shipper, before, chains in FLOWS:
        km0 = route_km("road", before)
        tonnes["before"]["road"] += t
        tkm["before"]["road"] += t * km0
        co2["before"] += t * km0 * CO2_G_PER_TKM["road"] / 1e6
        cost["before"] += t * km0 * ROAD_CNY_PER_TKM
        bc = by_comm.setdefault(
            comm,
            {
                "before": {"road": 0.0, "rail": 0.0, "pipeline": 0.0},
                "after": {"road": 0.0, "rail": 0.0, "pipeline": 0.0},
            },
        )
        bc["before"]["road"] += t
        use("before", "road", before, t, comm)
        for mode, nodes, tt, rcode, reason in chains:
            km = route_km(mode, nodes)
            tonnes["after"][mode] += tt
            tkm["after"][mode] += tt * km
            c_t = tt * km * CO2_G_PER_TKM[mode] / 1e6
            c_cny = tt * km * unit[mode]
            co2["after"] += c_t
            cost["after"] += c_cny
            bc["after"][mode] += tt
            use("after", mode, nodes, tt, comm)
            if rcode:
                reasons[rcode] = reasons.get(rcode, 0.0) + tt
            rows.append({
                "flow_id": fid, "commodity": comm, "shipper": shipper, "county": county,
                "origin": o, "origin_name": names[o], "destination": d,
                "destination_name": names[d], "baseline_mode": "road", "tonnes": tt,
                "modes": mode if mode == "road" else f"road;{mode}", "line_haul_mode": mode,
                "road_km": round(km if mode == "road" else 0.0, 1),
                "rail_km": round(km if mode == "rail" else 0.0, 1),
                "pipeline_km": round(km if mode == "pipeline" else 0.0, 1),
                "haul_km": round(km0, 1), "cost_cny_per_t": round(c_cny / tt, 2),
                "cost_cny": round(c_cny, 2), "co2_t": round(c_t, 3),
                "eligible": "yes" if rcode != "below_threshold" else "no",
                "compliant": "yes" if mode != "road" else "no",
                "road_t": tt if mode == "road" else 0.0, "reason_code": rcode, "reason": reason,
                "lifts": "" if mode == "road" else "stn_a;stn_b",
                "lines": "瓦日铁路" if mode == "rail" else "",
            })  # fmt: skip

    with open(out / "flows.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    feats = []
    for (mode, u, v), rec in sorted(load.items()):
        e = net.graphs[mode].edges[u, v]
        cap = e["capacity_t"] if math.isfinite(e["capacity_t"]) else None
        after = sum(rec["after"].values())
        util = after / cap if cap else None
        binding = bool(util is not None and util >= 1.0 - 1e-9)
        feats.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in e["geometry"].coords]},
            "properties": {
                "mode": mode, "u": u, "v": v, "name": e["name"], "lines": list(e["lines"]),
                "km": round(e["length_km"], 2), "tonnes_before": sum(rec["before"].values()),
                "tonnes_after": after, "by_commodity_before": rec["before"],
                "by_commodity_after": rec["after"], "capacity_t": cap, "utilisation": util,
                "binding": binding, "shadow_cny_per_t": 12.5 if binding else 0.0,
            },
        })  # fmt: skip
    (out / "links.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )

    with open(out / "bottlenecks.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "constraint", "kind", "mode", "label", "capacity_t", "used_t",
                    "shadow_cny_per_t", "lon", "lat"])  # fmt: skip
        w.writerow([1, "cap_rail_101_102", "edge", "rail", "瓦日铁路 武乡—聊城 Wari railway",
                    900000, 900000, 12.5, 114.44, 36.725])  # fmt: skip
        w.writerow([2, "terminal_rizhao", "terminal", "rail", "日照港站 Rizhao port station",
                    500000, 500000, 3.2, 119.45, 35.40])  # fmt: skip

    with open(out / "terminals.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "kind", "modes", "lon", "lat", "throughput_before_t",
                    "throughput_t", "capacity_t", "utilisation", "shadow_cny_per_t"])  # fmt: skip
        w.writerow(["xinfa", "信发集团", "shipper", "road;rail", 116.25, 36.55, 0, 1400000,
                    5000000, 0.28, 0])  # fmt: skip
        w.writerow(["rizhao", "日照港", "port", "road;rail", 119.45, 35.40, 0, 500000, 500000,
                    1.0, 3.2])  # fmt: skip
        w.writerow(["youku", "输油站", "pipeline_terminal", "road;pipeline", 115.50, 36.00, 0,
                    300000, "", "", 0])  # fmt: skip
        w.writerow(["mine_wuxiang", "武乡煤矿", "mine", "road;rail", 112.90, 37.00, 0, 900000,
                    "", "", 0])  # fmt: skip

    eligible_t = 1_200_000.0 + 500_000.0 + 300_000.0
    road_red = tonnes["before"]["road"] - tonnes["after"]["road"]
    co2_abated = co2["before"] - co2["after"]
    policy_cost = 1_234_567.0
    summary = {
        "scenario": "fixture-2019", "title": "聊城 2019 测试情景 Fixture scenario",
        "status": "optimal", "objective_cny": cost["after"],
        "tonnes": tonnes, "tkm": tkm, "road_tonnage_reduction_t": road_red,
        "truck_trips_avoided": road_red / TRUCK_PAYLOAD_T, "co2_t": co2, "cost_cny": cost,
        "policy": {
            "enforcement": "soft", "commodities": ["coal", "ore", "coke", "oil"],
            "threshold_km": 400.0, "distance": "road", "max_access_km": 50.0,
            "eligible_flows": 3, "eligible_t": eligible_t, "shifted_t": 1_700_000.0,
            "shortfall_t": 300_000.0,
        },
        "policy_cost_cny": policy_cost,
        "co2_abatement_cny_per_t": policy_cost / co2_abated if co2_abated > 0 else None,
        "by_commodity": by_comm,
        "parameters": {
            "truck_payload_t": {"value": TRUCK_PAYLOAD_T, "source": "JT/T 1178 <33 t>"},
            "road": {"cny_per_tkm": {"value": ROAD_CNY_PER_TKM, "source": "交通运输部 2019"},
                     "co2_g_per_tkm": {"value": 100.0, "source": "GLEC 2019"}},
            "rail": {"cny_per_tkm": {"value": RAIL_CNY_PER_TKM, "source": "国铁集团运价"}},
            "pipeline": {"cny_per_tkm": {"value": PIPE_CNY_PER_TKM, "source": "fixture"}},
            "carbon_price_cny_per_t": {"value": 0.0, "source": "scenario"},
        },
        "solver": {"name": "highs", "iterations": 17, "columns": 42, "seconds": 0.05},
        "reasons": reasons,
    }  # fmt: skip
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return out
