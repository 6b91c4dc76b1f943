"""Read a result folder (``summary.json``, ``flows.csv``, ``links.geojson``,
``bottlenecks.csv``, ``terminals.csv``; schema in ``docs/CONTRACTS.md``) and aggregate it
the way the map and the report show it. Plain data in, plain data out: no folium here."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freight.spreadsheet import restore
from maps._style import MODE_ORDER
from networks import InputError, InputErrors, csvtable

_FLOW_NUM = (
    "tonnes", "road_km", "rail_km", "pipeline_km", "haul_km", "cost_cny_per_t", "cost_cny",
    "co2_t", "road_t", "access_km", "access_t", "access_trips", "flow_tonnes",
    "road_t_baseline", "road_t_without_rule", "road_t_with_rule", "cost_cny_without_rule",
    "cost_cny_with_rule", "rule_cost_cny", "co2_t_without_rule", "co2_t_with_rule",
)  # fmt: skip
#: The three states of a run (docs/CONTRACTS.md), in the order every table shows them.
STATES: tuple[str, ...] = ("baseline", "without_rule", "with_rule")
_BOTTLENECK_NUM = (
    "rank", "capacity_t", "used_t", "shadow_cny_per_t", "shadow_cny_per_daily_train_year",
    "lon", "lat",
)  # fmt: skip
_TERMINAL_NUM = (
    "lon", "lat", "capacity_t", "utilisation", "shadow_cny_per_t",
    *(f"throughput_{s}_t" for s in STATES), *(f"access_t_{s}" for s in STATES),
    *(f"access_trips_{s}" for s in STATES),
)  # fmt: skip


@dataclass(frozen=True)
class Results:
    """The files of one result folder, parsed (numbers as float, blanks as None)."""

    path: Path
    summary: dict[str, Any]
    flows: list[dict[str, Any]]
    links: dict[str, Any]
    bottlenecks: list[dict[str, Any]] = field(default_factory=list)
    terminals: list[dict[str, Any]] = field(default_factory=list)


def _num(value: str | None) -> float | None:
    if value is None or value.strip() == "":
        return None
    return float(value)


def read_table(path: Path, numeric: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Read a UTF-8 CSV (optional BOM, ``#`` comment lines), converting ``numeric`` columns.

    Parameters
    ----------
    path : Path
        The CSV file.
    numeric : tuple of str
        Columns parsed as float (blank → None).

    Returns
    -------
    list of dict
        One dict per record.

    Raises
    ------
    InputErrors
        The file is missing or malformed (a result folder from elsewhere).
    """
    errors: list[InputError] = []
    rows: list[dict[str, Any]] = []
    for row in csvtable.read_table(path, required=(), errors=errors):
        # text cells as written, before freight.spreadsheet quoted those that would
        # start a spreadsheet formula; numeric columns as numbers
        rec: dict[str, Any] = {k: restore(v) for k, v in row.cells.items()}
        for col in numeric:
            if col in rec:
                rec[col] = _num(rec[col])
        rows.append(rec)
    if errors:
        raise InputErrors(errors)
    return rows


def read_results(result_dir: str | Path) -> Results:
    """Read a result folder written by ``freight.run``.

    Parameters
    ----------
    result_dir : str or Path
        Folder holding ``summary.json``, ``flows.csv`` and ``links.geojson``;
        ``bottlenecks.csv`` and ``terminals.csv`` are read when present.

    Returns
    -------
    Results
    """
    p = Path(result_dir)
    summary = json.loads((p / "summary.json").read_text(encoding="utf-8"))
    flows = read_table(p / "flows.csv", _FLOW_NUM)
    links = json.loads((p / "links.geojson").read_text(encoding="utf-8"))
    bn = p / "bottlenecks.csv"
    tm = p / "terminals.csv"
    return Results(
        path=p,
        summary=summary,
        flows=flows,
        links=links,
        bottlenecks=read_table(bn, _BOTTLENECK_NUM) if bn.exists() else [],
        terminals=read_table(tm, _TERMINAL_NUM) if tm.exists() else [],
    )


def _zero_modes() -> dict[str, float]:
    return {m: 0.0 for m in MODE_ORDER}


def _road(rec: dict[str, Any], state: str) -> float | None:
    v = rec.get(f"road_t_{state}")
    return None if v is None else float(v)


def flow_totals(flows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fold the rows of ``flows.csv`` (one per flow and chain used with the rule) into one
    record per flow.

    Returns
    -------
    dict
        ``flow_id -> {commodity, shipper, county, origin, destination, origin_name,
        destination_name, baseline_mode, haul_km, eligible, tonnes, road {state: t or None},
        with_rule {mode: t}, road_t, access_t, cost_cny, co2_t, rule_cost_cny,
        moved_by_rule, reasons [(reason_code, reason, road_t)]}``. ``road`` holds the
        flow's road line-haul tonnes in the three states (``flows.csv``'s flow-level
        columns; None when a state is missing); ``with_rule`` sums the rows by
        ``line_haul_mode``; ``cost_cny`` and ``co2_t`` are the with-rule rows' sums.
    """
    out: dict[str, dict[str, Any]] = {}
    for r in flows:
        fid = r["flow_id"]
        rec = out.get(fid)
        if rec is None:
            rec = out[fid] = {
                k: r.get(k, "")
                for k in ("commodity", "shipper", "county", "origin", "destination",
                          "origin_name", "destination_name", "baseline_mode", "haul_km",
                          "eligible")
            }  # fmt: skip
            rec.update(tonnes=0.0, with_rule=_zero_modes(), road_t=0.0, access_t=0.0,
                       reasons=[], cost_cny=0.0, co2_t=0.0,
                       road={s: _road(r, s) for s in STATES},
                       rule_cost_cny=r.get("rule_cost_cny"),
                       moved_by_rule=r.get("moved_by_rule") == "yes")  # fmt: skip
        t = r["tonnes"] or 0.0
        rec["tonnes"] += t
        mode = r.get("line_haul_mode") or "road"
        rec["with_rule"][mode] = rec["with_rule"].get(mode, 0.0) + t
        rec["road_t"] += r["road_t"] or 0.0
        rec["access_t"] += r.get("access_t") or 0.0
        rec["cost_cny"] += r["cost_cny"] or 0.0
        rec["co2_t"] += r["co2_t"] or 0.0
        if (r["road_t"] or 0.0) > 0 and r.get("reason_code", ""):
            rec["reasons"].append((r["reason_code"], r.get("reason", ""), r["road_t"]))
    for rec in out.values():
        if rec["road"]["with_rule"] is None:
            rec["road"]["with_rule"] = rec["road_t"]
    return out


def _add(target: dict[str, float], src: dict[str, float]) -> None:
    for k, v in src.items():
        target[k] = target.get(k, 0.0) + v


def _add_road(target: dict[str, float | None], src: dict[str, float | None]) -> None:
    for k, v in src.items():
        cur = target.get(k, 0.0)
        target[k] = None if cur is None or v is None else cur + v


def by_key(flows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Aggregate flows by a column of ``flows.csv`` (``shipper``, ``county``, ``commodity``).

    Returns
    -------
    dict
        ``value -> {tonnes, road {state: t or None}, with_rule {mode: t}, road_t, cost_cny,
        co2_t, rule_cost_cny, moved_t, flows: [flow ids]}`` (``moved_t``: road tonnes moved
        by the rule, without − with); the key ``""`` collects flows with a blank value.
    """
    out: dict[str, dict[str, Any]] = {}
    for fid, rec in flow_totals(flows).items():
        agg = out.setdefault(
            rec[key] or "",
            {"tonnes": 0.0, "road": dict.fromkeys(STATES, 0.0), "with_rule": _zero_modes(),
             "road_t": 0.0, "cost_cny": 0.0, "co2_t": 0.0, "rule_cost_cny": 0.0,
             "flows": []},
        )  # fmt: skip
        agg["tonnes"] += rec["tonnes"]
        _add_road(agg["road"], rec["road"])
        _add(agg["with_rule"], rec["with_rule"])
        for k in ("road_t", "cost_cny", "co2_t"):
            agg[k] += rec[k]
        agg["rule_cost_cny"] += rec["rule_cost_cny"] or 0.0
        agg["flows"].append(fid)
    for agg in out.values():
        off, on = agg["road"]["without_rule"], agg["road"]["with_rule"]
        agg["moved_t"] = None if off is None or on is None else off - on
    return out


def by_place(flows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Aggregate flows by each place id they start or end at.

    Returns
    -------
    dict
        ``place id -> {tonnes, road {state: t or None}, with_rule {mode: t}, road_t,
        reasons [(flow_id, reason_code, reason, road_t)]}``.
    """
    out: dict[str, dict[str, Any]] = {}
    for fid, rec in flow_totals(flows).items():
        for pid in {rec["origin"], rec["destination"]}:
            agg = out.setdefault(
                pid,
                {"tonnes": 0.0, "road": dict.fromkeys(STATES, 0.0), "with_rule": _zero_modes(),
                 "road_t": 0.0, "reasons": []},
            )  # fmt: skip
            agg["tonnes"] += rec["tonnes"]
            _add_road(agg["road"], rec["road"])
            _add(agg["with_rule"], rec["with_rule"])
            agg["road_t"] += rec["road_t"]
            agg["reasons"].extend((fid, c, s, t) for c, s, t in rec["reasons"])
    return out


def county_reduction(
    flows: list[dict[str, Any]], *, a: str = "without_rule", b: str = "with_rule"
) -> dict[str, float]:
    """Road line-haul tonnes of state ``a`` − state ``b`` by county: by default the tonnes
    the rule moves off the road (without − with).

    Returns
    -------
    dict
        County name (``county`` column of ``flows.csv``) -> tonnes (negative if road
        tonnage grew). Flows with a blank county, or a missing state, are left out.
    """
    out: dict[str, float] = {}
    for name, agg in by_key(flows, "county").items():
        x, y = agg["road"][a], agg["road"][b]
        if name and x is not None and y is not None:
            out[name] = x - y
    return out


def moved_by_rule(flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flow records (:func:`flow_totals`, with ``flow_id``) whose road tonnes the rule moves,
    largest first."""
    recs = [dict(rec, flow_id=fid) for fid, rec in flow_totals(flows).items()
            if rec["moved_by_rule"]]  # fmt: skip
    return sorted(recs, key=lambda r: (-((r["road"]["without_rule"] or 0.0)
                                         - (r["road"]["with_rule"] or 0.0)), r["flow_id"]))


def road_left(flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of ``flows.csv`` with tonnes left on the road, largest first."""
    rows = [r for r in flows if (r["road_t"] or 0.0) > 0]
    return sorted(rows, key=lambda r: (-(r["road_t"] or 0.0), r["flow_id"]))


def finite(x: float | None) -> float | None:
    """``x`` unless it is None, NaN or infinite (JSON ``null`` capacities)."""
    if x is None or math.isnan(x) or math.isinf(x):
        return None
    return x

