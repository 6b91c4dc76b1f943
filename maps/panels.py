"""The two panels of the modal map as escaped HTML: the headline (title, warnings, the
rule's four figures, the three states side by side) and the legend.

Both are plain functions of ``summary.json`` and a few drawing facts, so tests read them
without a browser; :mod:`maps.controls` puts them into Leaflet controls.
"""

from __future__ import annotations

from typing import Any

from maps import _style as st
from maps.layers import MAX_WIDTH_PX, MIN_FLOW_PX, NETWORK_WIDTH_PX, PLANNED_NETWORK_WIDTH_PX
from maps.results import STATES


def _value(states: dict[str, Any], x: str, *path: str) -> float | None:
    d: Any = states.get(x)
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return float(d) if isinstance(d, int | float) else None


def _wan(x: float | None, unit: str, digits: int = 1) -> str:
    """``x`` in 万 (10⁴) of ``unit``: ``700.0 万t``."""
    return "—" if x is None else f"{st.fmt_num(x / 1e4, digits=digits)} 万{unit}"


def _tonnes(x: float) -> str:
    """A round tonnage for the legend: ``400 万t``, ``2.5 万t``, ``800 t``."""
    if x >= 1e6:
        return f"{st.fmt_num(x / 1e4)} 万t"
    if x >= 1e4:
        return f"{st.fmt_num(x / 1e4, digits=1)} 万t"
    return f"{st.fmt_num(x)} t"


def headline_panel(summary: dict[str, Any]) -> str:
    """The map's headline (escaped HTML).

    Always in sight: the title and the warnings' titles. Folded under "主要结果": the rule's
    four figures (road tonnes it moves, policy cost, CO₂ it abates, abatement cost), each
    saying what it subtracts or divides, and the three states side by side (road and
    rail-or-pipeline tonnes, truck trips line haul / 短驳 / total, CO₂, cost). Each state's
    column head is a button that shows that state on the map (``data-state``).
    """
    states = summary.get("states") or {}
    cmp = summary.get("comparisons") or {}
    rows = (
        ("公路干线 Road, line haul (万t)", ("tonnes", "road"), 1e4, 1),
        ("铁路干线 Rail (万t)", ("tonnes", "rail"), 1e4, 1),
        ("管道 Pipeline (万t)", ("tonnes", "pipeline"), 1e4, 1),
        ("货车趟次·干线 Trips, line haul", ("truck_trips", "line_haul"), 1, 0),
        ("货车趟次·短驳 Trips, 短驳", ("truck_trips", "access"), 1, 0),
        ("货车趟次·合计 Trips, total", ("truck_trips", "total"), 1, 0),
        ("CO₂ (万t)", ("co2_t",), 1e4, 2),
        ("运输成本 Cost (亿元)", ("cost_cny",), 1e8, 2),
    )
    body = "".join(
        f"<tr><td>{label}</td>"
        + "".join(
            f"<td class='n' data-state='{x}'>"
            f"{st.fmt_num(None if (v := _value(states, x, *path)) is None else v / scale, digits=d)}</td>"
            for x in STATES)
        + "</tr>"
        for label, path, scale, d in rows
        if path != ("tonnes", "pipeline") or any(_value(states, x, *path) for x in STATES)
    )  # fmt: skip
    head = "".join(
        f"<th data-state='{x}' title='在地图上显示 show on the map'>{st.esc(st.STATE_LABELS[x][0])}"
        f"<br><small>{st.esc(st.STATE_LABELS[x][1])}</small></th>"
        for x in STATES
    )  # fmt: skip
    warnings = summary.get("warnings") or []
    flags = "".join(
        f"<div class='lc-warn'>⚠ {st.esc(w.get('title_zh') or w.get('code'))}<br>"
        f"{st.esc(w.get('title_en') or '')}</div>"
        for w in warnings
    )

    def figures(w: dict[str, Any]) -> str:  # the warning's figures, short (the map is small)
        share, limit = w.get("share"), w.get("threshold_share")
        if isinstance(share, int | float) and isinstance(limit, int | float):
            return (f"无规则最低成本比现状低 {share:.1%}（阈值 {limit:.0%}）；"
                    f"the least cost without the rule is {share:.1%} below today's "
                    f"(threshold {limit:.0%}); see the report")  # fmt: skip
        return f"{st.esc(w.get('text_zh'))}<br>{st.esc(w.get('text_en'))}"

    warn = "".join(
        f"<div class='lc-warn-text' id='lc-warning-{st.esc(w.get('code'))}'>{figures(w)}</div>"
        for w in warnings
    )
    eff = cmp.get("rule_effect") or {}
    fig = {k: (cmp.get(k) or {}).get("value")
           for k in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t")}
    abate = fig["co2_abatement_cny_per_t"]
    cost = fig["policy_cost_cny"]
    kpis = (
        ("规则转出公路货量 Road t moved by the rule", _wan(eff.get("road_t"), "t"),
         "without − with", "kpi-road"),
        ("政策成本 Policy cost", "—" if cost is None else f"{_wan(cost, '元', 0)}/年",
         "objective with − without", "kpi-cost"),
        ("规则减少 CO₂ abated by the rule", _wan(fig["co2_abated_by_rule_t"], "t", 2),
         "without − with", "kpi-co2"),
        ("减排成本 Abatement cost", "—" if abate is None else f"{st.fmt_num(abate, digits=1)} 元/t",
         "policy cost ÷ CO₂ abated by the rule", "kpi-abate"),
    )  # fmt: skip
    kpi = "".join(
        f"<div id='lc-{key}'><small>{label}</small><b>{val}</b><small>= {how}</small></div>"
        for label, val, how, key in kpis
    )
    title = st.esc(summary.get("title") or summary.get("scenario") or "")
    scenario = st.esc(summary.get("scenario") or "")
    return (
        f"<div class='lc-title' id='lc-title'>{title}</div>"
        f"<div class='lc-sub'>货运方式地图 Modal map · 情景 scenario {scenario}</div>{flags}"
        f"<details open><summary>主要结果 Headline figures</summary>"
        f"<div class='lc-kpis'>{kpi}</div>"
        f"<table class='lc-states'><tr><th></th>{head}</tr>{body}</table>"
        "<div class='lc-hint'>点击列名在地图上显示该状态 · click a column to show that state"
        f"</div>{warn}</details>"
    )


def _line(colour: str, width: float, dash: str | None = None) -> str:
    style = {"dash": "dashed", "dot": "dotted"}.get(dash or "", "solid")
    return (
        f'<span class="sw" style="border-top:{max(width, 1):.1f}px {style} {colour};'
        f'height:0"></span>'
    )


def _dot(fill: str, size: int = 11, border: str = "1px solid #404040") -> str:
    return (f'<span class="dot" style="width:{size}px;height:{size}px;background:{fill};'
            f'border:{border}"></span>')  # fmt: skip


def _item(swatch: str, text: str) -> str:
    return f'<span class="it">{swatch}{text}</span>'


def legend_html(
    unit_t: float,
    county_breaks: list[float],
    *,
    has_counties: bool,
    capacities: dict[str, Any] | None = None,
    has_planned: bool = False,
) -> str:
    """The legend's body (escaped HTML): flow colours, the width scale, 短驳, planned
    infrastructure (规划, when the scenario has any), networks, markers (capacity unknown
    in grey), county classes (none: no fill).

    Parameters
    ----------
    unit_t : float
        Tonnes per px of flow width (the scale is stated).
    county_breaks : list of float
        Upper bounds of the county classes (empty: the rule moves no county's road tonnes).
    has_counties : bool
        Whether the county layer is drawn.
    capacities : dict, optional
        ``summary["capacities"]``: how many flow-carrying links and terminals have no
        known capacity (stated under the terminals).
    has_planned : bool
        Whether planned lines or terminals are drawn (then a 规划 section).
    """
    parts = [
        "<h4>货流 Flows <small>颜色 = 方式 colour = mode</small></h4><div class='rw'>",
        *(_item(_line(st.MODE_COLOURS[m], 5), st.esc(st.mode_label(m))) for m in st.MODE_ORDER),
        _item(_line(st.ACCESS_COLOUR, 5), "短驳 Access (站 ↔ 厂 station ↔ plant)"),
        "</div><div class='note'>一次显示一种状态：右上角切换 one state at a time: switch at the "
        "top right</div><div class='rw'>",
        _item(_line(st.MODE_COLOURS["rail"], 5), "规则的效果：增加 effect: more"),
        _item(f'<span class="sw hollow" style="border-color:{st.MODE_COLOURS["road"]}"></span>',
              "减少（空心）less (hollow)"),
        "</div>",
        f"<div class='note'>线宽 Width = {st.fmt_num(MIN_FLOW_PX)} px + 1 px / "
        f"{st.fmt_num(unit_t)} t/年, ≤ {st.fmt_num(MAX_WIDTH_PX)} px</div><div class='rw'>",
    ]
    for t in (unit_t * 2, unit_t * 6, unit_t * 12):
        w = min(MIN_FLOW_PX + t / unit_t, MAX_WIDTH_PX)
        parts.append(_item(_line("#555555", w), _tonnes(t)))
    parts.append("</div>")
    if has_planned:
        parts.append(
            "<h4>规划 Planned</h4><div class='rw'>"
            + _item(_line(st.MODE_COLOURS["rail"], PLANNED_NETWORK_WIDTH_PX, "dash"),
                    "规划线路 planned line (虚线 dashed)")
            + _item(_dot("#ffffff", 11, "2px dashed #404040"), "规划场站 planned terminal")
            + "</div>"
        )  # fmt: skip
    parts.append("<h4>网络 Networks <small>细线 thin</small></h4><div class='rw'>")
    for mode in st.MODE_ORDER:
        parts.append(_item(_line(st.NETWORK_COLOURS[mode], NETWORK_WIDTH_PX[mode]),
                           st.esc(st.mode_label(mode))))  # fmt: skip
    parts.append(_item(_line(st.NO_FREIGHT_COLOUR, 2, "dot"), "高铁 High-speed (不运货 no freight)"))
    parts.append("</div><h4>场站 Terminals <small>大小 = 有规则吞吐 size = throughput with the "
                 "rule</small></h4><div class='rw'>")  # fmt: skip
    for _, colour, label in st.UTILISATION_CLASSES:
        parts.append(_item(_dot(colour), f"利用率 {st.esc(label)}"))
    parts.append(_item(_dot(st.UNKNOWN_CAPACITY_COLOUR), "能力未知 capacity unknown "
                       "(按不限处理 treated as unlimited)"))  # fmt: skip
    parts.append("</div>")
    cap = capacities or {}
    counts = [(zh, en, int(cap.get(f"{k}_with_flow") or 0), int(cap.get(f"{k}_unknown") or 0))
              for k, zh, en in (("rail_links", "铁路区段", "rail links"),
                                ("terminals", "场站", "terminals"))]  # fmt: skip
    if any(n for _, _, n, _ in counts):
        parts.append(
            "<div class='note'>能力未知 Capacity unknown: "
            + "; ".join(f"{k} / {n} {zh} {en}" for zh, en, n, k in counts if n)
            + " (有规则时有货流 carrying flow with the rule)</div>"
        )
    parts.append(
        "<div class='rw'>"
        + _item(_dot("#ffffff", 9, "2px solid #000"), "货主 Shipper (点击 click: 其货流 its flows)")
        + _item(_dot("#ffffff", 9, f"3px solid {st.ACCESS_COLOUR}"),
                "短驳场站 Access station (环 = 短驳量 ring = 短驳 t)")
        + _item(_line(st.BOTTLENECK_COLOUR, 6), "瓶颈 Binding capacity (影子价格 shadow price)")
        + "</div>"
    )  # fmt: skip
    if has_counties:
        parts.append("<h4>区县：规则转出的公路货量 Counties: road t moved by the rule</h4>"
                     "<div class='rw'>")  # fmt: skip
        lo = 0.0
        for colour, hi in zip(st.COUNTY_COLOURS, county_breaks, strict=False):
            parts.append(_item(f'<span class="box" style="background:{colour}"></span>',
                               f"{st.fmt_num(lo)} – {st.fmt_num(hi)} t"))  # fmt: skip
            lo = hi
        parts.append(_item('<span class="box none"></span>', "无 none (不填色 no fill)"))
        parts.append("</div>")
    return "".join(parts)
