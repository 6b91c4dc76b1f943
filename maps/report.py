"""The printable before/after report of one run (``report.html``, A4, no JS, no internet).

Every table is built from the result folder only: ``summary.json`` for the totals, the rule
and its parameters, ``flows.csv`` for shippers and tonnes left on the road,
``bottlenecks.csv`` for the ranked binding capacities. All text is HTML-escaped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from maps import _style as st
from maps.assets import external_resources
from maps.results import Results, by_key, read_results, road_left

_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font: 10.5pt/1.45 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC",
  "WenQuanYi Zen Hei", sans-serif; color: #222; max-width: 190mm; margin: 0 auto; padding: 8px; }
h1 { font-size: 17pt; margin: 0 0 2px; } h2 { font-size: 13pt; margin: 18px 0 6px;
  border-bottom: 2px solid #2166ac; padding-bottom: 2px; }
.sub { color: #555; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 9.5pt; }
th, td { border: 1px solid #bbb; padding: 2px 5px; vertical-align: top; }
th { background: #eef2f7; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f6f6f6; }
.kpi { display: flex; gap: 8px; flex-wrap: wrap; margin: 6px 0; }
.kpi div { border: 1px solid #ccc; border-radius: 4px; padding: 4px 8px; min-width: 38mm; }
.kpi b { display: block; font-size: 13pt; }
.note { color: #666; font-size: 8.5pt; }
@media print {
  body { max-width: none; padding: 0; }
  h2 { break-after: avoid; } tr, .kpi, svg { break-inside: avoid; }
  thead { display: table-header-group; }
}
"""


def _row(cells: list[str], *, cls: str = "", rid: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{st.esc(rid)}"' if rid else "")
    return f"<tr{attrs}>" + "".join(cells) + "</tr>"


def _th(*labels: str) -> str:
    return "<thead><tr>" + "".join(f"<th>{st.esc(x)}</th>" for x in labels) + "</tr></thead>"


def _td(text: object) -> str:
    return f"<td>{st.esc(text)}</td>"


def _tn(x: float | None, digits: int = 0) -> str:
    return f'<td class="n">{st.fmt_num(x, digits=digits)}</td>'


def _change(before: float | None, after: float | None) -> list[str]:
    if before is None or after is None:
        return [_tn(None), _tn(None)]
    pct = f"{(after - before) / before:+.1%}" if before else "—"
    return [_tn(after - before), f'<td class="n">{pct}</td>']


def truck_payload_t(summary: dict[str, Any]) -> float | None:
    """The truck payload used by the run (``parameters``), or derived from the trips avoided."""

    def find(d: Any) -> float | None:
        if isinstance(d, dict):
            for k, v in d.items():
                if k == "truck_payload_t":
                    val = v.get("value") if isinstance(v, dict) else v
                    if isinstance(val, int | float):
                        return float(val)
                got = find(v)
                if got is not None:
                    return got
        return None

    found = find(summary.get("parameters") or {})
    if found:
        return found
    trips = summary.get("truck_trips_avoided")
    red = summary.get("road_tonnage_reduction_t")
    if trips and red:
        return float(red) / float(trips)
    return None


def flatten_parameters(params: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """``parameters`` as rows ``(name, value, source)``; ``{"value", "source"}`` are leaves."""
    rows: list[tuple[str, str, str]] = []
    if (
        isinstance(params, dict)
        and "value" in params
        and not any(isinstance(v, dict) for v in params.values())
    ):
        value = params["value"]
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        unit = params.get("unit")
        # a unit like "hard | soft | off" lists the choices: the value says it all
        plain = not unit or "|" in str(unit) or unit in ("commodity ids",)
        val = str(value) if plain else f"{value} {unit}"
        rows.append((prefix, val, str(params.get("source", ""))))
    elif isinstance(params, dict):
        for k, v in params.items():
            rows.extend(flatten_parameters(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(params, list | tuple):
        rows.append((prefix, ", ".join(map(str, params)), ""))
    else:
        rows.append((prefix, str(params), ""))
    return rows


def modal_split_svg(tonnes: dict[str, dict[str, float]], *, width: int = 640) -> str:
    """Two stacked horizontal bars (before, after) of tonnes by mode, as inline SVG.

    Parameters
    ----------
    tonnes : dict
        ``summary["tonnes"]``: ``{"before": {mode: t}, "after": {mode: t}}``.
    width : int
        Total width in px (bars use ``width - 190``).

    Returns
    -------
    str
        An ``<svg>`` element; each segment is a ``<rect data-mode data-period data-t>``.
    """
    bar_w, x0, h = width - 190, 120, 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="150" '
        f'viewBox="0 0 {width} 150" role="img" aria-label="modal split before and after" '
        'font-family="sans-serif" font-size="12">'
    ]
    for i, (period, label) in enumerate((("before", "现状 Before"), ("after", "优化后 After"))):
        y = 12 + i * 48
        by_mode = tonnes.get(period, {})
        total = sum(by_mode.get(m, 0.0) for m in st.MODE_ORDER)
        parts.append(f'<text x="0" y="{y + 20}">{st.esc(label)}</text>')
        x = float(x0)
        for mode in st.MODE_ORDER:
            t = by_mode.get(mode, 0.0)
            w = bar_w * t / total if total > 0 else 0.0
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{h}" '
                f'fill="{st.MODE_COLOURS[mode]}" data-mode="{mode}" data-period="{period}" '
                f'data-t="{t:.0f}"><title>{st.esc(st.mode_label(mode))}: {st.fmt_num(t)} t'
                "</title></rect>"
            )
            if w > 44:
                parts.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + 20}" fill="#fff" text-anchor="middle">'
                    f"{t / total:.0%}</text>"
                )
            x += w
        parts.append(
            f'<text x="{x0 + bar_w + 6}" y="{y + 20}">{st.fmt_num(total / 1e4, digits=1)} 万t</text>'
        )
    for j, mode in enumerate(st.MODE_ORDER):
        lx = x0 + j * 150
        parts.append(
            f'<rect x="{lx}" y="118" width="14" height="14" fill="{st.MODE_COLOURS[mode]}"/>'
            f'<text x="{lx + 19}" y="130">{st.esc(st.mode_label(mode))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _overall(s: dict[str, Any]) -> str:
    t, tkm = s.get("tonnes", {}), s.get("tkm", {})
    payload = truck_payload_t(s)
    rows = []
    for key, label, src in (("tonnes", "货运量 Tonnes (t)", t), ("tkm", "周转量 t·km", tkm)):
        for mode in st.MODE_ORDER:
            b, a = src.get("before", {}).get(mode, 0.0), src.get("after", {}).get(mode, 0.0)
            rows.append(_row([_td(f"{label} · {st.mode_label(mode)}"), _tn(b), _tn(a),
                              *_change(b, a)], rid=f"overall-{key}-{mode}"))  # fmt: skip
        b = sum(src.get("before", {}).values())
        a = sum(src.get("after", {}).values())
        rows.append(_row([_td(f"{label} · 合计 Total"), _tn(b), _tn(a), *_change(b, a)],
                         cls="total", rid=f"overall-{key}-total"))  # fmt: skip
    if payload:
        b = t.get("before", {}).get("road", 0.0) / payload
        a = t.get("after", {}).get("road", 0.0) / payload
        rows.append(_row([_td(f"货车趟次 Truck trips ({st.fmt_num(payload, digits=1)} t/车)"),
                          _tn(b), _tn(a), *_change(b, a)], rid="overall-trucks"))  # fmt: skip
    for key, label in (("co2_t", "二氧化碳 CO₂ (t)"), ("cost_cny", "运输成本 Cost (元 CNY)")):
        d = s.get(key) or {}
        rows.append(
            _row(
                [
                    _td(label),
                    _tn(d.get("before")),
                    _tn(d.get("after")),
                    *_change(d.get("before"), d.get("after")),
                ],
                rid=f"overall-{key}",
            )
        )
    head = _th("指标 Indicator", "现状 Before", "优化后 After", "变化 Change", "%")
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _by_commodity(s: dict[str, Any]) -> str:
    head = _th("货类 Commodity", *[f"{st.mode_label(m)} 现状 before" for m in st.MODE_ORDER],
               *[f"{st.mode_label(m)} 优化后 after" for m in st.MODE_ORDER])  # fmt: skip
    rows = []
    tot = {p: dict.fromkeys(st.MODE_ORDER, 0.0) for p in ("before", "after")}
    for c, d in sorted((s.get("by_commodity") or {}).items()):
        cells = [_td(st.commodity_label(c))]
        for p in ("before", "after"):
            for m in st.MODE_ORDER:
                v = (d.get(p) or {}).get(m, 0.0)
                tot[p][m] += v
                cells.append(_tn(v))
        rows.append(_row(cells, rid=f"commodity-{c}"))
    cells = [_td("合计 Total")] + [
        _tn(tot[p][m]) for p in ("before", "after") for m in st.MODE_ORDER
    ]
    rows.append(_row(cells, cls="total", rid="commodity-total"))
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _by_shipper(flows: list[dict[str, Any]]) -> str:
    head = _th("货主 Shipper", "货运量 Tonnes", "公路 现状 Road before", "公路 优化后 Road after",
               "铁路 Rail after", "管道 Pipeline after", "公路减量 Road reduction",
               "成本 Cost (元)", "CO₂ (t)")  # fmt: skip
    agg = by_key(flows, "shipper")
    rows, tot = [], [0.0] * 8
    for name, a in sorted(agg.items(), key=lambda kv: -kv[1]["tonnes"]):
        vals = [a["tonnes"], a["before"]["road"], a["road_t"], a["after"]["rail"],
                a["after"]["pipeline"], a["before"]["road"] - a["road_t"], a["cost_cny"],
                a["co2_t"]]  # fmt: skip
        tot = [x + y for x, y in zip(tot, vals, strict=True)]
        rows.append(_row([_td(name or "—"), *[_tn(v) for v in vals]]))
    rows.append(_row([_td("合计 Total"), *[_tn(v) for v in tot]], cls="total", rid="shipper-total"))
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _road_left(flows: list[dict[str, Any]]) -> str:
    rows = road_left(flows)
    if not rows:
        return "<p>没有货流留在公路 No tonnage is left on the road.</p>"
    head = _th("货流 Flow", "货类 Commodity", "货主 Shipper", "起讫 Origin → Destination",
               "公路 Road (t)", "运距 Haul (km)", "原因 Reason")  # fmt: skip
    body = "".join(
        _row([_td(r["flow_id"]), _td(st.commodity_label(r["commodity"])), _td(r["shipper"]),
              _td(f"{r['origin_name'] or r['origin']} → {r['destination_name'] or r['destination']}"),
              _tn(r["road_t"]), _tn(r["haul_km"], 1),
              f"<td><b>{st.esc(st.REASON_LABELS.get(r['reason_code'], r['reason_code']))}</b>"
              f"<br>{st.esc(r['reason'])}</td>"])
        for r in rows
    )  # fmt: skip
    total = sum(r["road_t"] or 0.0 for r in rows)
    body += _row([_td("合计 Total"), _td(""), _td(""), _td(""), _tn(total), _td(""), _td("")],
                 cls="total", rid="road-left-total")  # fmt: skip
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _bottlenecks(bns: list[dict[str, Any]]) -> str:
    if not bns:
        return "<p>没有起约束作用的能力 No capacity is binding.</p>"
    head = _th("排名 Rank", "能力 Capacity", "类型 Kind", "方式 Mode", "能力 Capacity (t/年)",
               "已用 Used (t)", "影子价格 Shadow price (元/t)",
               "每日加开一列 One more daily train (元/年 CNY/yr)")  # fmt: skip
    body = "".join(
        _row([_tn(b.get("rank")), _td(b.get("label") or b.get("constraint")), _td(b.get("kind")),
              _td(st.mode_label(b.get("mode") or "")), _tn(b.get("capacity_t")),
              _tn(b.get("used_t")), _tn(b.get("shadow_cny_per_t"), 2),
              _tn(b.get("shadow_cny_per_daily_train_year"))])
        for b in sorted(bns, key=lambda r: r.get("rank") or math.inf)
    )  # fmt: skip
    return (
        f"<table>{head}<tbody>{body}</tbody></table><p class='note'>影子价格：该能力每增加 1 t，"
        "系统成本的下降 (元/t)。Shadow price: how much the total cost falls per extra tonne of "
        "that capacity.</p>"
    )


def build_report(results: Results) -> str:
    """The report page of a run, as an HTML string.

    Parameters
    ----------
    results : Results
        The parsed result folder.

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    s = results.summary
    pol = s.get("policy") or {}
    title = s.get("title") or s.get("scenario") or ""
    co2 = s.get("co2_t") or {}
    abated = (co2.get("before") or 0.0) - (co2.get("after") or 0.0)
    kpis = (
        f'<div class="kpi"><div>公路减量 Road tonnage reduction<b id="kpi-road-reduction">'
        f"{st.fmt_t(s.get('road_tonnage_reduction_t'))}</b></div>"
        f"<div>减少货车趟次 Truck trips avoided<b>{st.fmt_num(s.get('truck_trips_avoided'))}</b></div>"
        f"<div>CO₂ 减排 abated<b>{st.fmt_num(abated)} t</b></div>"
        f"<div>政策成本 Policy cost<b>{st.fmt_num(s.get('policy_cost_cny'))} 元</b></div></div>"
    )
    rule = "".join(
        _row([_td(label), _td(val)])
        for label, val in (
            ("执行方式 Enforcement", pol.get("enforcement")),
            ("货类 Commodities", "、".join(st.commodity_label(c) for c in pol.get("commodities", []))),
            ("距离门槛 Threshold", f"{st.fmt_num(pol.get('threshold_km'))} km"),
            ("距离口径 Distance", pol.get("distance")),
            ("最大集疏运距离 Max access", f"{st.fmt_num(pol.get('max_access_km'))} km"),
            ("适用货流 Eligible flows", st.fmt_num(pol.get("eligible_flows"))),
            ("适用货量 Eligible tonnes", st.fmt_t(pol.get("eligible_t"))),
            ("已转移 Shifted", st.fmt_t(pol.get("shifted_t"))),
            ("未达标 Shortfall", st.fmt_t(pol.get("shortfall_t"))),
        )
    )  # fmt: skip
    # per-commodity cost rows only for the commodities this run carries
    carried = set(s.get("by_commodity") or {})
    known = carried | {c for p in (s.get("parameters") or {}) for c in p.split(".")[2:3]}

    def _shown(name: str) -> bool:
        parts = name.split(".")
        return not (len(parts) == 4 and parts[0] == "costs" and parts[2] in known
                    and parts[2] not in carried)

    params = "".join(
        _row([_td(k), _td(v), _td(src)])
        for k, v, src in flatten_parameters(s.get("parameters"))
        if _shown(k)
    )
    reasons = "".join(
        _row([_td(st.REASON_LABELS.get(c, c)), _tn(t)])
        for c, t in sorted((s.get("reasons") or {}).items(), key=lambda kv: -kv[1])
    )
    abatement = s.get("co2_abatement_cny_per_t")
    solver = s.get("solver") or {}
    body = f"""
<h1>{st.esc(title)}</h1>
<p class="sub">公转铁优化报告 Road-to-rail optimisation report · 情景 scenario
<b>{st.esc(s.get("scenario"))}</b> · 求解状态 status <b>{st.esc(s.get("status"))}</b></p>
{kpis}
<h2>1 规则与参数 Rule and parameters</h2>
<table>{_th("项目 Item", "取值 Value")}<tbody>{rule}</tbody></table>
<table>{_th("参数 Parameter", "取值 Value", "来源 Source")}<tbody>{params}</tbody></table>
<h2>2 总体对比 Before and after</h2>
{_overall(s)}
<h2>3 运输方式分担 Modal split</h2>
{modal_split_svg(s.get("tonnes") or {})}
<h2>4 按货类 By commodity (t)</h2>
{_by_commodity(s)}
<h2>5 按货主 By shipper (t)</h2>
{_by_shipper(results.flows)}
<h2>6 留在公路的货流 Flows left on the road</h2>
{_road_left(results.flows)}
<table>{_th("原因 Reason", "公路 Road (t)")}<tbody>{reasons}</tbody></table>
<h2>7 瓶颈 Bottlenecks</h2>
{_bottlenecks(results.bottlenecks)}
<h2>8 政策成本 Policy cost</h2>
<table><tbody>
{_row([_td("政策成本 Policy cost (元 CNY)"), _tn(s.get("policy_cost_cny"))], rid="policy-cost")}
{_row([_td("CO₂ 减排量 CO₂ abated (t)"), _tn(abated)])}
{_row([_td("减排成本 CO₂ abatement cost (元/t CO₂)"), _tn(abatement, 1)], rid="abatement")}
</tbody></table>
<p class="note">政策成本 = 有政策与无政策两次求解的总成本之差；减排成本 = 政策成本 ÷ CO₂ 减排量
(无减排时为空)。Policy cost = total cost with the rule minus without it; abatement cost =
policy cost ÷ CO₂ abated (blank when nothing is abated). 求解器 Solver:
{st.esc(solver.get("name"))}, {st.fmt_num(solver.get("columns"))} columns,
{st.fmt_num(solver.get("iterations"))} iterations, {st.fmt_num(solver.get("seconds"), digits=2)} s.</p>
<p class="note" id="attribution">{st.esc(st.DATA_ATTRIBUTION)}</p>
"""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{st.esc(title)} — 报告 Report</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def render_report(result_dir: str | Path, *, out: str | Path | None = None) -> Path:
    """Write ``report.html`` for a result folder.

    Parameters
    ----------
    result_dir : str or Path
        The run's result folder.
    out : str or Path, optional
        Output file (default ``result_dir/report.html``).

    Returns
    -------
    Path
        The written file.
    """
    html = build_report(read_results(result_dir))
    remote = external_resources(html)
    if remote:
        raise RuntimeError(f"report would load remote resources: {remote[:3]}")
    path = Path(out) if out is not None else Path(result_dir) / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
