"""HTML tables of the report, one function per table, built from a parsed result folder.

Every string from data is escaped (:func:`maps._style.esc`); numbers go through
:func:`maps._style.fmt_num`. Row ids (``id="state-tonnes-road"``, ...) let tests find a
row's cells.
"""

from __future__ import annotations

import math
from typing import Any

from maps import _style as st
from maps.results import STATES, by_key, moved_by_rule, road_left


def row(cells: list[str], *, cls: str = "", rid: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{st.esc(rid)}"' if rid else "")
    return f"<tr{attrs}>" + "".join(cells) + "</tr>"


def th(*labels: str) -> str:
    return "<thead><tr>" + "".join(f"<th>{st.esc(x)}</th>" for x in labels) + "</tr></thead>"


def td(text: object) -> str:
    return f"<td>{st.esc(text)}</td>"


def tn(x: float | None, digits: int = 0) -> str:
    return f'<td class="n">{st.fmt_num(x, digits=digits)}</td>'


def state(s: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``summary["states"][name]`` (None when missing)."""
    return (s.get("states") or {}).get(name)


def get(d: Any, *path: str) -> float | None:
    """The number at ``path`` inside ``d`` (None when missing)."""
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return float(d) if isinstance(d, int | float) else None


def diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def signed(x: float | None) -> str:
    """``+1,234`` / ``−1,234`` / ``0`` / ``—``."""
    if x is None:
        return "—"
    return "0" if round(x) == 0 else f"{'+' if x > 0 else '−'}{st.fmt_num(abs(x))}"


def fewer_more(x: float | None) -> str:
    """A difference without − with in words: "少 12 fewer", "多 12 more", "不变 no change"."""
    if x is None:
        return "—"
    n = round(x)
    if n == 0:
        return "不变 no change"
    return f"少 {st.fmt_num(n)} fewer" if n > 0 else f"多 {st.fmt_num(-n)} more"


def truck_payload_t(summary: dict[str, Any]) -> float | None:
    """The truck payload used by the run (``truck_payload_t``, else ``parameters``)."""
    top = summary.get("truck_payload_t")
    if isinstance(top, int | float) and top > 0:
        return float(top)

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

    return find(summary.get("parameters") or {})


def warnings_html(s: dict[str, Any]) -> str:
    """The run's warnings as a banner (empty when there are none)."""
    items = "".join(
        f'<p id="warning-{st.esc(w.get("code"))}"><b>⚠ {st.esc(w.get("title_zh") or "")} / '
        f"{st.esc(w.get('title_en') or w.get('code'))}</b><br>{st.esc(w.get('text_zh'))}<br>"
        f"{st.esc(w.get('text_en'))}</p>"
        for w in s.get("warnings") or []
    )
    return f'<div class="warn" id="warnings">{items}</div>' if items else ""


_STATE_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # row id, label, path in a state
    ("tonnes-road", "公路货运量（干线）Road tonnes, line haul (t)", ("tonnes", "road")),
    ("tonnes-rail", "铁路货运量（干线）Rail tonnes, line haul (t)", ("tonnes", "rail")),
    ("tonnes-pipeline", "管道货运量 Pipeline tonnes (t)", ("tonnes", "pipeline")),
    ("tkm-road", "公路周转量（含短驳）Road t·km, incl. 短驳", ("tkm", "road")),
    ("tkm-access", "　其中短驳 of which 短驳 access t·km", ("access", "tkm")),
    ("tkm-rail", "铁路周转量 Rail t·km", ("tkm", "rail")),
    ("tkm-pipeline", "管道周转量 Pipeline t·km", ("tkm", "pipeline")),
    ("trips-line_haul", "货车趟次·干线 Truck trips, line haul", ("truck_trips", "line_haul")),
    ("trips-access", "货车趟次·短驳 Truck trips, 短驳 access", ("truck_trips", "access")),
    ("trips-total", "货车趟次·合计 Truck trips, total", ("truck_trips", "total")),
    ("co2", "二氧化碳 CO₂ (t)", ("co2_t",)),
    ("cost", "年运输成本 Yearly transport cost (元 CNY)", ("cost_cny",)),
    ("objective", "目标值（含罚金）Objective incl. penalties (元)", ("objective_cny",)),
)


def states_table(s: dict[str, Any]) -> str:
    """The three states side by side, then the rule's effect (without − with) and the
    shift the cost model calls voluntary (today − without)."""
    base, off, on = (state(s, x) for x in STATES)
    payload = truck_payload_t(s)
    rows = []
    for rid, label, path in _STATE_ROWS:
        vals = [get(x, *path) for x in (base, off, on)]
        if rid == "objective" and all(v is None for v in vals):
            continue
        cls = "total" if rid in ("trips-total", "cost") else ""
        rows.append(row([td(label), *[tn(v) for v in vals], tn(diff(vals[1], vals[2])),
                         tn(diff(vals[0], vals[1]))], rid=f"state-{rid}", cls=cls))  # fmt: skip
    cap = s.get("capital") or {}
    if cap.get("items"):
        ann = float(cap.get("annualised_cny") or 0.0)
        rows.append(row([td("新建基础设施年化投资 Annualised capital of new infrastructure (元)"),
                         td("—"), tn(ann), tn(ann), td(""), td("")],
                        rid="state-capital"))  # fmt: skip
        plus = [None, *(None if (c := get(x, "cost_cny")) is None else c + ann for x in (off, on))]
        rows.append(row([td("年运输成本 + 年化投资 Yearly transport cost + annualised capital"),
                         *[tn(v) for v in plus], tn(diff(plus[1], plus[2])), td("")],
                        rid="state-cost-capital", cls="total"))  # fmt: skip
    head = (
        "<thead><tr><th>指标 Indicator</th>"
        + "".join(f"<th>{st.esc(st.STATE_LABELS[x][0])}<br><small>{st.esc(st.STATE_LABELS[x][1])}"
                  "</small></th>" for x in STATES)
        + "<th>规则的效果<br><small>Rule effect = without − with</small></th>"
        "<th>成本模型的“自愿”转移<br><small>Voluntary = today − without</small></th></tr></thead>"
    )  # fmt: skip
    per = st.fmt_num(payload, digits=1)
    note = (
        "<p class='note'>干线 = 运距最长一段的方式；短驳 = 铁路/管道链两端的公路段（站 ↔ 厂），"
        f"两端都短驳的一吨计两趟；趟次 = 货量 ÷ {per} t/车。成本 = 运费 + 碳价，不含软约束罚金。"
        "Line haul = the mode of a chain's longest leg; 短驳 access = the road legs of a rail or "
        "pipeline chain (station ↔ plant), a tonne trucked at both ends counting twice; trips = "
        f"tonnes ÷ {per} t a truck. Cost = money + carbon price, without the soft rule's "
        "penalties (the objective adds them).</p>"
    )
    return f'<table id="states">{head}<tbody>{"".join(rows)}</tbody></table>{note}'


def headline_html(s: dict[str, Any]) -> str:
    """The four figures the bureau asks for, each saying what it subtracts or divides."""
    c = s.get("comparisons") or {}
    eff = c.get("rule_effect") or {}
    cost = (c.get("policy_cost_cny") or {}).get("value")
    co2 = (c.get("co2_abated_by_rule_t") or {}).get("value")
    abate = (c.get("co2_abatement_cny_per_t") or {}).get("value")
    trips = eff.get("truck_trips") or {}
    abate_txt = (f"{st.fmt_num(abate, digits=1)} 元/t" if abate is not None
                 else "—（规则未减少 CO₂ the rule abates none）")  # fmt: skip
    return (
        '<div class="kpi">'
        "<div>规则转出公路的货量<br><small>Road tonnes moved by the rule (without − with)</small>"
        f'<b id="kpi-rule-road">{st.fmt_t(eff.get("road_t"))}</b>'
        "<small>有规则时货车趟次 truck trips with the rule: 干线 line haul "
        f"{fewer_more(trips.get('line_haul'))}；短驳 {fewer_more(trips.get('access'))}；"
        f"合计 total {fewer_more(trips.get('total'))}</small></div>"
        "<div>政策成本<br><small>Policy cost = objective with − without</small>"
        f'<b id="kpi-policy-cost">{st.fmt_num(cost)} 元/年</b></div>'
        "<div>规则减少的 CO₂<br><small>CO₂ abated by the rule = without − with</small>"
        f'<b id="kpi-co2">{st.fmt_num(co2)} t/年</b></div>'
        "<div>CO₂ 减排成本<br><small>Abatement cost = policy cost ÷ CO₂ abated by the rule"
        f" = {st.fmt_num(cost)} ÷ {st.fmt_num(co2)}</small>"
        f'<b id="kpi-abatement">{abate_txt}</b></div></div>'
    )


def definitions_html(s: dict[str, Any]) -> str:
    """Every comparison's definition, in both languages."""
    c = s.get("comparisons") or {}
    items = []
    for key in ("rule_effect", "voluntary", "total", "policy_cost_cny", "co2_abated_by_rule_t",
                "co2_abatement_cny_per_t"):  # fmt: skip
        d = c.get(key)
        if d:
            items.append(f"<li>{st.esc(d.get('definition_zh'))}<br>"
                         f"{st.esc(d.get('definition_en'))}</li>")  # fmt: skip
    return f"<ul class='note' id='definitions'>{''.join(items)}</ul>" if items else ""


def by_commodity(s: dict[str, Any]) -> str:
    head = th("货类 Commodity", "状态 State", *[st.mode_label(m) for m in st.MODE_ORDER],
              "合计 Total")  # fmt: skip
    comms: set[str] = set()
    for x in STATES:
        comms |= set((state(s, x) or {}).get("by_commodity") or {})
    rows = []
    for c in sorted(comms):
        for i, x in enumerate(STATES):
            d = ((state(s, x) or {}).get("by_commodity") or {}).get(c)
            if d is None:
                continue
            cells = [td(st.commodity_label(c) if i == 0 else ""), td(st.STATE_LABELS[x][0])]
            cells += [tn(d.get(m, 0.0)) for m in st.MODE_ORDER]
            cells.append(tn(sum(d.get(m, 0.0) for m in st.MODE_ORDER)))
            rows.append(row(cells, rid=f"commodity-{c}-{x}"))
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def access_tables(s: dict[str, Any]) -> str:
    """短驳 by station and by county: tonnes and trips in the three states, t·km with the
    rule."""
    out = []
    for key, label in (("access_by_station", "场站 Station"), ("access_by_county", "区县 County")):
        recs = {x: (state(s, x) or {}).get(key) for x in STATES}
        names: dict[str, str] = {}
        county: dict[str, str] = {}
        for d in recs.values():
            for k, v in (d or {}).items():
                names.setdefault(k, v.get("name") or k)
                county.setdefault(k, v.get("county") or "")
        if not names:
            continue

        def val(x: str, k: str, f: str, recs: dict = recs) -> float | None:
            d = recs[x]
            return None if d is None else float((d.get(k) or {}).get(f, 0.0))

        station = key == "access_by_station"
        head = th(label, *(["区县 County"] if station else []),
                  *[f"短驳量 t · {st.STATE_LABELS[x][0]}" for x in STATES],
                  *[f"趟次 trips · {st.STATE_LABELS[x][0]}" for x in STATES],
                  "t·km · 有规则 with rule")  # fmt: skip
        rows, tot = [], [0.0] * 7
        for k in sorted(names, key=lambda k: (-(val("with_rule", k, "tonnes") or 0.0), k)):
            vals = [val(x, k, "tonnes") for x in STATES] + [val(x, k, "trips") for x in STATES]
            vals.append(val("with_rule", k, "tkm"))
            tot = [t + (v or 0.0) for t, v in zip(tot, vals, strict=True)]
            lead = [td(names[k]), td(county[k] or "—")] if station else [td(k or "未知 unknown")]
            rows.append(row(lead + [tn(v) for v in vals], rid=f"{key}-{k}"))
        lead = [td("合计 Total")] + ([td("")] if station else [])
        rows.append(row(lead + [tn(v) for v in tot], cls="total", rid=f"{key}-total"))
        out.append(f"<table id='{key}'>{head}<tbody>{''.join(rows)}</tbody></table>")
    if not out:
        return "<p id='access-none'>没有短驳 No access legs in any state.</p>"
    return "".join(out) + (
        "<p class='note'>短驳：铁路/管道链两端的公路段（站 ↔ 厂）。场站 = 公路段与铁路/管道段相接"
        "的站；区县 = 该站所在区县，站无区县时取厂/矿所在区县。"
        "Access legs (短驳): the road legs of a rail or pipeline chain. Station = where the "
        "road leg meets the rail or pipeline leg; county = the station's, else the plant's or "
        "mine's.</p>"
    )


def by_shipper(flows: list[dict[str, Any]]) -> str:
    head = th("货主 Shipper", "货运量 Tonnes", "公路 Road · 现状 today",
              "公路 Road · 无规则 without", "公路 Road · 有规则 with",
              "规则转出 Moved by the rule (without − with)", "政策成本 Rule cost (元)",
              "成本 Cost with the rule (元)", "CO₂ with the rule (t)")  # fmt: skip
    agg = by_key(flows, "shipper")
    rows, tot = [], [0.0] * 8
    for name, a in sorted(agg.items(), key=lambda kv: -kv[1]["tonnes"]):
        vals = [a["tonnes"], a["road"]["baseline"], a["road"]["without_rule"],
                a["road"]["with_rule"], a["moved_t"], a["rule_cost_cny"], a["cost_cny"],
                a["co2_t"]]  # fmt: skip
        tot = [x + (y or 0.0) for x, y in zip(tot, vals, strict=True)]
        rows.append(row([td(name or "—"), *[tn(v) for v in vals]]))
    rows.append(row([td("合计 Total"), *[tn(v) for v in tot]], cls="total", rid="shipper-total"))
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _od(r: dict[str, Any]) -> str:
    return f"{r['origin_name'] or r['origin']} → {r['destination_name'] or r['destination']}"


def moved_table(flows: list[dict[str, Any]]) -> str:
    """The flows whose road tonnes the rule moves, with what that costs."""
    recs = moved_by_rule(flows)
    if not recs:
        return ("<p id='moved-none'>规则没有使任何货流离开公路：无规则时的最低成本已经如此。"
                "The rule moves no flow off the road: the least cost without it already does.</p>")
    head = th("货流 Flow", "货类 Commodity", "货主 Shipper", "起讫 Origin → Destination",
              "运距 Haul (km)", "公路 Road · 无规则 without (t)", "公路 Road · 有规则 with (t)",
              "政策成本 Rule cost (元/年)", "元/t moved")  # fmt: skip
    body, tot = [], [0.0, 0.0, 0.0]
    for r in recs:
        off, on = r["road"]["without_rule"] or 0.0, r["road"]["with_rule"] or 0.0
        cost = r["rule_cost_cny"] or 0.0
        moved = off - on
        tot = [tot[0] + off, tot[1] + on, tot[2] + cost]
        haul = r["haul_km"] if isinstance(r["haul_km"], int | float) else None
        body.append(row([td(r["flow_id"]), td(st.commodity_label(r["commodity"])),
                         td(r["shipper"]), td(_od(r)), tn(haul, 1), tn(off), tn(on), tn(cost),
                         tn(cost / moved if moved > 0 else None, 2)],
                        rid=f"moved-{r['flow_id']}"))  # fmt: skip
    body.append(row([td("合计 Total"), td(""), td(""), td(""), td(""), *[tn(v) for v in tot],
                     td("")], cls="total", rid="moved-total"))  # fmt: skip
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def road_left_table(flows: list[dict[str, Any]]) -> str:
    rows = road_left(flows)
    if not rows:
        return "<p>没有货流留在公路 No tonnage is left on the road.</p>"
    head = th("货流 Flow", "货类 Commodity", "货主 Shipper", "起讫 Origin → Destination",
              "公路 Road (t)", "运距 Haul (km)", "原因 Reason")  # fmt: skip
    body = "".join(
        row([td(r["flow_id"]), td(st.commodity_label(r["commodity"])), td(r["shipper"]),
             td(_od(r)), tn(r["road_t"]), tn(r["haul_km"], 1),
             f"<td><b>{st.esc(st.REASON_LABELS.get(r['reason_code'], r['reason_code']))}</b>"
             f"<br>{st.esc(r['reason'])}</td>"])
        for r in rows
    )  # fmt: skip
    total = sum(r["road_t"] or 0.0 for r in rows)
    body += row([td("合计 Total"), td(""), td(""), td(""), tn(total), td(""), td("")],
                cls="total", rid="road-left-total")  # fmt: skip
    return f"<table>{head}<tbody>{body}</tbody></table>"


def bottlenecks_table(bns: list[dict[str, Any]]) -> str:
    if not bns:
        return "<p>没有起约束作用的能力 No capacity is binding.</p>"
    head = th("排名 Rank", "能力 Capacity", "类型 Kind", "方式 Mode", "能力 Capacity (t/年)",
              "已用 Used (t)", "影子价格 Shadow price (元/t)",
              "每日加开一列 One more daily train (元/年 CNY/yr)")  # fmt: skip
    body = "".join(
        row([tn(b.get("rank")), td(b.get("label") or b.get("constraint")), td(b.get("kind")),
             td(st.mode_label(b.get("mode") or "")), tn(b.get("capacity_t")),
             tn(b.get("used_t")), tn(b.get("shadow_cny_per_t"), 2),
             tn(b.get("shadow_cny_per_daily_train_year"))])
        for b in sorted(bns, key=lambda r: r.get("rank") or math.inf)
    )  # fmt: skip
    return (
        f"<table>{head}<tbody>{body}</tbody></table><p class='note'>影子价格：该能力每增加 1 t，"
        "系统成本的下降 (元/t)。Shadow price: how much the total cost falls per extra tonne of "
        "that capacity.</p>"
    )


def capacity_note(s: dict[str, Any]) -> str:
    """How many flow-carrying links and terminals have no known capacity."""
    c = s.get("capacities") or {}
    parts = []
    for key, zh, en in (("rail_links", "铁路区段", "rail links"),
                        ("pipeline_links", "管道区段", "pipeline links"),
                        ("terminals", "场站", "terminals")):  # fmt: skip
        n, k = c.get(f"{key}_with_flow"), c.get(f"{key}_unknown")
        if n:
            parts.append((zh, en, int(n), int(k or 0)))
    if not parts:
        return ""
    zh = "，".join(f"{n} 个{z}中 <b>{k}</b> 个" for z, _, n, k in parts)
    en = "; ".join(f"<b>{k}</b> of {n} {e}" for _, e, n, k in parts)
    return (
        f"<p id='capacity-unknown' class='unknown'>能力未知：有规则最低成本中有货流的{zh}"
        "在数据中没有能力（未知），模型按不限处理，所以那里不会出现瓶颈。"
        f"Capacity unknown: of the links and terminals carrying flow with the rule, {en} have "
        "no capacity in the data; the model treats them as unlimited, so no bottleneck can "
        "appear there.</p>"
    )


def terminals_table(terms: list[dict[str, Any]]) -> str:
    """Terminals used in any state: throughput in the three states, capacity (or unknown)."""
    used = [t for t in terms if any((t.get(f"throughput_{x}_t") or 0.0) > 0 for x in STATES)]
    if not used:
        return ""
    head = th("场站 Terminal", "类型 Kind", *[f"吞吐 t · {st.STATE_LABELS[x][0]}" for x in STATES],
              "能力 Capacity", "利用率 Utilisation (有规则 with rule)")  # fmt: skip
    used.sort(key=lambda t: (-(t.get("throughput_with_rule_t") or 0.0), str(t.get("id"))))
    body = "".join(
        row([td(t.get("name")), td(t.get("kind")),
             *[tn(t.get(f"throughput_{x}_t")) for x in STATES],
             td(st.capacity_text(t.get("capacity_t"), short=True)),
             td("—" if t.get("utilisation") is None else f"{t['utilisation']:.0%}")],
            rid=f"terminal-{t.get('id')}")
        for t in used
    )  # fmt: skip
    return f"<table id='terminals'>{head}<tbody>{body}</tbody></table>"


def policy_cost_table(s: dict[str, Any]) -> str:
    c = s.get("comparisons") or {}
    fig = {k: (c.get(k) or {}).get("value")
           for k in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t")}
    return (
        "<table><tbody>"
        + row([td("政策成本 Policy cost = 有规则目标值 − 无规则目标值 objective with − without "
                  "(元/年 CNY/yr)"), tn(fig["policy_cost_cny"])], rid="policy-cost")
        + row([td("规则减少的 CO₂ CO₂ abated by the rule = 无规则 − 有规则 without − with (t/年)"),
               tn(fig["co2_abated_by_rule_t"])], rid="co2-abated")
        + row([td("CO₂ 减排成本 Abatement cost = 政策成本 ÷ 规则减少的 CO₂ policy cost ÷ CO₂ "
                  "abated by the rule (元/t)"), tn(fig["co2_abatement_cny_per_t"], 1)],
              rid="abatement")
        + "</tbody></table>"
    )  # fmt: skip


def capital_table(s: dict[str, Any]) -> str:
    cap = s.get("capital") or {}
    items = cap.get("items") or []
    if not items:
        return ("<p id='capital-none'>本情景没有列出新建基础设施的投资。The scenario lists no new "
                "infrastructure investment.</p>")  # fmt: skip
    head = th("项目 Item", "投资 Capex (元)", "年限 Life (年)", "折现率 Discount rate",
              "年化 Annualised (元/年)", "来源 Source")  # fmt: skip

    def rate(x: Any) -> str:
        return "—" if not isinstance(x, int | float) else f"{float(x):.1%}"

    body = "".join(
        row([td(i.get("name") or i.get("id")), tn(i.get("capex_cny")), tn(i.get("life_years")),
             td(rate(i.get("discount_rate"))), tn(i.get("annualised_cny")), td(i.get("source"))],
            rid=f"capital-{i.get('id')}")
        for i in items
    )  # fmt: skip
    body += row([td("合计 Total"), td(""), td(""), td(""), tn(cap.get("annualised_cny")),
                 td("")], cls="total", rid="capital-total")  # fmt: skip
    note = f"{st.esc(cap.get('definition_zh'))} {st.esc(cap.get('definition_en'))}"
    return f"<table>{head}<tbody>{body}</tbody></table><p class='note'>{note}</p>"
