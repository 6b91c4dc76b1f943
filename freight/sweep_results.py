"""A sweep's tables and files: one row per point, the marginal abatement cost curve, and
the spread of the headline figures over Monte-Carlo draws.

Files of a sweep folder (docs/CONTRACTS.md, "Sweep folder"): ``sweep.csv`` and
``sweep.parquet`` (one row per point: its parameters, status, error and every figure of
its ``summary.json``, :func:`summary_figures`), ``mac.csv`` and ``mac.parquet`` (per
point, every flow whose cost or CO2 the rule changes, :func:`mac_rows`), ``sweep.json``
(the plan, and the headline figures' quantiles and drivers), ``points/<name>.toml``
(each point as a scenario extending the base). CSVs go through
:func:`freight.spreadsheet.write_csv`: UTF-8 with a BOM, no cell that starts a formula.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from freight.spreadsheet import restore, write_csv
from freight.sweep import Sweep, point_toml

if TYPE_CHECKING:  # pandas is imported by the table makers only: a worker never needs it
    import pandas as pd

#: Headline figures of a sweep: column, Chinese and English label saying what each
#: compares, unit.
HEADLINES: tuple[tuple[str, str, str, str], ...] = (
    ("comparisons.rule_effect.road_t",
     "规则转移的公路吨数（无规则 − 有规则）", "road tonnes moved by the rule (without − with)",
     "t/yr"),
    ("comparisons.policy_cost_cny",
     "政策成本（有规则目标值 − 无规则目标值）", "policy cost (objective with the rule − without)",
     "CNY/yr"),
    ("comparisons.co2_abatement_cny_per_t",
     "CO₂ 减排成本 = 政策成本 ÷ 规则减少的 CO₂",
     "CO2 abatement cost = policy cost ÷ CO2 abated by the rule", "CNY/t CO2"),
    ("comparisons.co2_abated_by_rule_t",
     "规则减少的 CO₂（无规则 − 有规则）", "CO2 abated by the rule (without − with)", "t/yr"),
    ("comparisons.voluntary.road_t",
     "成本模型认为的自愿转移（现状 − 无规则）",
     "shift the cost model calls voluntary (today − without)", "t/yr"),
    ("comparisons.rule_effect.truck_trips.total",
     "规则减少的货车趟次，含短驳（无规则 − 有规则）",
     "truck trips the rule saves, 短驳 included (without − with)", "trips/yr"),
)  # fmt: skip

_STATE_SKIP = {"label_zh", "label_en", "access_by_station", "access_by_county", "status"}


def _leaves(d: Any, prefix: str, skip: set[str] = frozenset()) -> Iterable[tuple[str, Any]]:  # type: ignore[assignment]
    if isinstance(d, dict):
        for k, v in d.items():
            if k in skip or k.startswith("definition"):
                continue
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(d, int | float) and not isinstance(d, bool) or d is None:
        yield prefix, d


def summary_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """Every figure of a ``summary.json`` (schema 2) as flat dotted columns, named by
    their path in it: ``states.<state>.…`` (the three states; per-station and per-county
    短驳 left out), ``comparisons.<rule_effect|voluntary|total>.…``,
    ``comparisons.policy_cost_cny`` (etc., their ``value``), ``policy.eligible_…``,
    ``capital.annualised_cny``, ``capacities.…``, ``reasons.<code>``, ``solver.iterations``
    and ``columns`` (not seconds), and ``warnings`` (their codes, ``;``-joined)."""
    out: dict[str, Any] = {"scenario": summary.get("scenario")}
    for state, d in (summary.get("states") or {}).items():
        if d is not None:
            out.update(_leaves(d, f"states.{state}", _STATE_SKIP))
    cmp = summary.get("comparisons") or {}
    for name in ("rule_effect", "voluntary", "total"):
        if cmp.get(name) is not None:
            out.update(_leaves(cmp[name], f"comparisons.{name}"))
    for name in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t"):
        out[f"comparisons.{name}"] = (cmp.get(name) or {}).get("value")
    pol = summary.get("policy") or {}
    for k in ("eligible_flows", "eligible_t", "shortfall_t"):
        out[f"policy.{k}"] = pol.get(k)
    out.update(_leaves(pol.get("eligible_road_t") or {}, "policy.eligible_road_t"))
    out["capital.annualised_cny"] = (summary.get("capital") or {}).get("annualised_cny")
    out.update(_leaves(summary.get("capacities") or {}, "capacities"))
    out.update(_leaves(summary.get("reasons") or {}, "reasons"))
    solver = summary.get("solver") or {}
    for k in ("iterations", "columns"):
        out[f"solver.{k}"] = solver.get(k)
        out[f"solver.without_rule.{k}"] = (solver.get("without_rule") or {}).get(k)
    out["warnings"] = ";".join(w.get("code", "") for w in summary.get("warnings") or [])
    return out


#: Columns of a point's marginal abatement cost rows (mac.csv adds the point's columns).
MAC_COLUMNS = (
    "flow_id", "commodity", "shipper", "origin_name", "destination_name", "haul_km",
    "flow_tonnes", "eligible", "road_t_without_rule", "road_t_with_rule", "moved_t",
    "rule_cost_cny", "co2_t_without_rule", "co2_t_with_rule", "co2_saved_t",
    "cny_per_t_co2", "cny_per_t_moved",
)  # fmt: skip


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def mac_rows(flows_csv: Path) -> list[dict[str, Any]]:
    """Per flow of a result folder's ``flows.csv`` whose cost, road tonnes or CO2 the rule
    changes: its ``rule_cost_cny`` (cost with the rule − without, penalties included: these
    sum to the point's policy cost), the tonnes it moves off the road (``moved_t`` = road t
    without − with), the CO2 it saves (``co2_saved_t`` = without − with), and what forcing
    it costs per tonne of CO2 saved (``cny_per_t_co2`` = rule cost ÷ CO2 saved; None when it
    saves none) and per tonne moved (``cny_per_t_moved``; None when it moves none).
    ``eligible`` False marks a flow the rule does not cover whose chain changed because the
    rule's flows took capacity it used."""
    with open(flows_csv, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in rows:
        if r["flow_id"] in seen:
            continue
        seen.add(r["flow_id"])
        cost = _float(r["rule_cost_cny"])
        moved = _float(r["road_t_without_rule"]) - _float(r["road_t_with_rule"])
        co2 = _float(r["co2_t_without_rule"]) - _float(r["co2_t_with_rule"])
        tonnes = _float(r["flow_tonnes"])
        if cost == 0.0 and abs(moved) <= 1e-6 * max(1.0, tonnes) and co2 == 0.0:
            continue
        out.append({
            # flows.csv quotes a cell that would start a formula: undone here, and done
            # again when mac.csv is written
            "flow_id": restore(r["flow_id"]),
            "commodity": restore(r["commodity"]),
            "shipper": restore(r["shipper"]),
            "origin_name": restore(r["origin_name"]),
            "destination_name": restore(r["destination_name"]),
            "haul_km": _float(r["haul_km"]),
            "flow_tonnes": tonnes,
            "eligible": r["eligible"] == "yes",
            "road_t_without_rule": _float(r["road_t_without_rule"]),
            "road_t_with_rule": _float(r["road_t_with_rule"]),
            "moved_t": moved,
            "rule_cost_cny": cost,
            "co2_t_without_rule": _float(r["co2_t_without_rule"]),
            "co2_t_with_rule": _float(r["co2_t_with_rule"]),
            "co2_saved_t": co2,
            "cny_per_t_co2": cost / co2 if co2 > 1e-9 else None,
            "cny_per_t_moved": cost / moved if moved > 1e-6 * max(1.0, tonnes) else None,
        })  # fmt: skip
    return out


def mac_curve(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The marginal abatement cost curve of one point: the flows that save CO2, cheapest
    per tonne of CO2 first (each a bar as wide as its CO2 saved and as high as its cost per
    tonne, so its area is its rule cost), and the rest (rule cost without a CO2 saving).
    The rule costs of both together are the point's policy cost."""
    curve = sorted((r for r in rows if r["cny_per_t_co2"] is not None),
                   key=lambda r: (r["cny_per_t_co2"], r["flow_id"]))  # fmt: skip
    rest = [r for r in rows if r["cny_per_t_co2"] is None]
    return curve, rest


# --- tables --------------------------------------------------------------------------------


def table(sweep: Sweep) -> pd.DataFrame:
    """One row per point: ``point``, ``name``, ``draw`` (samples), each varied or drawn
    key, ``status``, ``error``, ``seconds``, then every summary figure."""
    import pandas as pd

    keys = list(sweep.plan.keys)
    sampled = bool(sweep.plan.drawn_keys)
    rows = []
    for r in sweep.results:
        row: dict[str, Any] = {"point": r.index, "name": r.name}
        if sampled:
            row["draw"] = r.draw
        row.update({k: r.overrides.get(k) for k in keys})
        row.update(status=r.status, error=r.error, seconds=round(r.seconds, 3))
        row.update({k: v for k, v in r.figures.items() if k not in row})
        rows.append(row)
    if not rows:  # no point: the columns all the same
        return pd.DataFrame(columns=["point", "name", *(["draw"] if sampled else []), *keys,
                                     "status", "error", "seconds"])  # fmt: skip
    df = pd.DataFrame(rows)
    for col in df.columns:
        vals = [v for v in df[col].tolist() if v is not None and v == v]
        if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            df[col] = pd.array(df[col].tolist(), dtype="Int64")  # counts stay whole, blank = NA
        elif df[col].dtype == object and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in vals
        ):  # a figure missing at failed points: a number column with NaN
            df[col] = pd.to_numeric(df[col])
    return df


def mac_table(sweep: Sweep) -> pd.DataFrame:
    """Per point, its MAC rows (:func:`mac_rows`), with the point's columns first and each
    flow's ``rank`` on the curve (1 = cheapest per tonne of CO2; blank: saves none)."""
    import pandas as pd

    keys = list(sweep.plan.keys)
    rows = []
    for r in sweep.results:
        curve, rest = mac_curve(r.mac)
        rank = {m["flow_id"]: i for i, m in enumerate(curve, start=1)}
        for m in (*curve, *rest):
            rows.append({"point": r.index, "name": r.name,
                         **{k: r.overrides.get(k) for k in keys},
                         "rank": rank.get(m["flow_id"]), **m})  # fmt: skip
    cols = ["point", "name", *keys, "rank", *MAC_COLUMNS]
    return pd.DataFrame(rows, columns=cols)


def quantiles(values: Iterable[float]) -> dict[str, float | None]:
    """P10, P50, P90 (numpy's linear interpolation between order statistics) and the
    count of finite values."""
    x = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(x):
        return {"p10": None, "p50": None, "p90": None, "n": 0}
    p10, p50, p90 = np.percentile(x, [10, 50, 90]).tolist()
    return {"p10": p10, "p50": p50, "p90": p90, "n": int(len(x))}


def drivers(df: pd.DataFrame, figure: str, keys: Iterable[str]) -> list[dict[str, Any]]:
    """Which drawn parameter drives ``figure`` most: Spearman's rank correlation of each
    key that varies with the figure over the optimal points, largest in size first."""
    import pandas as pd

    ok = df[df["status"] == "optimal"] if "status" in df else df
    out: list[dict[str, Any]] = []
    if figure not in ok or len(ok) < 3:
        return out
    # to the micro-unit: a difference's float noise (1e-10 trips) is no variation
    y = pd.to_numeric(ok[figure], errors="coerce").round(6)
    for k in keys:
        x = pd.to_numeric(ok[k], errors="coerce")
        if x.nunique() < 2 or y.nunique() < 2:
            continue
        rho = x.rank().corr(y.rank())  # Spearman = Pearson of the ranks (ties averaged)
        if rho == rho:
            out.append({"parameter": k, "spearman": float(rho)})
    return sorted(out, key=lambda d: -abs(d["spearman"]))


def headline_stats(sweep: Sweep, df: pd.DataFrame | None = None) -> dict[str, Any]:
    """For each headline figure: P10/P50/P90 over the optimal points and its drivers
    among the drawn keys (empty without draws)."""
    df = table(sweep) if df is None else df
    ok = df[df["status"] == "optimal"]
    out = {}
    for col, zh, en, unit in HEADLINES:
        vals = ok[col].tolist() if col in ok else []
        out[col] = {"label_zh": zh, "label_en": en, "unit": unit, **quantiles(vals),
                    "drivers": drivers(df, col, sweep.plan.drawn_keys)}  # fmt: skip
    return out


# --- files ---------------------------------------------------------------------------------


def _cell(v: Any) -> Any:
    """A table value as a CSV cell: NaN and NA blank."""
    if v is None or (isinstance(v, float) and v != v) or type(v).__name__ == "NAType":
        return ""
    return v


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _replace_csv(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_csv(tmp, list(df.columns),
              ({c: _cell(v) for c, v in rec.items()} for rec in df.to_dict("records")))  # fmt: skip
    os.replace(tmp, path)


def _replace_parquet(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, engine="pyarrow", index=False)
    os.replace(tmp, path)


def write_points(sweep_plan: Any, out_dir: Path) -> Path:
    """Each point as ``points/<name>.toml`` (a scenario extending the base)."""
    folder = Path(out_dir) / "points"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in sweep_plan.specs:
        note = f", Monte-Carlo draw {spec.draw}" if spec.draw is not None else ""
        _replace_text(folder / f"{spec.name}.toml",
                      point_toml(sweep_plan.base, spec, folder, note=note))  # fmt: skip
    return folder


def write_sweep(sweep: Sweep, out_dir: Path) -> dict[str, Any]:
    """Write ``sweep.csv``, ``sweep.parquet``, ``mac.csv``, ``mac.parquet``,
    ``sweep.json`` and ``points/`` into ``out_dir`` (each file replaced whole); returns
    what ``sweep.json`` holds."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_points(sweep.plan, out_dir)
    df = table(sweep)
    mac = mac_table(sweep)
    _replace_csv(out_dir / "sweep.csv", df)
    _replace_parquet(out_dir / "sweep.parquet", df)
    _replace_csv(out_dir / "mac.csv", mac)
    _replace_parquet(out_dir / "mac.parquet", mac)
    from freight.scenario import load_scenario

    plan = sweep.plan
    base = load_scenario(plan.base)
    meta = {
        "schema_version": 1,
        "base": str(plan.base),
        "title": base.title,
        "base_values": {k: base.parameters[k].value if k in base.parameters else None
                        for k in plan.keys},
        "grid_keys": list(plan.grid_keys),
        "drawn_keys": list(plan.drawn_keys),
        "seed": plan.seed,
        "points": [
            {"point": r.index, "name": r.name, "overrides": r.overrides, "draw": r.draw,
             "key": r.key, "status": r.status, "error": r.error}
            for r in sweep.results
        ],
        "counts": {s: sum(r.status == s for r in sweep.results)
                   for s in ("optimal", "infeasible", "input_error", "error")},
        "headlines": headline_stats(sweep, df),
    }  # fmt: skip
    _replace_text(out_dir / "sweep.json", json.dumps(meta, ensure_ascii=False, indent=1))
    return meta
