"""The printable report of one run (``report.html``, A4, no JS, no internet).

Its first page is the results at a glance (:mod:`maps.glance`): the run's warning, the
rule's four figures, the three states -- today, least cost without the rule, least cost
with it -- side by side with what they mean, the flows on maps drawn as inline SVG from
``links.geojson`` (:mod:`maps.minimap`), the modal split and tonnes by commodity. The
details follow, then the parameters in a Chinese appendix with their sources
(:mod:`maps.appendix`). Every table is built from the result folder only
(:mod:`maps._tables`) -- and the scenario's county outlines, when given, for the maps. All
text is HTML-escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maps import _style as st
from maps import _tables as tb
from maps import glance, minimap
from maps._tables import truck_payload_t
from maps.appendix import appendix_html
from maps.assets import external_resources
from maps.results import STATES, Results, read_results

__all__ = ["build_report", "flatten_parameters", "modal_split_svg", "render_report",
           "truck_payload_t"]  # fmt: skip

_CSS = """
@page { size: A4; margin: 12mm 12mm; }
body { font: 10pt/1.4 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC",
  "WenQuanYi Zen Hei", sans-serif; color: #222; max-width: 186mm; margin: 0 auto; padding: 8px; }
h1 { font-size: 16pt; margin: 0 0 1px; line-height: 1.25; }
h2 { font-size: 12.5pt; margin: 16px 0 5px; border-bottom: 2px solid #2166ac; padding-bottom: 2px; }
h3 { font-size: 10pt; margin: 4px 0 2px; }
.sub { color: #555; margin: 0 0 6px; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 2px 5px; vertical-align: top; }
th { background: #eef2f7; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f6f6f6; }
.kpi { display: flex; gap: 6px; flex-wrap: wrap; margin: 4px 0 6px; }
.kpi div { border: 1px solid #ccc; border-radius: 4px; padding: 3px 7px; flex: 1 1 38mm;
  font-size: 9pt; line-height: 1.3; }
.kpi b { display: block; font-size: 12.5pt; color: #08306b; line-height: 1.25; }
#glance .kpi small { font-size: 7.5pt; line-height: 1.25; display: block; }
.kpi small, th small { color: #555; font-weight: normal; }
.note { color: #666; font-size: 8pt; line-height: 1.35; }
ul.note { margin: 2px 0 8px; padding-left: 16px; }
.warn { border: 2px solid #b2182b; background: #fdecea; color: #67000d; border-radius: 4px;
  padding: 1px 8px; margin: 4px 0 6px; font-size: 9pt; line-height: 1.35; }
.warn p { margin: 3px 0; }
.unknown { background: #f3f3f3; border-left: 4px solid #969696; padding: 3px 8px; }
#states td:nth-child(n+5), #states th:nth-child(n+5) { background: #f4f8fc; }
table.glance { font-size: 8.5pt; margin: 2px 0 3px; }
table.glance th, table.glance td { padding: 1px 4px; }
#glance-states td:last-child, #glance-states th:last-child { background: #f4f8fc; }
p.defs { margin: 2px 0 5px; font-size: 7.5pt; }
.maps { display: flex; gap: 6px; justify-content: space-between; margin: 4px 0 0; }
.maps svg { flex: 1 1 0; max-width: 100%; height: auto; }
.maplegend { margin: 1px 0 4px; }
.maplegend span { margin-right: 8px; white-space: nowrap; }
.maplegend i { display: inline-block; width: 18px; vertical-align: middle; margin-right: 3px; }
.row2 { display: flex; gap: 10px; align-items: flex-start; }
.row2 > div:first-child { flex: 0 0 88mm; } .row2 > div:last-child { flex: 1 1 0; }
.row2 svg { max-width: 100%; height: auto; }
table.params td { font-size: 8.5pt; } table.params td.v { white-space: nowrap; }
table.params th:nth-child(1) { width: 30%; } table.params th:nth-child(2) { width: 17%; }
table.params small.key { color: #777; font-family: monospace; font-size: 7.5pt; }
table.params small.src { color: #666; font-size: 7.5pt; }
table.params tr.group th { background: #dde7f2; }
@media print {
  body { max-width: none; padding: 0; }
  #glance { break-after: page; }
  h2, h3 { break-after: avoid; } tr, .kpi, svg, .row2 { break-inside: avoid; }
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


def modal_split_svg(
    tonnes: dict[str, dict[str, float] | None], *, width: int = 640, bar_h: int = 30,
    label_w: int = 160, english: bool = True,
) -> str:  # fmt: skip
    """One stacked horizontal bar per state (today, without the rule, with the rule) of
    tonnes by line-haul mode, as inline SVG.

    Parameters
    ----------
    tonnes : dict
        ``{state: {mode: t}}`` (a missing or None state is left out).
    width : int
        Total width in px (bars use ``width - label_w - 70``).
    bar_h : int
        Height of a bar (px); bars are ``bar_h + 18`` apart.
    label_w : int
        Room for the states' names on the left.
    english : bool
        Write the states' English names under the Chinese ones.

    Returns
    -------
    str
        An ``<svg>`` element; each segment is a ``<rect data-mode data-state data-t>``.
    """
    shown = [s for s in STATES if tonnes.get(s)]
    bar_w, x0, h = width - label_w - 70, label_w, bar_h
    pitch = bar_h + 18
    height = pitch * len(shown) + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="modal split in the three '
        'states" font-family="sans-serif" font-size="12">'
    ]
    for i, state in enumerate(shown):
        y = 12 + i * pitch
        by_mode = tonnes.get(state) or {}
        total = sum(by_mode.get(m, 0.0) for m in st.MODE_ORDER)
        zh, en = st.STATE_LABELS[state]
        if english:
            parts.append(f'<text x="0" y="{y + 13}">{st.esc(zh)}</text>'
                         f'<text x="0" y="{y + 27}" font-size="10">{st.esc(en)}</text>')  # fmt: skip
        else:
            parts.append(f'<text x="0" y="{y + h / 2 + 4:g}">{st.esc(zh)}</text>')
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
            if w > 34:
                parts.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + h / 2 + 4:g}" fill="#fff" '
                    f'text-anchor="middle">{t / total:.0%}</text>'
                )
            x += w
        parts.append(
            f'<text x="{x0 + bar_w + 6}" y="{y + h / 2 + 4:g}">'
            f"{st.fmt_num(total / 1e4, digits=0 if total >= 1e6 else 1)} 万t</text>"
        )
    ly = pitch * len(shown) + 20
    step = min(150, (width - 10) // 3)
    for j, mode in enumerate(st.MODE_ORDER):
        lx = (x0 if step == 150 else 0) + j * step
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


def build_report(results: Results, *, counties: str | Path | dict[str, Any] | None = None) -> str:
    """The report page of a run, as an HTML string.

    The first page holds the results at a glance (:mod:`maps.glance`): the warning, the
    rule's four figures (each saying what it subtracts or divides), the three states side by
    side with what they mean, the flows on maps (:mod:`maps.minimap`), the modal split and
    tonnes by commodity. Then the details: the three states in full, the flows the rule
    moves, the rule, 短驳, shippers, what stays on the road and why, bottlenecks and
    capacities, policy cost and capital; and an appendix of every parameter in Chinese with
    its source (:mod:`maps.appendix`).

    Parameters
    ----------
    results : Results
        The parsed result folder.
    counties : str, Path or dict, optional
        The scenario's county polygons (GeoJSON), drawn under the flows on the maps.

    Returns
    -------
    str
        A complete, self-contained HTML document (no script).
    """
    s = results.summary
    title = s.get("title") or s.get("scenario") or ""
    reasons = "".join(
        tb.row([tb.td(st.REASON_LABELS.get(c, c)), tb.tn(t)])
        for c, t in sorted((s.get("reasons") or {}).items(), key=lambda kv: -kv[1])
    )
    solver = s.get("solver") or {}
    tonnes = {x: (tb.state(s, x) or {}).get("tonnes") for x in STATES}
    split = modal_split_svg(tonnes, width=330, bar_h=17, label_w=92, english=False)
    body = f"""
<header><h1>{st.esc(title)}</h1>
<p class="sub">公转铁优化报告 Road-to-rail optimisation report · 情景 scenario
<b>{st.esc(s.get("scenario"))}</b> · 求解状态 status <b>{st.esc(s.get("status"))}</b></p></header>
<section id="glance">
{tb.warnings_html(s)}
<h2 id="sec-glance">结果一览 Results at a glance</h2>
{tb.headline_html(s)}
{glance.states_table(s)}
{glance.definitions(s)}
{minimap.flow_maps(results.links, results.terminals, summary=s, counties=counties)}
<div class="row2">
<div><h3>运输方式分担 Modal split (line haul)</h3>{split}</div>
<div><h3>按货类 By commodity</h3>{glance.commodity_table(s)}</div>
</div>
</section>
<h2 id="sec-states">1 三种状态详表 The three states in full</h2>
{tb.states_table(s)}
{tb.definitions_html(s)}
<h2 id="sec-1">2 规则转出公路的货流 Flows the rule moves off the road</h2>
{tb.moved_table(results.flows)}
<h2 id="sec-2">3 规则 The rule</h2>
{_rule_table(s)}
<h2 id="sec-3">4 运输方式分担 Modal split (line haul)</h2>
{modal_split_svg(tonnes)}
<h2 id="sec-4">5 按货类与方式 By commodity and mode (t, line haul)</h2>
{tb.by_commodity(s)}
<h2 id="sec-5">6 短驳 Access legs, station ↔ plant, by station and county</h2>
{tb.access_tables(s)}
<h2 id="sec-6">7 按货主 By shipper (t)</h2>
{tb.by_shipper(results.flows)}
<h2 id="sec-7">8 有规则时留在公路的货流 Flows left on the road with the rule</h2>
{tb.road_left_table(results.flows)}
<table>{tb.th("原因 Reason", "公路 Road (t)")}<tbody>{reasons}</tbody></table>
<h2 id="sec-8">9 瓶颈与能力 Bottlenecks and capacities</h2>
{tb.capacity_note(s)}
{tb.bottlenecks_table(results.bottlenecks)}
{tb.terminals_table(results.terminals)}
<h2 id="sec-9">10 政策成本与投资 Policy cost and capital</h2>
{tb.policy_cost_table(s)}
{tb.capital_table(s)}
<h2 id="sec-appendix">附录 参数及其来源 Appendix: parameters and their sources</h2>
{appendix_html(s)}
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


def render_report(
    result_dir: str | Path, *, out: str | Path | None = None,
    counties: str | Path | None = None,
) -> Path:  # fmt: skip
    """Write ``report.html`` for a result folder.

    Parameters
    ----------
    result_dir : str or Path
        The run's result folder.
    out : str or Path, optional
        Output file (default ``result_dir/report.html``).
    counties : str or Path, optional
        GeoJSON of the scenario's counties, drawn under the flows on the report's maps.

    Returns
    -------
    Path
        The written file.
    """
    html = build_report(read_results(result_dir), counties=counties)
    remote = external_resources(html)
    if remote:
        raise RuntimeError(f"report would load remote resources: {remote[:3]}")
    path = Path(out) if out is not None else Path(result_dir) / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
