"""Reading a result folder for the pages: the three states, the comparisons with their
definitions, the flows table (search, sort, pages), bottlenecks, and two runs compared.

Only the files of the result folder's contract (docs/CONTRACTS.md: ``summary.json``
schema 2, ``flows.csv``, ``bottlenecks.csv``) are read; the summary is the copy in the
job's row.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATES = ("baseline", "without_rule", "with_rule")
STATE_LABELS = {
    "baseline": ("现状", "today (baseline)"),
    "without_rule": ("无规则最低成本", "least cost without the rule"),
    "with_rule": ("有规则最低成本", "least cost with the rule"),
}

#: The headline rows: (zh, en, unit, path into a state).
FIGURES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("公路吨数 (干线)", "road tonnes (line haul)", "t", ("tonnes", "road")),
    ("铁路吨数 (干线)", "rail tonnes (line haul)", "t", ("tonnes", "rail")),
    ("管道吨数", "pipeline tonnes", "t", ("tonnes", "pipeline")),
    ("公路吨公里 (含短驳)", "road t·km (incl. 短驳)", "t·km", ("tkm", "road")),
    ("其中短驳吨公里", "of which 短驳 access t·km", "t·km", ("access", "tkm")),
    ("铁路吨公里", "rail t·km", "t·km", ("tkm", "rail")),
    ("货车车次 干线", "truck trips, line haul", "trips", ("truck_trips", "line_haul")),
    ("货车车次 短驳", "truck trips, 短驳", "trips", ("truck_trips", "access")),
    ("货车车次 合计", "truck trips, total", "trips", ("truck_trips", "total")),
    ("CO2 排放", "CO2", "t", ("co2_t",)),
    ("运输成本", "transport cost", "CNY/yr", ("cost_cny",)),
)


def dig(d: Any, path: tuple[str, ...]) -> float | None:
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return float(d) if isinstance(d, int | float) and not isinstance(d, bool) else None


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


@dataclass(frozen=True)
class FigureRow:
    zh: str
    en: str
    unit: str
    values: list[float | None]  # baseline, without_rule, with_rule
    rule_effect: float | None  # without − with
    voluntary: float | None  # baseline − without


def figure_rows(summary: dict[str, Any]) -> list[FigureRow]:
    """The three states side by side, with the rule's effect and the voluntary shift."""
    states = summary.get("states") or {}
    out = []
    for zh, en, unit, path in FIGURES:
        vals = [dig(states.get(s), path) for s in STATES]
        out.append(
            FigureRow(zh, en, unit, vals, _minus(vals[1], vals[2]), _minus(vals[0], vals[1]))
        )
    return out


def comparison_items(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The scalar comparisons (policy cost, CO2 abated by the rule, abatement cost) with
    their definitions, and the three shifts' definitions."""
    cmp = summary.get("comparisons") or {}
    out = []
    for key in ("rule_effect", "voluntary", "total"):
        c = cmp.get(key)
        if c:
            out.append(
                {
                    "key": key,
                    "value": c.get("road_t"),
                    "unit": "t 公路减少 off the road",
                    "zh": c.get("definition_zh", ""),
                    "en": c.get("definition_en", ""),
                }
            )
    for key in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t"):
        c = cmp.get(key)
        if c:
            out.append(
                {
                    "key": key,
                    "value": c.get("value"),
                    "unit": c.get("unit", ""),
                    "zh": c.get("definition_zh", ""),
                    "en": c.get("definition_en", ""),
                }
            )
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    """A result CSV (UTF-8 with BOM) as dicts; [] when the file is missing."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


FLOW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("flow_id", "流 Flow"),
    ("commodity", "货类 Commodity"),
    ("shipper", "货主 Shipper"),
    ("origin_name", "起点 Origin"),
    ("destination_name", "终点 Destination"),
    ("tonnes", "吨 Tonnes"),
    ("baseline_mode", "现状 Today"),
    ("modes", "方式 Modes"),
    ("haul_km", "运距 km"),
    ("cost_cny_per_t", "元/吨 CNY/t"),
    ("road_t", "公路吨 Road t"),
    ("moved_by_rule", "规则转移 Moved"),
    ("reason", "原因 Reason"),
    ("lines", "线路 Lines"),
)
NUMERIC = frozenset({"tonnes", "haul_km", "cost_cny_per_t", "road_t"})
PAGE_SIZE = 50


def _num(text: str) -> float:
    try:
        x = float(text)
    except (TypeError, ValueError):
        return -math.inf
    return x if math.isfinite(x) else -math.inf


def flows_view(
    rows: list[dict[str, str]],
    *,
    q: str = "",
    sort: str = "flow_id",
    desc: bool = False,
    page: int = 1,
) -> tuple[list[dict[str, str]], int, int]:
    """Filter (every word of ``q`` in some text cell, case ignored), sort (numbers as
    numbers) and page the flows; returns (rows of the page, rows matched, pages)."""
    words = [w.casefold() for w in q.split() if w]
    if words:
        rows = [
            r for r in rows if all(any(w in str(v).casefold() for v in r.values()) for w in words)
        ]
    if sort not in dict(FLOW_COLUMNS):
        sort = "flow_id"
    if sort in NUMERIC:
        rows = sorted(rows, key=lambda r: _num(r.get(sort, "")), reverse=desc)
    else:
        rows = sorted(rows, key=lambda r: str(r.get(sort, "")), reverse=desc)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, page), pages)
    return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], len(rows), pages


# --- two runs --------------------------------------------------------------------------------


def figures_side_by_side(sa: dict[str, Any], sb: dict[str, Any]) -> list[dict[str, Any]]:
    """Each headline figure in each state for run A and run B, and B − A."""
    out = []
    sta, stb = sa.get("states") or {}, sb.get("states") or {}
    for zh, en, unit, path in FIGURES:
        for s in STATES:
            a, b = dig(sta.get(s), path), dig(stb.get(s), path)
            out.append(
                {"zh": zh, "en": en, "unit": unit, "state": s, "a": a, "b": b, "diff": _minus(b, a)}
            )
    ca, cb = sa.get("comparisons") or {}, sb.get("comparisons") or {}
    for key, zh, en in (
        ("policy_cost_cny", "政策成本", "policy cost"),
        ("co2_abated_by_rule_t", "规则减排 CO2", "CO2 abated by the rule"),
        ("co2_abatement_cny_per_t", "减排成本", "CO2 abatement cost"),
    ):
        a = dig(ca.get(key), ("value",))
        b = dig(cb.get(key), ("value",))
        unit = (cb.get(key) or ca.get(key) or {}).get("unit", "")
        out.append(
            {"zh": zh, "en": en, "unit": unit, "state": "", "a": a, "b": b, "diff": _minus(b, a)}
        )
    for key, zh, en in (
        ("rule_effect", "规则转移 (公路吨)", "shift due to the rule (road t)"),
        ("voluntary", "自愿转移 (公路吨)", "voluntary shift (road t)"),
    ):
        a = dig(ca.get(key), ("road_t",))
        b = dig(cb.get(key), ("road_t",))
        out.append(
            {"zh": zh, "en": en, "unit": "t", "state": "", "a": a, "b": b, "diff": _minus(b, a)}
        )
    return out


def _flow_groups(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        groups[r.get("flow_id", "")].append(r)
    return groups


def _chain_text(rows: list[dict[str, str]]) -> str:
    parts = []
    for r in sorted(rows, key=lambda r: -_num(r.get("tonnes", ""))):
        lines = f" [{r['lines']}]" if r.get("lines") else ""
        parts.append(f"{r.get('modes', '')}{lines} {_num(r.get('tonnes', '')):,.0f} t")
    return "; ".join(parts)


def _reasons(rows: list[dict[str, str]]) -> str:
    seen = []
    for r in rows:
        text = r.get("reason", "")
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)


def changed_flows(
    rows_a: list[dict[str, str]], rows_b: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Flows whose mode or route differs between run A and run B (with the rule): the
    chains in each, road tonnes in each, and each run's reasons for its road tonnes and
    whether the flow was eligible -- what made the difference."""
    ga, gb = _flow_groups(rows_a), _flow_groups(rows_b)
    out = []
    for fid in sorted(set(ga) | set(gb)):
        a, b = ga.get(fid, []), gb.get(fid, [])
        key_a = sorted(
            (r.get("modes", ""), r.get("lines", ""), round(_num(r.get("tonnes", "")))) for r in a
        )
        key_b = sorted(
            (r.get("modes", ""), r.get("lines", ""), round(_num(r.get("tonnes", "")))) for r in b
        )
        if key_a == key_b:
            continue
        first = (b or a)[0]
        road_a = sum(_num(r.get("road_t", "")) for r in a) if a else None
        road_b = sum(_num(r.get("road_t", "")) for r in b) if b else None
        modes_a = {r.get("line_haul_mode", "") for r in a}
        modes_b = {r.get("line_haul_mode", "") for r in b}
        out.append(
            {
                "flow_id": fid,
                "commodity": first.get("commodity", ""),
                "od": f"{first.get('origin_name', '')} → {first.get('destination_name', '')}",
                "tonnes": _num(first.get("flow_tonnes") or first.get("tonnes", "")),
                "change": "mode 方式" if modes_a != modes_b else "route 路径",
                "chain_a": _chain_text(a) or "—",
                "chain_b": _chain_text(b) or "—",
                "road_a": road_a,
                "road_b": road_b,
                "eligible_a": (a[0].get("eligible", "") if a else ""),
                "eligible_b": (b[0].get("eligible", "") if b else ""),
                "reason_a": _reasons(a),
                "reason_b": _reasons(b),
            }
        )
    return out


def parameter_differences(sa: dict[str, Any], sb: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario parameters whose value differs between the runs (the why of a
    comparison: a threshold, a price, a capacity file)."""
    pa, pb = sa.get("parameters") or {}, sb.get("parameters") or {}
    out = []
    for key in sorted(set(pa) | set(pb)):
        va = (pa.get(key) or {}).get("value") if isinstance(pa.get(key), dict) else pa.get(key)
        vb = (pb.get(key) or {}).get("value") if isinstance(pb.get(key), dict) else pb.get(key)
        if va != vb:
            out.append({"key": key, "a": va, "b": vb})
    pol_a, pol_b = sa.get("policy") or {}, sb.get("policy") or {}
    for key in ("threshold_km", "enforcement", "commodities"):
        if pol_a.get(key) != pol_b.get(key) and not any(p["key"].endswith(key) for p in out):
            out.append({"key": f"policy.{key}", "a": pol_a.get(key), "b": pol_b.get(key)})
    return out
