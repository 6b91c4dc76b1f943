"""The map legend: plain HTML/CSS in a branca MacroElement (no JS library, no images)."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from jinja2 import Template

from maps import _style as st


class Legend(MacroElement):
    """A fixed box at the bottom left of the map holding pre-built (escaped) HTML."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .lc-legend { position: fixed; left: 10px; bottom: 24px; z-index: 1000;
            background: rgba(255,255,255,0.93); border: 1px solid #999; border-radius: 4px;
            padding: 6px 9px; font: 12px/1.35 "Noto Sans CJK SC", "Microsoft YaHei",
            "PingFang SC", "WenQuanYi Zen Hei", sans-serif; max-height: 40vh; overflow-y: auto;
            max-width: 300px; }
          .lc-legend summary { cursor: pointer; }
          @media (max-width: 900px) {
            .leaflet-control-layers-expanded { font-size: 11px; line-height: 1.25;
              max-width: 40vw; }
          }
          .lc-legend h4 { margin: 4px 0 2px; font-size: 12px; }
          .lc-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
          .lc-legend .sw { display: inline-block; width: 26px; flex: none; }
          .lc-legend .dot { display: inline-block; border-radius: 50%; flex: none;
            border: 1px solid #404040; }
          .lc-legend .box { display: inline-block; width: 16px; height: 11px; flex: none;
            border: 1px solid #636363; }
          .lc-legend .note { color: #555; font-size: 11px; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="lc-legend" id="lc-legend"><details open><summary><b>图例 Legend</b></summary>
        {{ this.body }}</details></div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


class HtmlPopup(MacroElement):
    """A popup bound to its parent layer from an HTML string.

    folium's ``Popup`` builds its content with jQuery (``$(...)``); this one calls
    Leaflet's ``bindPopup`` directly, so no jQuery has to be shipped.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }},
                {"maxWidth": {{ this.max_width|tojson }}});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, max_width: int = 420) -> None:
        super().__init__()
        self._name = "HtmlPopup"
        self.html = html
        self.max_width = max_width


def _line(colour: str, width: float, dash: str | None = None) -> str:
    style = {"dash": "dashed", "dot": "dotted"}.get(dash or "", "solid")
    return (
        f'<span class="sw" style="border-top:{max(width, 1):.0f}px {style} {colour};'
        f'height:0"></span>'
    )


def legend_html(
    unit_t: float,
    county_breaks: list[float],
    *,
    has_counties: bool,
    capacities: dict[str, Any] | None = None,
) -> str:
    """The legend's body: flow colours and the three states' line styles, the width scale,
    短驳, networks, markers (capacity unknown in grey), county classes.

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
    """
    parts = ["<h4>货流 Flows (颜色=方式 colour = mode)</h4>"]
    for mode in st.MODE_ORDER:
        parts.append(
            f'<div class="row">{_line(st.MODE_COLOURS[mode], 5)}{st.esc(st.mode_label(mode))}</div>'
        )
    parts.append(
        f'<div class="row">{_line("#555555", 3)}有规则最低成本 With the rule (实线 solid)</div>'
        f'<div class="row">{_line("#555555", 3, "dot")}无规则最低成本 Without the rule '
        "(点线 dotted)</div>"
        f'<div class="row">{_line("#555555", 3, "dash")}现状 Today (虚线 dashed)</div>'
        f'<div class="row">{_line(st.ACCESS_COLOUR, 5)}短驳 Access legs, station ↔ plant '
        "(有规则 with the rule)</div>"
        f"<div>线宽 Width = 1 px + 1 px / {st.fmt_num(unit_t)} t/年 (t/yr), "
        f"≤ 14 px</div>"
    )
    for t in (unit_t * 2, unit_t * 6, unit_t * 12):
        parts.append(f'<div class="row">{_line("#555555", 1 + t / unit_t)}{st.fmt_t(t)}</div>')
    parts.append("<h4>网络 Networks</h4>")
    for mode in st.MODE_ORDER:
        parts.append(
            f'<div class="row">{_line(st.NETWORK_COLOURS[mode], 2)}'
            f"{st.esc(st.mode_label(mode))}</div>"
        )
    parts.append(
        f'<div class="row">{_line(st.NO_FREIGHT_COLOUR, 2, "dash")}'
        "高铁(不运货) High-speed, no freight</div>"
    )
    parts.append("<h4>场站 Terminals (大小=有规则吞吐 size = throughput with the rule)</h4>")
    for _, colour, label in st.UTILISATION_CLASSES:
        parts.append(
            f'<div class="row"><span class="dot" style="width:11px;height:11px;'
            f'background:{colour}"></span>利用率 {st.esc(label)}</div>'
        )
    parts.append(
        f'<div class="row"><span class="dot" style="width:11px;height:11px;'
        f'background:{st.UNKNOWN_CAPACITY_COLOUR}"></span>能力未知 capacity unknown '
        "(按不限处理 treated as unlimited)</div>"
    )
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
        f'<div class="row"><span class="dot" style="width:9px;height:9px;background:#fff;'
        f'border:2px solid #000"></span>货主 Shipper (点击 click)</div>'
        f'<div class="row"><span class="dot" style="width:9px;height:9px;background:#fff;'
        f'border:3px solid {st.ACCESS_COLOUR}"></span>短驳场站 Access station '
        "(环的大小=短驳量 ring size = 短驳 t)</div>"
        f'<div class="row">{_line(st.BOTTLENECK_COLOUR, 6)}瓶颈 Binding capacity '
        "(影子价格 shadow price)</div>"
    )
    if has_counties:
        parts.append("<h4>区县：规则转出的公路货量 Counties: road t moved by the rule</h4>")
        lo = 0.0
        for colour, hi in zip(st.COUNTY_COLOURS, county_breaks, strict=False):
            parts.append(
                f'<div class="row"><span class="box" style="background:{colour}"></span>'
                f"{st.fmt_num(lo)} – {st.fmt_num(hi)}</div>"
            )
            lo = hi
        parts.append(
            f'<div class="row"><span class="box" style="background:{st.COUNTY_NONE_COLOUR}">'
            "</span>无 none</div>"
        )
    return "".join(parts)


class Headline(MacroElement):
    """A fixed, collapsible panel at the top left of the map holding pre-built (escaped)
    HTML: the run's warnings and its three states (:func:`maps.modal_map.headline_panel`)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .lc-headline { position: fixed; left: 54px; top: 10px; z-index: 1000;
            background: rgba(255,255,255,0.95); border: 1px solid #999; border-radius: 4px;
            padding: 5px 9px; font: 12px/1.35 "Noto Sans CJK SC", "Microsoft YaHei",
            "PingFang SC", "WenQuanYi Zen Hei", sans-serif;
            max-width: min(500px, calc(58vw - 74px)); max-height: 48vh; overflow-y: auto; }
          .lc-headline summary { cursor: pointer; }
          .lc-headline table { border-collapse: collapse; margin: 4px 0; }
          .lc-headline th, .lc-headline td { border-bottom: 1px solid #ddd; padding: 1px 5px;
            text-align: left; vertical-align: bottom; }
          .lc-headline td.n { text-align: right; font-variant-numeric: tabular-nums; }
          .lc-headline small { color: #555; font-weight: normal; }
          .lc-headline p { margin: 3px 0; }
          .lc-warn { border: 2px solid {{ this.warn_colour }}; background: #fdecea;
            color: #67000d; border-radius: 3px; padding: 2px 6px; margin: 4px 0;
            font-weight: bold; }
          .lc-warn-text { color: #67000d; font-size: 11px; line-height: 1.3; margin: 2px 0; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="lc-headline" id="lc-headline">{{ this.body }}</div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            // on a narrow screen the headline and the legend open folded, the map first
            if (window.innerWidth < {{ this.narrow_px }}) {
                document.querySelectorAll(".lc-headline details, .lc-legend details")
                    .forEach(function (d) { d.open = false; });
            }
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Headline"
        self.body = body
        self.warn_colour = st.WARNING_COLOUR
        self.narrow_px = 900


class Attribution(MacroElement):
    """Adds the data sources' required attribution to the map's attribution control.

    The text is :data:`maps._style.DATA_ATTRIBUTION`, the line of ``data/NOTICE.md``
    (OpenStreetMap's ODbL asks every map made from its data to say "© OpenStreetMap
    contributors"). The control is kept to half the map's width, so the line wraps in
    the bottom-right corner instead of running under the legend at the bottom left.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
            {{ this._parent.get_name() }}.attributionControl.getContainer().style.maxWidth = "50%";
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text
