"""``sweep.html``: a sweep folder as one page that works offline.

Read from the folder only (``sweep.json``, ``sweep.parquet``, ``mac.parquet``: written by
:func:`freight.sweep_results.write_sweep`), so a sweep can be drawn again later. Charts are
inline SVG (:mod:`maps._svg`); the one script shows the chosen point's marginal abatement
cost curve. Every label says what it compares, in Chinese and English; every string from
data is escaped.

Sections: the headline figures against the first varied key (one line per value of the
other keys; over Monte-Carlo draws the median with its P10–P90 band; failed points as red
crosses); the marginal abatement cost curve of each point (bars as wide as the CO2 each
flow saves and as high as what forcing it costs per tonne of CO2, so their areas add up,
with the flows whose rule cost saves no CO2, to the point's policy cost); over draws, each
headline's P10/P50/P90 and the parameters that drive it (Spearman's rank correlation);
the table of points.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from freight.sweep_results import HEADLINES, mac_curve, quantiles
from maps._svg import bar_chart, esc, fmt, line_chart, mac_chart, strip_chart

#: Most points whose MAC curve the page carries (evenly chosen beyond).
MAX_MAC_POINTS = 60
#: Most rows of the table of points (sweep.csv has them all).
MAX_TABLE_ROWS = 300

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
 sans-serif;margin:0;color:#222;background:#fafafa;font-size:14px}
header,section,footer{max-width:1500px;margin:0 auto;padding:10px 18px}
h1{font-size:21px;margin:10px 0 4px}h2{font-size:17px;margin:18px 0 6px;
 border-bottom:2px solid #0072b2;padding-bottom:3px}h3{font-size:14px;margin:8px 0 2px}
.meta{color:#555;margin:2px 0}.defs{background:#eef4fa;border-left:4px solid #0072b2;
 padding:6px 10px;margin:8px 0}.warn{background:#fdecea;border-left:4px solid #c0392b;
 padding:6px 10px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}
.macgrid{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:12px;align-items:start}
.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px 10px;min-width:0}
.card p{margin:2px 0 4px;color:#444;font-size:12.5px}
svg.chart{width:100%;height:auto;display:block}
svg text{font-family:inherit;font-size:11px;fill:#333}svg .xl,svg .yl{font-size:12px;
 fill:#111}svg .grid{stroke:#e6e6e6}svg .axis{stroke:#888}svg .band{fill:#0072b2;
 fill-opacity:.15}svg text.bar{font-size:10px}svg text.leg{font-size:11px}
table{border-collapse:collapse;font-size:12.5px;background:#fff;width:100%}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}td.t,th.t{text-align:left}
tr.failed td{background:#fdecea}.scroll{overflow-x:auto;max-height:640px;overflow-y:auto}
select{font:inherit;padding:3px;max-width:100%}.mac{display:none}.mac.on{display:block}
code{background:#eee;padding:0 3px}
@media (max-width:1100px){.charts,.macgrid{grid-template-columns:1fr}}
@media (max-width:900px){header,section,footer{padding:6px}}
"""

_SCRIPT = """
(function(){var s=document.getElementById('mac-point');if(!s)return;
function show(){var v=s.value;document.querySelectorAll('.mac').forEach(function(d){
d.classList.toggle('on',d.getAttribute('data-point')===v);});}
s.addEventListener('change',show);show();})();
"""

_STATUS = {
    "optimal": "最优 optimal",
    "infeasible": "不可行 infeasible (硬约束无法满足 the hard rule cannot hold)",
    "input_error": "输入错误 input error",
    "error": "出错 error",
}


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, str | bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _label(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _val(v: Any) -> str:
    """A parameter's value as typed: 300 rather than 300.0."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _curves(df: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The headline figures against the first grid key."""
    grid_keys = meta["grid_keys"]
    if not grid_keys:
        return ""
    xkey, others = grid_keys[0], grid_keys[1:]
    drawn = bool(meta["drawn_keys"])
    xs = list(dict.fromkeys(df[xkey].tolist()))
    categories = None if all(_is_num(x) for x in xs) else [str(x) for x in xs]

    def xval(x: Any) -> Any:
        return str(x) if categories is not None else float(x)

    groups = df.groupby([*others], sort=False, dropna=False) if others else [((), df)]
    cards = []
    for col, zh, en, unit in HEADLINES[:4]:
        series: list[tuple[str, list[tuple[Any, float | None, str]]]] = []
        bands: list[tuple[Any, float, float]] = []
        failed: list[tuple[Any, str]] = []
        for gkey, g in groups:
            gk = gkey if isinstance(gkey, tuple) else (gkey,)
            label = ", ".join(f"{_label(k)}={_val(v)}" for k, v in zip(others, gk, strict=True))
            pts = []
            for x, gx in g.groupby(xkey, sort=False):
                ok = gx[gx["status"] == "optimal"]
                vals = [v for v in (_num(y) for y in ok[col]) if v is not None] if col in ok \
                    else []  # fmt: skip
                bad = gx[gx["status"] != "optimal"]
                if len(bad):
                    first = bad.iloc[0]
                    failed.append((xval(x), f"{_label(xkey)}={x} {label}: {len(bad)} of "
                                   f"{len(gx)} point(s) {_STATUS.get(first['status'], '')}: "
                                   f"{str(first['error'])[:300]}"))  # fmt: skip
                if not vals:
                    continue
                if drawn:
                    q = quantiles(vals)
                    pts.append((xval(x), q["p50"], f"{_label(xkey)}={x}: P50 {fmt(q['p50'])}, "
                                f"P10 {fmt(q['p10'])}, P90 {fmt(q['p90'])} {unit} "
                                f"({q['n']} draws)"))  # fmt: skip
                    if len(series) == 0 and q["p10"] is not None and q["p90"] is not None:
                        bands.append((xval(x), q["p10"], q["p90"]))
                else:
                    pts.append((xval(x), vals[0], f"{_label(xkey)}={x} {label}: "
                                f"{fmt(vals[0])} {unit}"))  # fmt: skip
            series.append((label or en, pts))
        svg = line_chart(f"{zh} / {en}", f"{xkey}", f"{unit}", series,
                         categories=categories, failed=failed,
                         bands=bands if len(series) == 1 else (),
                         x_domain=[xval(x) for x in xs])  # fmt: skip
        cards.append(f'<div class="card"><h3>{esc(zh)}<br>{esc(en)}</h3>'
                     f"<p>纵轴 y: {esc(unit)}；横轴 x: {esc(xkey)}"
                     + ("；线为各次抽样的中位数 P50，阴影为 P10–P90 / line: median of the draws, "
                        "band: P10–P90" if drawn else "")
                     + "；点为扫描的各点，连线只为易读（真实曲线在货流运距处阶跃）；红叉：该点未求得最优"
                     " / dots are the sweep's points, lines only join them (the true curve steps "
                     "where a flow's haul or cost crosses); red cross: a point with no optimum "
                     "(hover)</p>"
                     f"{svg}</div>")  # fmt: skip
    return (f'<section id="curves"><h2>规则的效果与成本随 {esc(xkey)} 变化 / What the rule does '
            f"and costs as {esc(xkey)} varies</h2><div class=\"charts\">{''.join(cards)}"
            "</div></section>")  # fmt: skip


def _pick(n: int, k: int) -> list[int]:
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _mac_section(df: pd.DataFrame, mac: pd.DataFrame, meta: dict[str, Any]) -> str:
    rows = df.to_dict("records")
    chosen = _pick(len(rows), MAX_MAC_POINTS)
    base_vals = meta.get("base_values") or {}
    default = None
    for i in chosen:  # the point at the base scenario's own values, when the sweep has it
        if rows[i]["status"] == "optimal" and all(
            rows[i].get(k) == base_vals.get(k) for k in meta["grid_keys"]
        ) and not meta["drawn_keys"]:
            default = rows[i]["point"]
    if default is None:
        ok = [rows[i] for i in chosen if rows[i]["status"] == "optimal"]
        if ok:  # the median point by policy cost
            ok.sort(key=lambda r: _num(r.get("comparisons.policy_cost_cny")) or 0.0)
            default = ok[len(ok) // 2]["point"]
    by_point = {p: g for p, g in mac.groupby("point")} if len(mac) else {}
    options, blocks = [], []
    for i in chosen:
        r = rows[i]
        p = r["point"]
        cost = _num(r.get("comparisons.policy_cost_cny"))
        sel = " selected" if p == default else ""
        options.append(f'<option value="{p}"{sel}>{esc(r["name"])} — '
                       f"{esc(_STATUS.get(r['status'], r['status']))}"
                       + (f", 政策成本 policy cost {esc(fmt(cost))} CNY/yr" if cost is not None
                          else "") + "</option>")  # fmt: skip
        blocks.append(f'<div class="mac" data-point="{p}">{_mac_block(r, by_point.get(p))}</div>')
    if not blocks:
        return ""
    more = (f"（共 {len(rows)} 点，此处列出 {len(chosen)} 点；mac.csv 有全部 / {len(chosen)} of "
            f"{len(rows)} points here; mac.csv has all）" if len(chosen) < len(rows) else "")
    return (
        '<section id="mac"><h2>边际减排成本曲线 / Marginal abatement cost curve</h2>'
        '<p class="defs">每根柱是一条受规则影响的货流：宽 = 规则使它减少的 CO₂（无规则 − 有规则，t/年），'
        "高 = 强制它离开公路的成本 ÷ 该 CO₂（元/t CO₂），面积 = 它的规则成本（有规则 − 无规则的成本，元/年）；"
        "由低到高排序。各柱面积与不减 CO₂ 的规则成本之和 = 该点的政策成本。"
        "<br>Each bar is a flow the rule changes: width = the CO2 the rule saves on it (without − "
        "with, t/yr), height = what forcing it off the road costs ÷ that CO2 (CNY per t CO2), "
        "area = its rule cost (cost with the rule − without, CNY/yr); cheapest first. The bars' "
        "areas plus the rule costs that save no CO2 add up to the point's policy cost. Hatched: "
        "a flow the rule does not cover, re-routed because the rule's flows took capacity it "
        f"used.</p><label>点 Point: <select id=\"mac-point\">{''.join(options)}</select></label>"
        f"{esc(more)}{''.join(blocks)}</section>"
    )  # fmt: skip


def _mac_block(r: dict[str, Any], g: pd.DataFrame | None) -> str:
    if r["status"] != "optimal":
        return (f'<p class="warn">{esc(r["name"])}: {esc(_STATUS.get(r["status"], ""))}<br>'
                f"{esc(r['error'])}</p>")  # fmt: skip
    entries = [] if g is None else [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in e.items()}
        for e in g.to_dict("records")
    ]  # fmt: skip
    curve, rest = mac_curve(entries)
    cost = _num(r.get("comparisons.policy_cost_cny")) or 0.0
    s_curve = sum(m["rule_cost_cny"] for m in curve)
    s_rest = sum(m["rule_cost_cny"] for m in rest)
    svg = (mac_chart(f"{r['name']}: 边际减排成本曲线 / MAC curve", curve,
                     x_label="规则累计减少的 CO₂ (t/年) / cumulative CO2 abated by the rule (t/yr)",
                     y_label="元 / t CO₂ (CNY per t CO2)") if curve else
           "<p>该点规则未减少任何 CO₂ / the rule abates no CO2 at this point</p>")  # fmt: skip
    head = ("<tr><th>#</th><th class=t>货流 flow</th><th class=t>货类 commodity</th>"
            "<th class=t>起 → 讫 from → to</th><th>运距 haul km</th>"
            "<th>规则转出公路 t/年<br>moved off road (without − with)</th>"
            "<th>规则减少 CO₂ t/年<br>CO2 saved (without − with)</th>"
            "<th>规则成本 元/年<br>rule cost (with − without)</th>"
            "<th>元/t CO₂<br>CNY per t CO2</th><th>元/t 转移<br>CNY per t moved</th></tr>")
    body = []
    for i, m in enumerate([*curve, *rest], start=1):
        flag = "" if m["eligible"] else " ✱"
        body.append(
            f"<tr><td>{i if m in curve else '—'}</td><td class=t>{esc(m['flow_id'])}{flag}</td>"
            f"<td class=t>{esc(m['commodity'])}</td><td class=t>{esc(m['origin_name'])} → "
            f"{esc(m['destination_name'])}</td><td>{esc(fmt(m['haul_km']))}</td>"
            f"<td>{esc(fmt(m['moved_t']))}</td><td>{esc(fmt(m['co2_saved_t']))}</td>"
            f"<td>{m['rule_cost_cny']:,.0f}</td><td>{esc(fmt(m['cny_per_t_co2']))}</td>"
            f"<td>{esc(fmt(m['cny_per_t_moved']))}</td></tr>"
        )  # fmt: skip
    check = (f"柱面积之和 Σ bar areas {s_curve:,.0f} + 不减 CO₂ 的规则成本 rule cost saving no CO2 "
             f"{s_rest:,.0f} = {s_curve + s_rest:,.0f} 元/年 CNY/yr；该点政策成本 policy cost of "
             f"the point (summary.json) {cost:,.0f} 元/年 CNY/yr")  # fmt: skip
    return (f'<div class="card macgrid"><div>{svg}<p>{esc(check)}。✱ 不受规则约束，因容量被占而改道 / '
            "not covered by the rule, re-routed through shared capacity</p></div>"
            f'<div class="scroll"><table>{head}{"".join(body)}</table></div></div>')  # fmt: skip


def _uncertainty(df: pd.DataFrame, meta: dict[str, Any]) -> str:
    drawn = meta["drawn_keys"]
    if not drawn:
        return ""
    ok = df[df["status"] == "optimal"]
    cards, rows = [], []
    for col, zh, en, unit in HEADLINES:
        st = meta["headlines"][col]
        vals = [v for v in (_num(x) for x in ok[col])] if col in ok else []
        drivers = st["drivers"]
        top = (f"{drivers[0]['parameter']} (ρ = {drivers[0]['spearman']:+.2f})" if drivers
               else "—")  # fmt: skip
        rows.append(f"<tr><td class=t>{esc(zh)}<br>{esc(en)}</td><td class=t>{esc(unit)}</td>"
                    f"<td>{esc(fmt(st['p10']))}</td><td>{esc(fmt(st['p50']))}</td>"
                    f"<td>{esc(fmt(st['p90']))}</td><td>{st['n']}</td>"
                    f"<td class=t>{esc(top)}</td></tr>")  # fmt: skip
        if col not in dict((h[0], 1) for h in HEADLINES[:4]):
            continue
        strip = strip_chart(f"{zh} / {en}", [v for v in vals if v is not None], st,
                            x_label=unit)  # fmt: skip
        bars = bar_chart(f"驱动因素 / drivers: {en}",
                         [(d["parameter"], d["spearman"]) for d in drivers],
                         x_label="斯皮尔曼秩相关 Spearman rank correlation ρ")  # fmt: skip
        cards.append(f'<div class="card"><h3>{esc(zh)}<br>{esc(en)}</h3><p>各次抽样的分布（P10/'
                     f"P50/P90）/ distribution over the draws: {esc(unit)}</p>{strip}"
                     "<p>哪个参数影响最大：该参数与该指标的秩相关 / which parameter drives it: "
                     f"rank correlation with the figure</p>{bars}</div>")  # fmt: skip
    table = ("<table><tr><th class=t>指标 figure</th><th class=t>单位 unit</th><th>P10</th>"
             "<th>P50</th><th>P90</th><th>n</th><th class=t>影响最大的参数 driven most by "
             f"(Spearman ρ)</th></tr>{''.join(rows)}</table>")  # fmt: skip
    seed = meta.get("seed")
    return (f'<section id="uncertainty"><h2>不确定性 / Uncertainty over {len(df)} points '
            f"({esc(', '.join(drawn))}; seed {esc(seed)})</h2><p class=\"defs\">每个参数在其 "
            "[calibration.parameters] 区间内独立抽样（均匀或三角分布）；分位数与秩相关只用求得最优的点。"
            "<br>Each parameter drawn independently within its [calibration.parameters] range "
            "(uniform, or triangular around the scenario's value); quantiles and rank "
            f"correlations over the optimal points only.</p>{table}<div class=\"charts\">"
            f"{''.join(cards)}</div></section>")  # fmt: skip


def _points_table(df: pd.DataFrame, meta: dict[str, Any]) -> str:
    keys = [*meta["grid_keys"], *(k for k in meta["drawn_keys"] if k not in meta["grid_keys"])]
    heads = HEADLINES[:4]
    th = ("<tr><th>#</th><th class=t>点 point</th>" + "".join(f"<th>{esc(k)}</th>" for k in keys)
          + "<th class=t>状态 status</th>" + "".join(f"<th>{esc(zh)}<br>{esc(en)}<br>{esc(u)}"
                                                   "</th>" for _, zh, en, u in heads)
          + "<th class=t>错误 error</th></tr>")  # fmt: skip
    trs = []
    for r in df.head(MAX_TABLE_ROWS).to_dict("records"):
        cls = "" if r["status"] == "optimal" else ' class="failed"'
        cells = "".join(f"<td>{esc(fmt(_num(r.get(k))) if _num(r.get(k)) is not None else r.get(k))}"
                        "</td>" for k in keys)  # fmt: skip
        figs = "".join(f"<td>{esc(fmt(_num(r.get(c))))}</td>" for c, *_ in heads)
        trs.append(f"<tr{cls}><td>{r['point']}</td><td class=t>{esc(r['name'])}</td>{cells}"
                   f"<td class=t>{esc(_STATUS.get(r['status'], r['status']))}</td>{figs}"
                   f"<td class=t>{esc(str(r.get('error') or '')[:400])}</td></tr>")  # fmt: skip
    more = (f"<p>前 {MAX_TABLE_ROWS} 点；sweep.csv 有全部 / the first {MAX_TABLE_ROWS} points; "
            "sweep.csv has them all</p>" if len(df) > MAX_TABLE_ROWS else "")
    return (f'<section id="points"><h2>各点 / Points</h2>{more}<div class="scroll"><table>'
            f"{th}{''.join(trs)}</table></div></section>")


def render_sweep(out_dir: str | Path, *, out: Path | None = None) -> Path:
    """Write ``sweep.html`` for the sweep folder ``out_dir`` (replaced whole)."""
    out_dir = Path(out_dir)
    meta = json.loads((out_dir / "sweep.json").read_text(encoding="utf-8"))
    df = pd.read_parquet(out_dir / "sweep.parquet")
    mac = pd.read_parquet(out_dir / "mac.parquet")
    counts = ", ".join(f"{n} {_STATUS.get(s, s)}" for s, n in meta["counts"].items() if n)
    title = meta.get("title") or Path(meta["base"]).stem
    shown = os.path.relpath(meta["base"])  # as the planner typed it, when under here
    shown = meta["base"] if shown.startswith("..") else shown
    varied = ", ".join(meta["grid_keys"]) or "—"
    drawn = ", ".join(meta["drawn_keys"]) or "—"
    failed = meta["counts"].get("infeasible", 0) + meta["counts"].get("input_error", 0) + \
        meta["counts"].get("error", 0)  # fmt: skip
    warn = (f'<p class="warn">{failed} 个点未求得最优（表中红色，图中红叉）/ {failed} point(s) have '
            "no optimum (red in the table, red crosses in the charts)</p>" if failed else "")
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>参数扫描 Sweep — {esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>参数扫描 Sweep — {esc(title)}</h1>"
        f'<p class="meta">基准情景 base scenario: <code>{esc(shown)}</code></p>'
        f'<p class="meta">{len(df)} 点 points: {esc(counts)}；网格参数 varied: {esc(varied)}；'
        f"抽样参数 drawn: {esc(drawn)}</p>{warn}"
        '<p class="defs">三种状态 three states: 现状 today (baseline) · 无规则最低成本 least cost '
        "without the rule · 有规则最低成本 least cost with the rule。规则效果 rule effect = 无规则 − "
        "有规则 (without − with)；政策成本 policy cost = 有规则目标值 − 无规则目标值 (objective with − "
        "without)；CO₂ 减排成本 abatement cost = 政策成本 ÷ 规则减少的 CO₂ (policy cost ÷ CO2 "
        "without − with)。每个点可单独重算 / each point re-runs alone: <code>freight run "
        f"{esc(out_dir / 'points')}/&lt;点 point&gt;.toml</code></p></header>"
        f"{_curves(df, meta)}{_mac_section(df, mac, meta)}{_uncertainty(df, meta)}"
        f"{_points_table(df, meta)}"
        "<footer><p class=\"meta\">文件 files: sweep.csv, sweep.parquet (每点一行 one row per "
        "point), mac.csv (每点每条货流 per point and flow), sweep.json, points/*.toml, runs/ "
        "(--keep-runs)</p></footer>"
        f"<script>{_SCRIPT}</script></body></html>"
    )  # fmt: skip
    dst = out if out is not None else out_dir / "sweep.html"
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, dst)
    return dst
