"""The printable report of one run (``report.html``, A4, no JS, no internet).

It leads with the three states -- today, least cost without the rule, least cost with it
-- and the differences that name what they subtract, under the run's warnings. Every table
is built from the result folder only (:mod:`maps._tables`): ``summary.json`` for the
states, comparisons, rule, 短驳, capacities, capital and parameters; ``flows.csv`` for the
flows the rule moves, shippers and tonnes left on the road; ``bottlenecks.csv`` and
``terminals.csv`` for capacities. All text is HTML-escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maps import _style as st
from maps import _tables as tb
from maps._tables import truck_payload_t
from maps.assets import external_resources
from maps.results import STATES, Results, read_results

__all__ = ["build_report", "flatten_parameters", "modal_split_svg", "render_report",
           "truck_payload_t"]  # fmt: skip

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
.kpi div { border: 1px solid #ccc; border-radius: 4px; padding: 4px 8px; flex: 1 1 40mm; }
.kpi b { display: block; font-size: 13pt; }
.kpi small, th small { color: #555; font-weight: normal; }
.note { color: #666; font-size: 8.5pt; }
ul.note { margin: 2px 0 8px; padding-left: 16px; }
.warn { border: 2px solid #b2182b; background: #fdecea; color: #67000d; border-radius: 4px;
  padding: 2px 10px; margin: 6px 0 8px; }
.warn p { margin: 4px 0; }
.unknown { background: #f3f3f3; border-left: 4px solid #969696; padding: 3px 8px; }
#states td:nth-child(n+5), #states th:nth-child(n+5) { background: #f4f8fc; }
@media print {
  body { max-width: none; padding: 0; }
  h2 { break-after: avoid; } tr, .kpi, svg { break-inside: avoid; }
  thead { display: table-header-group; }
}
"""


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


def modal_split_svg(tonnes: dict[str, dict[str, float] | None], *, width: int = 640) -> str:
    """One stacked horizontal bar per state (today, without the rule, with the rule) of
    tonnes by line-haul mode, as inline SVG.

    Parameters
    ----------
    tonnes : dict
        ``{state: {mode: t}}`` (a missing or None state is left out).
    width : int
        Total width in px (bars use ``width - 230``).

    Returns
    -------
    str
        An ``<svg>`` element; each segment is a ``<rect data-mode data-state data-t>``.
    """
    shown = [s for s in STATES if tonnes.get(s)]
    bar_w, x0, h = width - 230, 160, 30
    height = 48 * len(shown) + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="modal split in the three '
        'states" font-family="sans-serif" font-size="12">'
    ]
    for i, state in enumerate(shown):
        y = 12 + i * 48
        by_mode = tonnes.get(state) or {}
        total = sum(by_mode.get(m, 0.0) for m in st.MODE_ORDER)
        zh, en = st.STATE_LABELS[state]
        parts.append(f'<text x="0" y="{y + 13}">{st.esc(zh)}</text>'
                     f'<text x="0" y="{y + 27}" font-size="10">{st.esc(en)}</text>')  # fmt: skip
        x = float(x0)
        for mode in st.MODE_ORDER:
            t = by_mode.get(mode, 0.0)
            w = bar_w * t / total if total > 0 else 0.0
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{h}" '
                f'fill="{st.MODE_COLOURS[mode]}" data-mode="{mode}" data-state="{state}" '
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
    ly = 48 * len(shown) + 20
    for j, mode in enumerate(st.MODE_ORDER):
        lx = x0 + j * 150
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="14" height="14" fill="{st.MODE_COLOURS[mode]}"/>'
            f'<text x="{lx + 19}" y="{ly + 12}">{st.esc(st.mode_label(mode))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _rule_table(s: dict[str, Any]) -> str:
    pol = s.get("policy") or {}
    elig_road = pol.get("eligible_road_t") or {}
    items = [
        ("执行方式 Enforcement", pol.get("enforcement")),
        ("货类 Commodities", "、".join(st.commodity_label(c) for c in pol.get("commodities", []))),
        ("距离门槛 Threshold", f"{st.fmt_num(pol.get('threshold_km'))} km"),
        ("距离口径 Distance", pol.get("distance")),
        ("最大集疏运距离 Max access", f"{st.fmt_num(pol.get('max_access_km'))} km"),
        ("适用货流 Eligible flows", st.fmt_num(pol.get("eligible_flows"))),
        ("适用货量 Eligible tonnes", st.fmt_t(pol.get("eligible_t"))),
        *((f"适用货量中走公路 Eligible tonnes on the road · {st.state_label(x)}",
           st.fmt_t(elig_road.get(x))) for x in STATES if x in elig_road),
        ("未达标 Shortfall (有规则 with the rule)", st.fmt_t(pol.get("shortfall_t"))),
    ]  # fmt: skip
    body = "".join(tb.row([tb.td(label), tb.td(val)]) for label, val in items)
    return f"<table>{tb.th('项目 Item', '取值 Value')}<tbody>{body}</tbody></table>"


def _parameters_table(s: dict[str, Any]) -> str:
    # per-commodity cost rows only for the commodities this run carries
    carried: set[str] = set()
    for x in STATES:
        carried |= set((tb.state(s, x) or {}).get("by_commodity") or {})
    known = carried | {c for p in (s.get("parameters") or {}) for c in p.split(".")[2:3]}

    def shown(name: str) -> bool:
        parts = name.split(".")
        return not (len(parts) == 4 and parts[0] == "costs" and parts[2] in known
                    and parts[2] not in carried)  # fmt: skip

    body = "".join(
        tb.row([tb.td(k), tb.td(v), tb.td(src)])
        for k, v, src in flatten_parameters(s.get("parameters"))
        if shown(k)
    )
    return f"<table>{tb.th('参数 Parameter', '取值 Value', '来源 Source')}<tbody>{body}</tbody></table>"


def build_report(results: Results) -> str:
    """The report page of a run, as an HTML string.

    It leads with the run's warnings and the three states (today, least cost without the
    rule, least cost with it), the rule's effect and the shift the cost model calls
    voluntary, then the four headline figures, each saying what it subtracts or divides.

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
    title = s.get("title") or s.get("scenario") or ""
    reasons = "".join(
        tb.row([tb.td(st.REASON_LABELS.get(c, c)), tb.tn(t)])
        for c, t in sorted((s.get("reasons") or {}).items(), key=lambda kv: -kv[1])
    )
    solver = s.get("solver") or {}
    tonnes = {x: (tb.state(s, x) or {}).get("tonnes") for x in STATES}
    body = f"""
<h1>{st.esc(title)}</h1>
<p class="sub">公转铁优化报告 Road-to-rail optimisation report · 情景 scenario
<b>{st.esc(s.get("scenario"))}</b> · 求解状态 status <b>{st.esc(s.get("status"))}</b></p>
{tb.warnings_html(s)}
<h2 id="sec-states">三种状态 Three states: today, least cost without the rule, least cost with it</h2>
{tb.states_table(s)}
{tb.headline_html(s)}
{tb.definitions_html(s)}
<h2 id="sec-1">1 规则转出公路的货流 Flows the rule moves off the road</h2>
{tb.moved_table(results.flows)}
<h2 id="sec-2">2 规则 The rule</h2>
{_rule_table(s)}
<h2 id="sec-3">3 运输方式分担 Modal split (line haul)</h2>
{modal_split_svg(tonnes)}
<h2 id="sec-4">4 按货类 By commodity (t, line haul)</h2>
{tb.by_commodity(s)}
<h2 id="sec-5">5 短驳 Access legs, station ↔ plant, by station and county</h2>
{tb.access_tables(s)}
<h2 id="sec-6">6 按货主 By shipper (t)</h2>
{tb.by_shipper(results.flows)}
<h2 id="sec-7">7 有规则时留在公路的货流 Flows left on the road with the rule</h2>
{tb.road_left_table(results.flows)}
<table>{tb.th("原因 Reason", "公路 Road (t)")}<tbody>{reasons}</tbody></table>
<h2 id="sec-8">8 瓶颈与能力 Bottlenecks and capacities</h2>
{tb.capacity_note(s)}
{tb.bottlenecks_table(results.bottlenecks)}
{tb.terminals_table(results.terminals)}
<h2 id="sec-9">9 政策成本与投资 Policy cost and capital</h2>
{tb.policy_cost_table(s)}
{tb.capital_table(s)}
<h2 id="sec-10">10 参数 Parameters</h2>
{_parameters_table(s)}
<p class="note">求解器 Solver: {st.esc(solver.get("name"))}, {st.fmt_num(solver.get("columns"))} columns,
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
