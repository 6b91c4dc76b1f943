"""The report's parameter appendix, in Chinese first: every parameter a run used
(``summary.json`` ``parameters``), grouped, with a Chinese label for its config key (the
key beside, in English), its value and unit in both languages, and where it comes from --
the source tags ([S] published, [D] derived, [M] estimate) and "calibrated" said in words,
the source text as written beside.
"""

from __future__ import annotations

from typing import Any

from maps import _style as st
from maps import _tables as tb
from maps.results import STATES

MODE_ZH: dict[str, str] = {"road": "公路", "rail": "铁路", "pipeline": "管道"}
COMMODITY_ZH: dict[str, str] = {
    "coal": "煤炭", "ore": "矿石", "coke": "焦炭", "oil": "石油", "chlorine": "液氯",
    "alumina": "氧化铝", "aluminium": "铝", "steel": "钢材", "chemicals": "化工品",
    "bauxite": "铝土矿",
}  # fmt: skip
KIND_ZH: dict[str, str] = {
    "station": "车站货场", "siding": "专用线", "port": "港口", "mine": "矿区装车站",
    "pipeline_terminal": "管道站", "plant": "工厂", "shipper": "货主",
}  # fmt: skip
#: Labels of the leaf keys (the last part of a config key).
FIELD_ZH: dict[str, str] = {
    "cny_per_tkm": "运价（按吨公里）",
    "cny_per_t": "每吨固定费用",
    "co2_g_per_tkm": "碳排放因子",
    "speed_kmh": "平均速度（仅用于时间成本）",
    "cny_per_trip": "每趟固定成本",
    "misc_cny_per_t": "杂费（每段）",
    "reliability_cny_per_t": "可靠性成本（请车风险，每段）",
}
#: Labels of whole keys.
KEY_ZH: dict[str, str] = {
    "policy.commodities": "政策覆盖货类",
    "policy.threshold_km": "运距门槛",
    "policy.distance": "运距口径",
    "policy.enforcement": "执行方式",
    "policy.max_access_km": "最长短驳距离（铁路/管道条件）",
    "policy.penalty_cny_per_t": "未转移罚金（软约束）",
    "costs.carbon_price_cny_per_t": "碳价",
    "costs.discount_rate": "折现率（投资年化）",
    "costs.truck_payload_t": "货车载重",
    "costs.handling_cny_per_t": "装卸费（未单列的场站）",
    "costs.rail.cny_per_t": "铁路运价基价1（未单列货类）",
    "costs.rail.cny_per_tkm": "铁路运价基价2 + 建设基金（未单列货类）",
    "costs.time.cny_per_t_hour": "时间价值",
    "costs.time.dwell_h": "每次装卸停留",
    "network.snap_m": "线端连接距离",
    "calibration.margin_cny_per_t": "校准余量（现状须优于其他方案）",
    "calibration.tolerance_cny_per_t": "校准容差",
    "calibration.warning_share": "“请先校准”警告阈值",
    "solver.name": "求解器",
}
#: Units in Chinese.
UNIT_ZH: dict[str, str] = {
    "CNY/t": "元/吨", "CNY/t·km": "元/吨公里", "g/t·km": "克/吨公里", "km": "公里", "m": "米",
    "t": "吨", "km/h": "公里/小时", "h per lift": "小时/次", "CNY/t per lift": "元/吨·次",
    "CNY/truck trip": "元/趟", "1/year": "每年", "CNY/t CO2": "元/吨 CO₂",
    "CNY/(t·h)": "元/(吨·小时)", "share of baseline cost": "占现状成本比例",
}  # fmt: skip
#: Chinese words for choice values.
VALUE_ZH: dict[str, str] = {
    "hard": "强制 hard", "soft": "软约束 soft", "off": "不执行 off", "road": "公路距离 road",
    "great_circle": "直线距离 great circle", "highs": "HiGHS", "cbc": "CBC",
}  # fmt: skip
#: Keys that lead their group, in this order (the rest follow by key).
KEY_ORDER: tuple[str, ...] = (
    "policy.threshold_km", "policy.commodities", "policy.distance", "policy.max_access_km",
    "policy.enforcement", "policy.penalty_cny_per_t", "costs.road.cny_per_tkm",
    "costs.road.cny_per_trip", "costs.truck_payload_t", "costs.rail.cny_per_t",
    "costs.rail.cny_per_tkm", "costs.handling_cny_per_t",
)
#: Groups of the appendix: (Chinese, English, key prefixes).
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("政策", "The rule", ("policy.",)),
    ("公路", "Road", ("costs.road.", "costs.truck_payload_t")),
    ("铁路", "Rail", ("costs.rail.",)),
    ("管道", "Pipeline", ("costs.pipeline.",)),
    ("装卸", "Handling", ("costs.handling",)),
    ("碳价、时间与投资", "Carbon, time and capital", ("costs.",)),
    ("网络", "Network", ("network.",)),
    ("校准", "Calibration", ("calibration.",)),
    ("求解", "Solver", ("solver.",)),
)
#: What a source says about itself, in words: (marker, Chinese, English).
SOURCE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("calibrated", "校准值", "calibrated from today's choices"),
    ("[S]", "有公开出处", "published source"),
    ("[D", "由有出处的数据推算", "derived"),
    ("[M]", "估计（常识或经验）", "estimate"),
    ("scenario", "情景文件设定", "set in the scenario"),
)


def param_label(key: str) -> str:
    """The Chinese label of a config key (``costs.rail.coal.cny_per_t`` ->
    ``铁路 · 煤炭 每吨固定费用``); the key itself when no word fits."""
    if key in KEY_ZH:
        return KEY_ZH[key]
    parts = key.split(".")
    if parts[0] == "costs" and len(parts) >= 3 and parts[1] == "handling":
        return f"装卸费 · {KIND_ZH.get(parts[2], parts[2])}"
    if parts[0] == "costs" and len(parts) in (3, 4) and parts[1] in MODE_ZH:
        field = FIELD_ZH.get(parts[-1])
        if field is None:
            return key
        mode = MODE_ZH[parts[1]]
        if parts[1] == "rail" and parts[-1] == "cny_per_t":
            field = "运价基价1（发到基价）"
        if parts[1] == "rail" and parts[-1] == "cny_per_tkm":
            field = "运价基价2 + 建设基金"
        if len(parts) == 4:
            return f"{mode} · {COMMODITY_ZH.get(parts[2], parts[2])} {field}"
        return f"{mode}{field}"
    if parts[0] == "network" and len(parts) == 3 and parts[1] == "link_tolerance_km":
        return f"{MODE_ZH.get(parts[2], parts[2])}接入容差"
    return key


def source_kinds(source: str) -> list[tuple[str, str]]:
    """What kinds of source a source text names, in words (``[(zh, en)]``, in the order of
    :data:`SOURCE_KINDS`)."""
    low = source.lower()
    out = []
    for marker, zh, en in SOURCE_KINDS:
        hit = (low.startswith(marker) if marker in ("calibrated", "scenario")
               else marker.lower() in low)  # fmt: skip
        if hit:
            out.append((zh, en))
    return out


def _value(leaf: dict[str, Any]) -> str:
    value = leaf.get("value")
    unit = str(leaf.get("unit") or "")
    if isinstance(value, list | tuple):
        return "、".join(st.esc(st.commodity_label(str(v))) for v in value)
    if isinstance(value, str):
        return st.esc(VALUE_ZH.get(value, value))
    if isinstance(value, bool) or value is None:
        return st.esc(value)
    if not unit or "|" in unit or unit == "commodity ids":
        return st.esc(st.fmt_num(value, digits=_digits(value)))
    zh = UNIT_ZH.get(unit)
    num = st.fmt_num(value, digits=_digits(value))
    return (f"{num} {st.esc(zh)} <small>{st.esc(unit)}</small>" if zh
            else f"{num} <small>{st.esc(unit)}</small>")  # fmt: skip


def _digits(x: float) -> int:
    """Enough decimals to show ``x`` as given (at most 4)."""
    for d in range(5):
        if abs(round(float(x), d) - float(x)) < 1e-9:
            return d
    return 4


def parameter_rows(parameters: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(group, key, leaf)`` for each ``{"value", "source", ...}`` leaf of
    ``parameters`` (flat dotted keys, or nested tables), in the order of :data:`GROUPS`,
    then by key."""
    leaves: dict[str, dict[str, Any]] = {}

    def walk(d: Any, prefix: str) -> None:
        if isinstance(d, dict) and "value" in d and not any(isinstance(v, dict) for v in d.values()):
            leaves[prefix] = d
        elif isinstance(d, dict):
            for k, v in d.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        else:
            leaves[prefix] = {"value": d}

    walk(parameters or {}, "")
    out = []
    for key in sorted(leaves):
        group = next((g for g, _, prefixes in GROUPS if key.startswith(prefixes)), "其他")
        out.append((group, key, leaves[key]))
    rank = {g: i for i, (g, _, _) in enumerate(GROUPS)}
    first = {k: i for i, k in enumerate(KEY_ORDER)}
    out.sort(key=lambda r: (rank.get(r[0], len(GROUPS)), first.get(r[1], len(first)), r[1]))
    return out


def appendix_html(s: dict[str, Any]) -> str:
    """The parameter appendix: a note on the source tags, then one table of every parameter
    (per-commodity rows only for the commodities the run carries), grouped."""
    carried: set[str] = set()
    for x in STATES:
        carried |= set((tb.state(s, x) or {}).get("by_commodity") or {})

    def shown(key: str) -> bool:
        parts = key.split(".")
        return not (len(parts) == 4 and parts[0] == "costs" and parts[1] in MODE_ZH
                    and parts[2] not in carried)  # fmt: skip

    rows = []
    last = None
    en_of = {g: en for g, en, _ in GROUPS}
    for group, key, leaf in parameter_rows(s.get("parameters") or {}):
        if not shown(key):
            continue
        if group != last:
            rows.append(f"<tr class='group'><th colspan='3'>{st.esc(group)} "
                        f"<small>{st.esc(en_of.get(group, 'Other'))}</small></th></tr>")  # fmt: skip
            last = group
        src = str(leaf.get("source") or "")
        kinds = "；".join(f"<b>{st.esc(zh)}</b> <small>{st.esc(en)}</small>"
                         for zh, en in source_kinds(src)) or "—"  # fmt: skip
        label = param_label(key)
        rows.append(
            f"<tr id='param-{st.esc(key)}'><td>{st.esc(label)}"
            f"<br><small class='key'>{st.esc(key)}</small></td>"
            f"<td class='v'>{_value(leaf)}</td>"
            f"<td>{kinds}<br><small class='src'>{st.esc(src)}</small></td></tr>"
        )
    note = (
        "<p class='note'>来源标记：<b>[S]</b> 有公开出处；<b>[D]</b> 由有出处的数据推算；"
        "<b>[M]</b> 估计（常识或经验，待核实）；<b>校准值</b> 由 freight calibrate 从现状运输方式反推"
        "（逆线性规划），使无规则最低成本重现现状；<b>情景文件设定</b> 即情景 TOML 文件中的取值。"
        "Source tags: [S] a named public source; [D] derived from [S] figures; [M] general "
        "knowledge or an estimate of ours, to be checked; calibrated: set by freight calibrate "
        "so that the least cost without the rule reproduces today's modes; scenario: the value "
        "the scenario's TOML file sets.</p>"
    )
    return (f"{note}<table id='parameters' class='params'><thead><tr><th>参数 Parameter</th>"
            "<th>取值 Value</th><th>来源 Source</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")  # fmt: skip
