"""The report's first page: the results of a run at a glance -- the rule's four figures,
the three states side by side with what they mean, the modal split, tonnes by commodity,
and the flows on a map (:mod:`maps.minimap`). Everything from ``summary.json`` (and
``links.geojson``, ``terminals.csv`` for the map); every string escaped."""

from __future__ import annotations

from typing import Any

from maps import _style as st
from maps import _tables as tb
from maps.results import STATES

_ROWS: tuple[tuple[str, str, tuple[str, ...], float, int], ...] = (
    ("road", "公路干线货量 Road, line haul (万t)", ("tonnes", "road"), 1e4, 1),
    ("rail", "铁路干线货量 Rail (万t)", ("tonnes", "rail"), 1e4, 1),
    ("pipeline", "管道货量 Pipeline (万t)", ("tonnes", "pipeline"), 1e4, 1),
    ("trips", "货车趟次 Truck trips (万趟)", ("truck_trips", "total"), 1e4, 1),
    ("access", "　其中短驳 of which 短驳 (万趟)", ("truck_trips", "access"), 1e4, 1),
    ("co2", "CO₂ (万t)", ("co2_t",), 1e4, 2),
    ("cost", "运输成本 Yearly cost (亿元)", ("cost_cny",), 1e8, 2),
)


def states_table(s: dict[str, Any]) -> str:
    """The three states side by side with the rule's effect (without − with), in 万 and 亿
    (rows ``glance-<row>``); a row that is zero in every state is left out."""
    head = (
        "<thead><tr><th></th>"
        + "".join(f"<th>{st.esc(st.STATE_LABELS[x][0])}<br><small>{st.esc(st.STATE_LABELS[x][1])}"
                  "</small></th>" for x in STATES)
        + "<th>规则的效果<br><small>rule effect = without − with</small></th></tr></thead>"
    )  # fmt: skip
    rows = []
    for key, label, path, scale, digits in _ROWS:
        vals = [tb.get(tb.state(s, x), *path) for x in STATES]
        if not any(vals):
            continue
        eff = tb.diff(vals[1], vals[2])
        cells = [tb.td(label), *(tb.tn(None if v is None else v / scale, digits) for v in vals),
                 tb.tn(None if eff is None else eff / scale, digits)]  # fmt: skip
        rows.append(tb.row(cells, rid=f"glance-{key}"))
    return f"<table id='glance-states' class='glance'>{head}<tbody>{''.join(rows)}</tbody></table>"


def definitions(s: dict[str, Any]) -> str:
    """What the three states and the rule's effect are, in both languages."""
    pol = s.get("policy") or {}
    thr = st.fmt_num(pol.get("threshold_km"))
    return (
        "<p class='note defs'>"
        "<b>现状</b>：各货流今天的运输方式和路线；<b>无规则最低成本</b>：不执行第二十三条时，"
        "在现有运价和能力下总成本最低的方式和路线；<b>有规则最低成本</b>：执行该条"
        f"（{thr} km 以上、具备铁路或管道条件的大宗货物走铁路或管道）时总成本最低的方式和路线。"
        "<b>规则的效果</b> = 无规则 − 有规则（正数：有规则时更少）。"
        "<br><b>Today</b>: each flow's mode and route today; <b>least cost without the rule</b>:"
        " the cheapest modes and routes under today's rates and capacities if item 23 were not"
        f" enforced; <b>with the rule</b>: the cheapest when it is (bulk hauled {thr} km or more "
        "goes by rail or pipeline where the conditions exist). <b>Rule effect</b> = without − "
        "with (positive: less with the rule).</p>"
    )


def commodity_table(s: dict[str, Any]) -> str:
    """Tonnes by commodity: total, road line haul in the three states, and the road tonnes
    the rule moves (rows ``glance-commodity-<id>``), 万t."""
    comms: dict[str, float] = {}
    for x in STATES:
        for c, d in ((tb.state(s, x) or {}).get("by_commodity") or {}).items():
            comms[c] = max(comms.get(c, 0.0), sum(d.get(m, 0.0) for m in st.MODE_ORDER))
    short = {"baseline": ("现状", "today"), "without_rule": ("无规则", "without"),
             "with_rule": ("有规则", "with")}  # fmt: skip
    head = (
        "<thead><tr><th rowspan='2'>货类<br><small>commodity</small></th>"
        "<th rowspan='2'>货运量<br><small>tonnes</small></th>"
        "<th colspan='3'>公路干线 <small>road, line haul</small></th>"
        "<th rowspan='2'>规则转出<br><small>moved by the rule</small></th></tr><tr>"
        + "".join(f"<th>{zh}<br><small>{en}</small></th>" for zh, en in
                  (short[x] for x in STATES))
        + "</tr></thead>"
    )  # fmt: skip
    rows = []
    for c in sorted(comms, key=lambda c: (-comms[c], c)):
        road = [tb.get(tb.state(s, x), "by_commodity", c, "road") for x in STATES]
        road = [r if r is not None or tb.state(s, x) is None else 0.0
                for r, x in zip(road, STATES, strict=True)]  # fmt: skip
        moved = tb.diff(road[1], road[2])
        rows.append(tb.row(
            [tb.td(st.commodity_label(c)), tb.tn(comms[c] / 1e4, 1),
             *(tb.tn(None if r is None else r / 1e4, 1) for r in road),
             tb.tn(None if moved is None else moved / 1e4, 1)],
            rid=f"glance-commodity-{c}"))  # fmt: skip
    return (f"<table id='glance-commodities' class='glance'>{head}<tbody>{''.join(rows)}"
            "</tbody></table><p class='note'>单位 万t (10,000 t)。干线 = 运距最长一段的方式 "
            "line haul = the mode of a chain's longest leg.</p>")  # fmt: skip
