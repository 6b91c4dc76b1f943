"""Write a result folder (docs/CONTRACTS.md "Result folder schema").

``summary.json``, ``flows.csv``, ``links.geojson``, ``bottlenecks.csv``, ``terminals.csv``.
CSVs are UTF-8 with BOM so Excel shows Chinese, and no cell starts a formula
(:mod:`freight.spreadsheet`). Files are written into a temporary sibling
folder first and then moved into ``out_dir`` one by one with an atomic rename, so no file is
ever half-written.

Every figure is given for the three states of a run -- ``baseline`` (today),
``without_rule`` and ``with_rule`` (the two least-cost assignments) -- with the accounting
of :mod:`freight.states` (tonnes by line-haul mode, t·km by leg mode, 短驳 access legs,
truck trips line haul / access / total, ``cost_cny`` without penalties, ``objective_cny``
with them).

(Over 500 lines on purpose: the writers of the result folder's five files side by side,
in the order of the schema they implement.)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import mapping

from freight import states as stt
from freight.problem import Assignment, Problem, Solution
from freight.spreadsheet import write_csv

FLOW_COLUMNS = [
    "flow_id",
    "commodity",
    "shipper",
    "county",
    "origin",
    "origin_name",
    "destination",
    "destination_name",
    "baseline_mode",
    "tonnes",
    "modes",
    "line_haul_mode",
    "road_km",
    "rail_km",
    "pipeline_km",
    "haul_km",
    "cost_cny_per_t",
    "cost_cny",
    "co2_t",
    "eligible",
    "compliant",
    "road_t",
    "reason_code",
    "reason",
    "lifts",
    "lines",
    # the chain's 短驳 (access legs: road legs of a rail or pipeline chain)
    "access_km",
    "access_t",
    "access_trips",
    # flow-level, repeated on each row of the flow (sum them over distinct flow ids)
    "flow_tonnes",
    "road_t_baseline",
    "road_t_without_rule",
    "road_t_with_rule",
    "cost_cny_without_rule",
    "cost_cny_with_rule",
    "rule_cost_cny",
    "co2_t_without_rule",
    "co2_t_with_rule",
    "moved_by_rule",
]
BOTTLENECK_COLUMNS = [
    "rank",
    "constraint",
    "kind",
    "mode",
    "label",
    "capacity_t",
    "used_t",
    "shadow_cny_per_t",
    "shadow_cny_per_daily_train_year",
    "lon",
    "lat",
]
SUMMARY_SCHEMA_VERSION = 2
"""``summary.json``'s ``schema_version``: 2 = the three states (docs/CONTRACTS.md); version 1
had ``before``/``after`` keys and no version field."""

TERMINAL_COLUMNS = [
    "id",
    "name",
    "kind",
    "modes",
    "county",
    "lon",
    "lat",
    *(f"throughput_{s}_t" for s in stt.STATES),
    "capacity_t",
    "capacity_known",
    "utilisation",
    "shadow_cny_per_t",
    *(f"access_t_{s}" for s in stt.STATES),
    *(f"access_trips_{s}" for s in stt.STATES),
]


def _assignments(x: Any) -> Sequence[Assignment]:
    return tuple(getattr(x, "assignments", ()) or ()) if x is not None else ()


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _parameters(problem: Problem, meta: dict[str, Any]) -> dict[str, Any]:
    if meta.get("parameters"):
        return dict(meta["parameters"])
    out: dict[str, Any] = {}
    src = "scenario"
    for m, c in problem.costs.by_mode.items():
        for k in ("cny_per_tkm", "cny_per_t", "co2_g_per_tkm"):
            out[f"costs.{m}.{k}"] = {"value": getattr(c, k), "source": src}
    for (m, com), c in problem.costs.by_mode_commodity.items():
        for k in ("cny_per_tkm", "cny_per_t", "co2_g_per_tkm"):
            out[f"costs.{m}.{com}.{k}"] = {"value": getattr(c, k), "source": src}
    out["costs.carbon_price_cny_per_t"] = {
        "value": problem.costs.carbon_price_cny_per_t,
        "source": src,
    }
    out["costs.truck_payload_t"] = {"value": problem.truck_payload_t, "source": src}
    return out


def _lines_of(problem: Problem, assign: Assignment) -> list[str]:
    seen: list[str] = []
    for leg in assign.chain.legs:
        g = problem.network.graphs.get(leg.mode)
        for u, v in zip(leg.nodes[:-1], leg.nodes[1:], strict=True):
            d = g.edges[u, v] if g is not None and g.has_edge(u, v) else {}
            # the Chinese names a planner reads (邯济铁路), else the matched line ids
            names = tuple(n for n in str(d.get("name", "") or "").split("/") if n)
            if not names:
                names = tuple(d.get("lines", ()) or ())
            for name in names:
                if name and name not in seen:
                    seen.append(name)
    return seen


def _flow_rows(
    problem: Problem, solution: Solution, tots: dict[str, stt.StateTotals | None]
) -> list[dict[str, Any]]:
    places = problem.network.places
    payload = problem.truck_payload_t
    rows = []
    by_flow: dict[str, list[Assignment]] = {}
    for a in solution.assignments:
        by_flow.setdefault(a.flow_id, []).append(a)
    pen = stt.penalty_of(problem, solution)
    base, off, on = (tots.get(s) for s in stt.STATES)
    for f in problem.flows:
        st = solution.flow_status.get(f.id)
        o, d = places.get(f.origin), places.get(f.destination)
        county = o.county if o is not None and o.county else (d.county if d is not None else "")
        code = getattr(st, "reason_code", "") if st is not None else ""
        fb = base.flows[f.id] if base is not None else None
        fo = off.flows[f.id] if off is not None else None
        fw = on.flows[f.id] if on is not None and f.id in by_flow else None
        tol = 1e-6 * max(1.0, f.tonnes)
        flow_level = {
            "flow_tonnes": f.tonnes,
            "road_t_baseline": round(fb.road_t, 6) if fb else None,
            "road_t_without_rule": round(fo.road_t, 6) if fo else None,
            "road_t_with_rule": round(fw.road_t, 6) if fw else None,
            "cost_cny_without_rule": round(fo.cost_cny, 2) if fo else None,
            "cost_cny_with_rule": round(fw.cost_cny, 2) if fw else None,
            "rule_cost_cny": round(fw.cost_cny - fo.cost_cny, 2) if fw and fo else None,
            "co2_t_without_rule": round(fo.co2_t, 6) if fo else None,
            "co2_t_with_rule": round(fw.co2_t, 6) if fw else None,
            "moved_by_rule": (
                ("yes" if fo.road_t - fw.road_t > tol else "no") if fw and fo else None
            ),
        }
        base_row = {
            "flow_id": f.id,
            "commodity": f.commodity,
            "shipper": f.shipper,
            "county": county,
            "origin": f.origin,
            "origin_name": o.name if o else "",
            "destination": f.destination,
            "destination_name": d.name if d else "",
            "baseline_mode": f.baseline_mode,
            "haul_km": round(st.haul_km, 1) if st is not None and math.isfinite(st.haul_km) else "",
            "eligible": "yes" if st is not None and st.eligible else "no",
            **flow_level,
        }
        assigns = by_flow.get(f.id)
        if not assigns:  # infeasible run: the flow is unserved
            rows.append(
                {
                    **{k: "" for k in FLOW_COLUMNS},
                    **base_row,
                    "tonnes": f.tonnes,
                    "reason_code": code,
                    "reason": st.reason if st else "",
                }
            )
            continue
        for a in assigns:
            ch = a.chain
            kms = ch.km_by_mode()
            lh = ch.line_haul_mode()
            on_road = lh == "road"
            unit = ch.cost_cny_per_t + pen(a)
            access = stt.access_legs(ch, f.origin, f.destination, places)
            rows.append(
                {
                    **base_row,
                    "tonnes": round(a.tonnes, 6),
                    "modes": ";".join(leg.mode for leg in ch.legs),
                    "line_haul_mode": lh,
                    "road_km": round(kms["road"], 1),
                    "rail_km": round(kms["rail"], 1),
                    "pipeline_km": round(kms["pipeline"], 1),
                    "cost_cny_per_t": round(unit, 4),
                    "cost_cny": round(a.tonnes * unit, 2),
                    "co2_t": round(a.tonnes * ch.co2_g_per_t / 1e6, 6),
                    "compliant": "yes" if ch.compliant else "no",
                    "road_t": round(a.tonnes, 6) if on_road else 0.0,
                    "reason_code": code if on_road else "",
                    "reason": (st.reason if st is not None else "") if on_road else "",
                    "lifts": ";".join(ch.lifts),
                    "lines": ";".join(_lines_of(problem, a)),
                    "access_km": round(sum(x.leg.km for x in access), 1) + 0.0,
                    "access_t": round(a.tonnes * len(access), 6),
                    "access_trips": round(a.tonnes * len(access) / payload, 3),
                }
            )
    return rows


def _edge_loads(problem: Problem, assigns: Sequence[Assignment]) -> dict[tuple, dict]:
    """By edge ``(mode, lower node, higher node)``: tonnes by direction (``dir``) and by
    commodity (``comm``), and the ids of the flows using it (``flows``). Edges, directions,
    commodities and flows are in order of first use and tonnes are summed in assignment
    order, as a loop over every edge of every chain would (computed from arrays, not edge
    by edge: benchmarks/README.md)."""
    flows = {f.id: f for f in problem.flows}
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    meta: list[tuple[str, str, float, int, str]] = []
    for a in assigns:
        commodity = flows[a.flow_id].commodity
        for leg in a.chain.legs:
            if len(leg.nodes) > 1:
                nodes = np.array(leg.nodes, dtype=np.int64)
                us.append(nodes[:-1])
                vs.append(nodes[1:])
                meta.append((leg.mode, commodity, a.tonnes, len(leg.nodes) - 1, a.flow_id))
    if not meta:
        return {}
    modes = sorted({m[0] for m in meta})
    comms = sorted({m[1] for m in meta})
    flow_ids = list(dict.fromkeys(m[4] for m in meta))
    mode_i = {m: i for i, m in enumerate(modes)}
    comm_i = {c: i for i, c in enumerate(comms)}
    flow_i = {f: i for i, f in enumerate(flow_ids)}
    lens = [m[3] for m in meta]
    mode = np.repeat(np.array([mode_i[m[0]] for m in meta], dtype=np.int64), lens)
    comm = np.repeat(np.array([comm_i[m[1]] for m in meta], dtype=np.int64), lens)
    flow = np.repeat(np.array([flow_i[m[4]] for m in meta], dtype=np.int64), lens)
    tonnes = np.repeat(np.array([m[2] for m in meta], dtype=float), lens)
    u, v = np.concatenate(us), np.concatenate(vs)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    edge, e_first = _first_use(mode, lo, hi)
    direction, d_first = _first_use(mode, u, v)
    by_comm, c_first = _first_use(edge, comm)
    _, f_first = _first_use(edge, flow)
    dir_t = np.bincount(direction, tonnes).tolist()  # sequential: in assignment order
    comm_t = np.bincount(by_comm, tonnes).tolist()
    loads: dict[tuple, dict] = {}
    recs: list[dict] = []
    for m, a, b in zip(mode[e_first].tolist(), lo[e_first].tolist(), hi[e_first].tolist(),
                       strict=True):
        rec: dict[str, Any] = {"dir": {}, "comm": {}, "flows": []}
        loads[(modes[m], a, b)] = rec
        recs.append(rec)
    for k, (e, a, b) in enumerate(
        zip(edge[d_first].tolist(), u[d_first].tolist(), v[d_first].tolist(), strict=True)
    ):
        recs[e]["dir"][(a, b)] = dir_t[k]
    for k, (e, c) in enumerate(zip(edge[c_first].tolist(), comm[c_first].tolist(), strict=True)):
        recs[e]["comm"][comms[c]] = comm_t[k]
    for e, f in zip(edge[f_first].tolist(), flow[f_first].tolist(), strict=True):
        recs[e]["flows"].append(flow_ids[f])
    return loads


def _first_use(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of the rows of ``keys`` (integer columns), numbered in order of first
    appearance, and the index of each group's first row."""
    bases = [int(k.max()) + 1 for k in keys]
    if all(int(k.min()) >= 0 for k in keys) and math.prod(bases) < 2**62:  # packed
        packed = np.zeros(len(keys[0]), dtype=np.int64)
        for k, base in zip(keys, bases, strict=True):
            packed = packed * base + k
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(
            np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True
        )
    order = np.argsort(first)
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first))
    return rank[inverse.ravel()], first[order]


def _links(
    problem: Problem,
    solution: Solution,
    assigns: dict[str, Sequence[Assignment] | None],
    tots: dict[str, stt.StateTotals | None],
) -> tuple[dict, dict[str, int]]:
    """links.geojson, and how many rail and pipeline links carry flow with the rule
    (``{mode}_links_with_flow``) and how many of those have no capacity in the data
    (``{mode}_links_unknown``)."""
    loads = {s: _edge_loads(problem, a) if a is not None else None for s, a in assigns.items()}
    access = {
        s: _edge_loads(problem, [x for _, x in t.access]) if t is not None else None
        for s, t in tots.items()
    }
    on = loads["with_rule"] or {}
    bind = {(b.ref[0], b.ref[1], b.ref[2]): b for b in solution.bindings if b.kind == "edge"}
    count = {f"{m}_links_{k}": 0 for m in ("rail", "pipeline") for k in ("with_flow", "unknown")}
    keys: set[tuple] = set()
    for ld in loads.values():
        keys |= set(ld or ())
    feats = []
    for key in sorted(keys, key=lambda k: (k[0], k[1], k[2])):
        mode, u, v = key
        e = problem.network.graphs[mode].edges[u, v]
        cap = float(e.get("capacity_t", math.inf))
        a = on.get(key)
        util = (
            max(a["dir"].values()) / cap
            if a and math.isfinite(cap) and cap > 0
            else (0.0 if math.isfinite(cap) and cap > 0 else None)
        )
        if a and mode in ("rail", "pipeline"):
            count[f"{mode}_links_with_flow"] += 1
            count[f"{mode}_links_unknown"] += not math.isfinite(cap)
        bs = [bind[k] for k in ((mode, u, v), (mode, v, u)) if k in bind]
        props: dict[str, Any] = {
            "mode": mode,
            "u": u,
            "v": v,
            "name": e.get("name", ""),
            "lines": list(e.get("lines", ()) or ()),
            "km": round(e["length_km"], 3),
        }
        for s in stt.STATES:  # null when the state is missing
            ld, ac = loads.get(s), access.get(s)
            rec = ld.get(key) if ld is not None else None
            arec = ac.get(key) if ac is not None else None
            props[f"tonnes_{s}"] = None if ld is None else _sum_dir(rec)
            props[f"by_commodity_{s}"] = None if ld is None else dict(rec["comm"] if rec else {})
            props[f"flows_{s}"] = None if ld is None else list(rec["flows"] if rec else [])
            props[f"access_t_{s}"] = None if ac is None else _sum_dir(arec)
        props.update(
            capacity_t=_num(cap),
            utilisation=util,
            binding=bool(bs),
            shadow_cny_per_t=max((x.shadow_cny_per_t for x in bs), default=0.0),
        )
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(e["geometry"]) if e.get("geometry") is not None else None,
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": feats}, count


def _sum_dir(rec: dict | None) -> float:
    return float(sum(rec["dir"].values())) if rec else 0.0


def _throughput(assigns: Sequence[Assignment]) -> dict[str, float]:
    out: dict[str, float] = {}
    for a in assigns:
        for p in a.chain.lifts:
            out[p] = out.get(p, 0.0) + a.tonnes
    return out


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    write_csv(path, columns, rows)  # UTF-8 with BOM, no cell that starts a formula


def write_results(  # noqa: PLR0912,PLR0915 -- one column after another of flows.csv
    problem: Problem,
    solution: Solution,
    baseline: Any,
    policy_off_solution: Solution | None,
    out_dir: str | Path,
    *,
    scenario_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the five result files into ``out_dir`` and return the summary.

    Parameters
    ----------
    problem, solution : Problem, Solution
        The optimised problem and its solution under the rule as configured (the
        ``with_rule`` state).
    baseline : Baseline or Solution
        Today's assignments (the ``baseline`` state; anything with ``assignments``).
    policy_off_solution : Solution, optional
        The same problem solved with the rule off (the ``without_rule`` state); None leaves
        that state, and every comparison that needs it, null.
    out_dir : path
        Result folder (created when missing).
    scenario_meta : dict, optional
        ``scenario``, ``title``, ``parameters`` (``{key: {"value", "source", ...}}``),
        ``investments`` (``[{id, name, capex_cny, life_years, discount_rate,
        annualised_cny, source}]``; missing = none) and ``calibration_warning_share``
        (default :data:`freight.states.CALIBRATION_WARNING_SHARE`).
    """
    meta = scenario_meta or {}
    pol = problem.policy
    assigns: dict[str, Sequence[Assignment] | None] = {
        "baseline": _assignments(baseline),
        "without_rule": policy_off_solution.assignments if policy_off_solution else None,
        "with_rule": solution.assignments,
    }
    tots: dict[str, stt.StateTotals | None] = {
        "baseline": stt.totals(problem, assigns["baseline"] or ()),
        "without_rule": (
            stt.totals(problem, policy_off_solution.assignments) if policy_off_solution else None
        ),
        "with_rule": stt.totals(
            problem, solution.assignments, penalty=stt.penalty_of(problem, solution)
        ),
    }
    solved = {"without_rule": policy_off_solution, "with_rule": solution}
    states: dict[str, dict[str, Any] | None] = {
        s: stt.state_summary(s, t, problem, solved.get(s)) if t is not None else None
        for s, t in tots.items()
    }
    eligible = [
        f
        for f in problem.flows
        if f.id in solution.flow_status and solution.flow_status[f.id].eligible
    ]
    elig_ids = {f.id for f in eligible}
    shortfall = 0.0
    reasons: dict[str, float] = {}
    for a in solution.assignments:
        if a.chain.line_haul_mode() == "road":
            st = solution.flow_status.get(a.flow_id)
            code = getattr(st, "reason_code", "") if st is not None else ""
            if code:
                reasons[code] = reasons.get(code, 0.0) + a.tonnes
        if a.flow_id in elig_ids and not a.chain.compliant:
            shortfall += a.tonnes
    share = meta.get("calibration_warning_share")
    links, link_count = _links(problem, solution, assigns, tots)
    thr = {s: _throughput(a) if a is not None else None for s, a in assigns.items()}
    used_terms = [
        p for pid, p in problem.network.places.items()
        if p.is_terminal and (thr["with_rule"] or {}).get(pid, 0.0) > 0
    ]  # fmt: skip
    summary: dict[str, Any] = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "scenario": meta.get("scenario", problem.name),
        "title": meta.get("title", ""),
        "status": solution.status.value,
        "truck_payload_t": problem.truck_payload_t,
        "states": states,
        "comparisons": stt.comparisons(states),
        "warnings": stt.run_warnings(
            states,
            share=stt.CALIBRATION_WARNING_SHARE if share is None else float(share),
            fallbacks=getattr(baseline, "fallbacks", None),
        ),
        "policy": {
            "enforcement": pol.enforcement,
            "commodities": sorted(pol.commodities),
            "threshold_km": pol.threshold_km,
            "distance": pol.distance,
            "max_access_km": pol.max_access_km,
            "eligible_flows": len(eligible),
            "eligible_t": sum(f.tonnes for f in eligible),
            "eligible_road_t": {
                s: (sum(t.flows[f].road_t for f in elig_ids) if t is not None else None)
                for s, t in tots.items()
            },
            "shortfall_t": shortfall,
        },
        "capital": stt.capital(meta.get("investments")),
        "capacities": {
            "definition_zh": "有规则最低成本中有货流的铁路/管道区段和场站里，数据未给出能力"
            "（未知）的个数；模型把未知能力按不限处理，所以那里不会出现瓶颈",
            "definition_en": "of the rail/pipeline links and terminals carrying flow with the "
            "rule, how many have no capacity in the data (unknown); the model treats an "
            "unknown capacity as unlimited, so no bottleneck can appear there",
            **link_count,
            "terminals_with_flow": len(used_terms),
            "terminals_unknown": sum(not math.isfinite(p.capacity_t) for p in used_terms),
        },
        "parameters": _parameters(problem, meta),
        "solver": {
            "name": problem.solver,
            "iterations": solution.iterations,
            "columns": int(solution.stats.get("columns", 0)),
            "seconds": float(solution.stats.get("seconds", 0.0)),
            "without_rule": (
                {
                    "iterations": policy_off_solution.iterations,
                    "columns": int(policy_off_solution.stats.get("columns", 0)),
                    "seconds": float(policy_off_solution.stats.get("seconds", 0.0)),
                }
                if policy_off_solution is not None
                else None
            ),
        },
        "reasons": reasons,
    }
    if solution.message:
        summary["message"] = solution.message

    places = problem.network.places
    bott = []
    for i, b in enumerate(solution.bindings, start=1):
        per_train = None
        if b.kind == "edge":
            mode, u, v = b.ref
            g = problem.network.graphs[mode]
            lon = (g.nodes[u]["x"] + g.nodes[v]["x"]) / 2
            lat = (g.nodes[u]["y"] + g.nodes[v]["y"]) / 2
            # a line rated in trains a day: one more daily path in this direction for a
            # year carries train_net_t × 365 more tonnes (PEERS: value of a train path)
            load = g.edges[u, v].get("train_net_t")
            if load is not None and math.isfinite(load):
                per_train = round(b.shadow_cny_per_t * load * 365.0, 2)
        else:
            p = places[b.ref[0]]
            mode, lon, lat = ";".join(m for m in p.modes if m != "road"), p.lon, p.lat
        bott.append(
            {
                "rank": i,
                "constraint": b.name,
                "kind": b.kind,
                "mode": mode,
                "label": b.label,
                "capacity_t": b.capacity_t,
                "used_t": round(b.used_t, 6),
                "shadow_cny_per_t": round(b.shadow_cny_per_t, 6),
                "shadow_cny_per_daily_train_year": per_train,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
            }
        )
    tshadow = {b.ref[0]: b.shadow_cny_per_t for b in solution.bindings if b.kind == "terminal"}
    payload = problem.truck_payload_t
    terms = []
    for pid in sorted(places):
        p = places[pid]
        if not p.is_terminal:
            continue
        cap = _num(p.capacity_t)
        on_t = (thr["with_rule"] or {}).get(pid, 0.0)
        rec: dict[str, Any] = {
            "id": pid,
            "name": p.name,
            "kind": p.kind,
            "modes": ";".join(p.modes),
            "county": p.county,
            "lon": p.lon,
            "lat": p.lat,
            "capacity_t": cap,
            "capacity_known": "yes" if cap is not None else "no",
            "utilisation": on_t / cap if cap else None,
            "shadow_cny_per_t": tshadow.get(pid, 0.0),
        }
        for s in stt.STATES:
            t, tot = thr[s], tots[s]
            rec[f"throughput_{s}_t"] = t.get(pid, 0.0) if t is not None else None
            acc = tot.by_station.get(pid, [0.0, 0.0])[0] if tot is not None else None
            rec[f"access_t_{s}"] = acc
            rec[f"access_trips_{s}"] = None if acc is None else round(acc / payload, 3)
        terms.append(rec)

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-write-", dir=out.parent))
    try:
        (tmp / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        _write_csv(tmp / "flows.csv", FLOW_COLUMNS, _flow_rows(problem, solution, tots))
        (tmp / "links.geojson").write_text(json.dumps(links, ensure_ascii=False), encoding="utf-8")
        _write_csv(tmp / "bottlenecks.csv", BOTTLENECK_COLUMNS, bott)
        _write_csv(tmp / "terminals.csv", TERMINAL_COLUMNS, terms)
        if not out.exists():
            tmp.rename(out)
        else:
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary
