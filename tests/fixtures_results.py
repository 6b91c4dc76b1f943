"""A small but realistic result folder (docs/CONTRACTS.md schema, three states) and the
tiny network it was "run" on, for the map and report tests.

Four flows into Liaocheng's shippers, all on the road today:

- F1 coal from a Shanxi mine to 信发集团: 900,000 t on the 瓦日铁路 (its binding capacity)
  and 300,000 t on the road, with or without the rule (the cost model's "voluntary" shift);
- F2 ore from 日照港 by rail to 聊城站, then by road to 信发 (短驳), with or without the rule;
- F3 coke to Tianjin, left on the road below the threshold;
- F4 oil to 华祥石化: road without the rule, pipeline with it (the rule's own effect).

One binding rail edge (the 瓦日 section, 900,000 t) and one full terminal (日照港站). Every
summary number is computed here from the flows, independently of ``freight.outputs``, so
tests can compare totals.
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
    ("stn_lc", "聊城站货场", 115.98, 36.45, "station", ("road", "rail"), math.inf, "东昌府区"),
]
PLACE_NODES = {
    "mine_wuxiang": {"road": 5, "rail": 101}, "xinfa": {"road": 2, "rail": 103},
    "rizhao": {"road": 6, "rail": 104}, "dongchang": {"road": 3}, "tianjin": {"road": 7},
    "youku": {"road": 9, "pipeline": 201}, "huaxiang": {"road": 4, "pipeline": 202},
    "lc_city": {"road": 1}, "stn_lc": {"road": 1, "rail": 102},
}  # fmt: skip

ROAD_CNY_PER_TKM, RAIL_CNY_PER_TKM, PIPE_CNY_PER_TKM = 0.40, 0.15, 0.10
# once per leg of the mode: the pipeline's fixed charge makes F4's short haul dearer by
# pipeline (30 km: 23 CNY/t) than by road (12 CNY/t), so the rule has a cost
ENTRY_CNY_PER_T = {"road": 0.0, "rail": 0.0, "pipeline": 20.0}
CO2_G_PER_TKM = {"road": 100.0, "rail": 10.0, "pipeline": 5.0}
TRUCK_PAYLOAD_T = 33.0

STATES = ("baseline", "without_rule", "with_rule")
# flow id, commodity, origin, destination, tonnes, county, shipper, then the chains of each
# state: [(legs [(mode, nodes)], tonnes, reason_code, reason)] (today: all on one road chain)
_CAP = ("capacity", "瓦日铁路能力已满 Rail capacity full: 瓦日铁路 武乡—聊城 (900,000 t/yr)")
_BELOW = ("below_threshold", "运距不足400公里 Haul below the 400 km threshold")
_F2 = [([("rail", [104, 102]), ("road", [1, 2])], 500_000.0, "", "")]  # 短驳 聊城站 → 信发
FLOWS = [
    ("F1", "coal", "mine_wuxiang", "xinfa", 1_200_000.0, "茌平区", "信发集团", {
        "baseline": [([("road", [5, 1, 2])], 1_200_000.0, "", "")],
        "without_rule": [([("rail", [101, 102, 103])], 900_000.0, "", ""),
                         ([("road", [5, 1, 2])], 300_000.0, "", "")],
        "with_rule": [([("rail", [101, 102, 103])], 900_000.0, "", ""),
                      ([("road", [5, 1, 2])], 300_000.0, *_CAP)],
    }),
    ("F2", "ore", "rizhao", "xinfa", 500_000.0, "茌平区", "信发集团", {
        "baseline": [([("road", [6, 2])], 500_000.0, "", "")],
        "without_rule": _F2, "with_rule": _F2,
    }),
    ("F3", "coke", "dongchang", "tianjin", 200_000.0, "东阿县", "东阿东昌焦化", {
        "baseline": [([("road", [3, 7])], 200_000.0, "", "")],
        "without_rule": [([("road", [3, 7])], 200_000.0, "", "")],
        "with_rule": [([("road", [3, 7])], 200_000.0, *_BELOW)],
    }),
    ("F4", "oil", "youku", "huaxiang", 300_000.0, "莘县", "莘县华祥石化", {
        "baseline": [([("road", [9, 4])], 300_000.0, "", "")],
        "without_rule": [([("road", [9, 4])], 300_000.0, "", "")],
        "with_rule": [([("pipeline", [201, 202])], 300_000.0, "", "")],
    }),
]  # fmt: skip
ACCESS_STATION = {"F2": "stn_lc"}  # where F2's 短驳 meets the rail leg
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
    modes = ("road", "rail", "pipeline")

    def route_km(mode: str, nodes: list[int]) -> float:
        g = net.graphs[mode]
        return sum(g.edges[e]["length_km"] for e in _path_edges(nodes))

    def zero() -> dict[str, float]:
        return dict.fromkeys(modes, 0.0)

    tot = {x: {"tonnes": zero(), "tkm": zero(), "road_lh": 0.0, "acc_t": 0.0, "acc_tkm": 0.0,
               "co2": 0.0, "cost": 0.0, "by_comm": {}, "by_station": {}, "by_county": {}}
           for x in STATES}  # fmt: skip
    per_flow: dict[str, dict[str, dict[str, float]]] = {}
    load: dict[tuple[str, int, int], dict] = {}
    reasons: dict[str, float] = {}
    rows = []
    for fid, comm, o, d, _t, county, shipper, chains in FLOWS:
        per_flow[fid] = {x: {"road": 0.0, "cost": 0.0, "co2": 0.0} for x in STATES}
        for x in STATES:
            T = tot[x]
            for legs, tt, rcode, reason in chains[x]:
                kms = {m: 0.0 for m in modes}
                for mode, nodes in legs:
                    kms[mode] += route_km(mode, nodes)
                lh = max(legs, key=lambda lg: route_km(lg[0], lg[1]))[0]
                c_cny = tt * (
                    sum(kms[m] * unit[m] for m in modes) + sum(ENTRY_CNY_PER_T[m] for m, _ in legs)
                )
                c_t = tt * sum(kms[m] * CO2_G_PER_TKM[m] for m in modes) / 1e6
                T["tonnes"][lh] += tt
                for m in modes:
                    T["tkm"][m] += tt * kms[m]
                T["co2"] += c_t
                T["cost"] += c_cny
                T["by_comm"].setdefault(comm, zero())[lh] += tt
                pf = per_flow[fid][x]
                pf["cost"] += c_cny
                pf["co2"] += c_t
                acc_km = 0.0
                for mode, nodes in legs:
                    km = route_km(mode, nodes)
                    for u, v in _path_edges(nodes):
                        rec = load.setdefault((mode, u, v), {s: {"comm": {}, "access": 0.0,
                                                                 "flows": []}
                                                             for s in STATES})  # fmt: skip
                        rec[x]["comm"][comm] = rec[x]["comm"].get(comm, 0.0) + tt
                        if fid not in rec[x]["flows"]:
                            rec[x]["flows"].append(fid)
                        if mode == "road" and lh != "road":
                            rec[x]["access"] += tt
                    if mode == "road" and lh != "road":  # 短驳
                        acc_km += km
                        stn = ACCESS_STATION[fid]
                        T["acc_t"] += tt
                        T["acc_tkm"] += tt * km
                        for key, k in (("by_station", stn),
                                       ("by_county", net.places[stn].county)):  # fmt: skip
                            r = T[key].setdefault(k, [0.0, 0.0])
                            r[0] += tt
                            r[1] += tt * km
                if lh == "road":
                    T["road_lh"] += tt
                    pf["road"] += tt
                if x != "with_rule":
                    continue
                if rcode:
                    reasons[rcode] = reasons.get(rcode, 0.0) + tt
                n_acc = sum(1 for mode, _ in legs if mode == "road" and lh != "road")
                rows.append({
                    "flow_id": fid, "commodity": comm, "shipper": shipper, "county": county,
                    "origin": o, "origin_name": names[o], "destination": d,
                    "destination_name": names[d], "baseline_mode": "road", "tonnes": tt,
                    "modes": ";".join(m for m, _ in legs), "line_haul_mode": lh,
                    "road_km": round(kms["road"], 1), "rail_km": round(kms["rail"], 1),
                    "pipeline_km": round(kms["pipeline"], 1),
                    "haul_km": round(route_km("road", chains["baseline"][0][0][0][1]), 1),
                    "cost_cny_per_t": round(c_cny / tt, 2), "cost_cny": round(c_cny, 2),
                    "co2_t": round(c_t, 3),
                    "eligible": "yes" if rcode != "below_threshold" else "no",
                    "compliant": "yes" if lh != "road" else "no",
                    "road_t": tt if lh == "road" else 0.0, "reason_code": rcode, "reason": reason,
                    "lifts": "" if lh == "road" else "stn_a;stn_b",
                    "lines": "瓦日铁路" if lh == "rail" else "",
                    "access_km": round(acc_km, 1), "access_t": tt * n_acc,
                    "access_trips": round(tt * n_acc / TRUCK_PAYLOAD_T, 3),
                })  # fmt: skip
    for r in rows:  # the flow-level columns, repeated on each row of a flow
        pf = per_flow[r["flow_id"]]
        r.update({
            "flow_tonnes": next(f[4] for f in FLOWS if f[0] == r["flow_id"]),
            "road_t_baseline": pf["baseline"]["road"],
            "road_t_without_rule": pf["without_rule"]["road"],
            "road_t_with_rule": pf["with_rule"]["road"],
            "cost_cny_without_rule": round(pf["without_rule"]["cost"], 2),
            "cost_cny_with_rule": round(pf["with_rule"]["cost"], 2),
            "rule_cost_cny": round(pf["with_rule"]["cost"] - pf["without_rule"]["cost"], 2),
            "co2_t_without_rule": round(pf["without_rule"]["co2"], 6),
            "co2_t_with_rule": round(pf["with_rule"]["co2"], 6),
            "moved_by_rule": "yes" if pf["without_rule"]["road"] > pf["with_rule"]["road"]
            else "no",
        })  # fmt: skip

    with open(out / "flows.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    feats = []
    for (mode, u, v), rec in sorted(load.items()):
        e = net.graphs[mode].edges[u, v]
        cap = e["capacity_t"] if math.isfinite(e["capacity_t"]) else None
        on = sum(rec["with_rule"]["comm"].values())
        util = on / cap if cap else None
        binding = bool(util is not None and util >= 1.0 - 1e-9)
        props = {"mode": mode, "u": u, "v": v, "name": e["name"], "lines": list(e["lines"]),
                 "km": round(e["length_km"], 2)}  # fmt: skip
        for x in STATES:
            props[f"tonnes_{x}"] = sum(rec[x]["comm"].values())
            props[f"by_commodity_{x}"] = rec[x]["comm"]
            props[f"flows_{x}"] = rec[x]["flows"]
        for x in STATES:
            props[f"access_t_{x}"] = rec[x]["access"]
        props.update(capacity_t=cap, utilisation=util, binding=binding,
                     shadow_cny_per_t=12.5 if binding else 0.0)  # fmt: skip
        feats.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in e["geometry"].coords]},
            "properties": props,
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

    # id, name, kind, modes, county, lon, lat, throughput in the three states, capacity
    terms = [
        ("xinfa", "信发集团", "shipper", "road;rail", "茌平区", 116.25, 36.55,
         (0, 900_000, 900_000), 5_000_000),
        ("rizhao", "日照港", "port", "road;rail", "", 119.45, 35.40, (0, 500_000, 500_000),
         500_000),
        ("stn_lc", "聊城站货场", "station", "road;rail", "东昌府区", 115.98, 36.45,
         (0, 500_000, 500_000), None),
        ("youku", "输油站", "pipeline_terminal", "road;pipeline", "", 115.50, 36.00,
         (0, 0, 300_000), None),
        ("mine_wuxiang", "武乡煤矿", "mine", "road;rail", "", 112.90, 37.00,
         (0, 900_000, 900_000), None),
    ]  # fmt: skip
    with open(out / "terminals.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "kind", "modes", "county", "lon", "lat",
                    *(f"throughput_{x}_t" for x in STATES), "capacity_t", "capacity_known",
                    "utilisation", "shadow_cny_per_t", *(f"access_t_{x}" for x in STATES),
                    *(f"access_trips_{x}" for x in STATES)])  # fmt: skip
        for tid, name, kind, tmodes, county, lon, lat, thr, cap in terms:
            acc = [tot[x]["by_station"].get(tid, [0.0])[0] for x in STATES]
            w.writerow([tid, name, kind, tmodes, county, lon, lat, *thr,
                        "" if cap is None else cap, "no" if cap is None else "yes",
                        "" if cap is None else thr[2] / cap, 3.2 if tid == "rizhao" else 0,
                        *acc, *(a / TRUCK_PAYLOAD_T for a in acc)])  # fmt: skip

    def state(x: str) -> dict:
        T = tot[x]
        lh, acc = T["road_lh"] / TRUCK_PAYLOAD_T, T["acc_t"] / TRUCK_PAYLOAD_T
        zh, en = {"baseline": ("现状", "today (baseline)"),
                  "without_rule": ("无规则最低成本", "least cost without the rule"),
                  "with_rule": ("有规则最低成本", "least cost with the rule")}[x]  # fmt: skip
        rec = {
            "label_zh": zh, "label_en": en, "tonnes": T["tonnes"], "tkm": T["tkm"],
            "truck_trips": {"line_haul": lh, "access": acc, "total": lh + acc},
            "access": {"tonnes": T["acc_t"], "tkm": T["acc_tkm"], "trips": acc},
            "co2_t": T["co2"], "cost_cny": T["cost"],
            "by_commodity": {c: T["by_comm"].get(c, zero()) for c in ("coal", "ore", "coke", "oil")},
            "access_by_station": {k: {"name": names[k], "county": net.places[k].county,
                                      "tonnes": t, "tkm": tkm, "trips": t / TRUCK_PAYLOAD_T}
                                  for k, (t, tkm) in T["by_station"].items()},
            "access_by_county": {k: {"tonnes": t, "tkm": tkm, "trips": t / TRUCK_PAYLOAD_T}
                                 for k, (t, tkm) in T["by_county"].items()},
        }  # fmt: skip
        if x != "baseline":
            rec.update(objective_cny=T["cost"], status="optimal")
        return rec

    states = {x: state(x) for x in STATES}

    def compare(a: dict, b: dict, zh: str, en: str) -> dict:
        return {
            "definition_zh": zh, "definition_en": en,
            "road_t": a["tonnes"]["road"] - b["tonnes"]["road"],
            "road_tkm": a["tkm"]["road"] - b["tkm"]["road"],
            "truck_trips": {k: a["truck_trips"][k] - b["truck_trips"][k]
                            for k in ("line_haul", "access", "total")},
            "access_tkm": a["access"]["tkm"] - b["access"]["tkm"],
            "co2_t": a["co2_t"] - b["co2_t"], "cost_cny": a["cost_cny"] - b["cost_cny"],
        }  # fmt: skip

    base, off, on = (states[x] for x in STATES)
    policy_cost = on["objective_cny"] - off["objective_cny"]
    abated = off["co2_t"] - on["co2_t"]
    gap = (base["cost_cny"] - off["cost_cny"]) / base["cost_cny"]
    summary = {
        "schema_version": 2, "scenario": "fixture-2019",
        "title": "聊城 2019 测试情景 Fixture scenario", "status": "optimal",
        "truck_payload_t": TRUCK_PAYLOAD_T, "states": states,
        "comparisons": {
            "rule_effect": compare(off, on, "规则带来的转移 = 无规则最低成本 − 有规则最低成本",
                                   "shift due to the rule = without − with"),
            "voluntary": compare(base, off, "成本模型认为的自愿转移 = 现状 − 无规则最低成本",
                                 "shift the cost model calls voluntary = today − without"),
            "total": compare(base, on, "相对现状的总变化 = 现状 − 有规则最低成本",
                             "total change from today = today − with"),
            "policy_cost_cny": {"value": policy_cost, "unit": "CNY/yr",
                                "definition_zh": "政策成本 = 有规则目标值 − 无规则目标值",
                                "definition_en": "policy cost = objective with − without"},
            "co2_abated_by_rule_t": {"value": abated, "unit": "t/yr",
                                     "definition_zh": "规则减少的 CO₂ = 无规则 − 有规则",
                                     "definition_en": "CO2 abated by the rule = without − with"},
            "co2_abatement_cny_per_t": {
                "value": policy_cost / abated if abated > 0 else None, "unit": "CNY/t",
                "definition_zh": "CO₂ 减排成本 = 政策成本 ÷ 规则减少的 CO₂",
                "definition_en": "CO2 abatement cost = policy cost ÷ CO2 abated by the rule"},
        },
        "warnings": [{
            "code": "uncalibrated", "title_zh": "成本模型不能解释现状选择——请先校准",
            "title_en": "the cost model does not explain today's choices — calibrate",
            "text_zh": f"无规则最低成本比现状低 {gap:.1%} <阈值 2%>",
            "text_en": f"the least cost without the rule is {gap:.1%} below today's <threshold 2%>",
            "share": gap, "threshold_share": 0.02,
        }] if gap > 0.02 else [],
        "policy": {
            "enforcement": "soft", "commodities": ["coal", "ore", "coke", "oil"],
            "threshold_km": 400.0, "distance": "road", "max_access_km": 50.0,
            "eligible_flows": 3, "eligible_t": 2_000_000.0,
            "eligible_road_t": {"baseline": 2_000_000.0, "without_rule": 600_000.0,
                                "with_rule": 300_000.0},
            "shortfall_t": 300_000.0,
        },
        "capital": {"items": [], "annualised_cny": 0.0,
                    "definition_zh": "情景新建基础设施的年化投资",
                    "definition_en": "annualised capital of the scenario's new infrastructure"},
        "capacities": {"definition_zh": "能力未知", "definition_en": "capacity unknown",
                       "rail_links_with_flow": 3, "rail_links_unknown": 0,
                       "pipeline_links_with_flow": 1, "pipeline_links_unknown": 0,
                       "terminals_with_flow": 5, "terminals_unknown": 3},
        "parameters": {  # as freight.scenario writes them: dotted keys, unit, source
            "costs.truck_payload_t": {"value": TRUCK_PAYLOAD_T, "unit": "t",
                                      "source": "[M] JT/T 1178 <33 t>"},
            "costs.road.cny_per_tkm": {"value": ROAD_CNY_PER_TKM, "unit": "CNY/t·km",
                                       "source": "[S] 交通运输部 2019"},
            "costs.road.co2_g_per_tkm": {"value": 100.0, "unit": "g/t·km",
                                         "source": "[D] from GLEC 2019 [S]"},
            "costs.rail.cny_per_tkm": {"value": RAIL_CNY_PER_TKM, "unit": "CNY/t·km",
                                       "source": "[S] 国铁集团运价"},
            "costs.rail.coal.cny_per_t": {"value": 16.3, "unit": "CNY/t", "source": "[S] class 4"},
            "costs.rail.steel.cny_per_t": {"value": 26.0, "unit": "CNY/t", "source": "[M] class 6"},
            "costs.pipeline.cny_per_tkm": {"value": PIPE_CNY_PER_TKM, "unit": "CNY/t·km",
                                           "source": "[M] fixture"},
            "costs.handling.port": {"value": 29.185533, "unit": "CNY/t per lift",
                                    "source": "calibrated by freight calibrate (inverse LP)"},
            "costs.carbon_price_cny_per_t": {"value": 0.0, "unit": "CNY/t CO2",
                                             "source": "scenario fixture.toml"},
            "policy.threshold_km": {"value": 400.0, "unit": "km", "source": "scenario fixture.toml"},
            "policy.enforcement": {"value": "soft", "unit": "hard | soft | off",
                                   "source": "scenario fixture.toml"},
            "policy.commodities": {"value": ["coal", "ore", "coke", "oil"], "unit": "commodity ids",
                                   "source": "scenario fixture.toml"},
        },
        "solver": {"name": "highs", "iterations": 17, "columns": 42, "seconds": 0.05},
        "reasons": reasons,
    }  # fmt: skip
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return out
