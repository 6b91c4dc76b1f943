"""The map legend: plain HTML/CSS in a branca MacroElement (no JS library, no images)."""

from __future__ import annotations

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
            "PingFang SC", sans-serif; max-height: 62vh; overflow-y: auto; max-width: 300px; }
          .lc-legend h4 { margin: 4px 0 2px; font-size: 12px; }
          .lc-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
          .lc-legend .sw { display: inline-block; width: 26px; flex: none; }
          .lc-legend .dot { display: inline-block; border-radius: 50%; flex: none;
            border: 1px solid #404040; }
          .lc-legend .box { display: inline-block; width: 16px; height: 11px; flex: none;
            border: 1px solid #636363; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="lc-legend" id="lc-legend">{{ this.body }}</div>
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
    style = "dashed" if dash else "solid"
    return (
        f'<span class="sw" style="border-top:{max(width, 1):.0f}px {style} {colour};'
        f'height:0"></span>'
    )


def legend_html(unit_t: float, county_breaks: list[float], *, has_counties: bool) -> str:
    """The legend's body: flow colours and width scale, networks, markers, county classes.

    Parameters
    ----------
    unit_t : float
        Tonnes per px of flow width (the scale is stated).
    county_breaks : list of float
        Upper bounds of the county classes (empty: no county reduced road tonnage).
    has_counties : bool
        Whether the county layer is drawn.
    """
    parts = ["<h4>货流 Flows (颜色=方式 colour = mode)</h4>"]
    for mode in st.MODE_ORDER:
        parts.append(
            f'<div class="row">{_line(st.MODE_COLOURS[mode], 5)}{st.esc(st.mode_label(mode))}</div>'
        )
    parts.append(
        f'<div class="row">{_line("#555555", 3, "dash")}现状 Before (虚线 dashed)</div>'
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
    parts.append("<h4>场站 Terminals (大小=吞吐 size = throughput)</h4>")
    for _, colour, label in st.UTILISATION_CLASSES:
        parts.append(
            f'<div class="row"><span class="dot" style="width:11px;height:11px;'
            f'background:{colour}"></span>利用率 {st.esc(label)}</div>'
        )
    parts.append(
        f'<div class="row"><span class="dot" style="width:11px;height:11px;'
        f'background:{st.UNLIMITED_COLOUR}"></span>不限能力 Unlimited</div>'
        f'<div class="row"><span class="dot" style="width:9px;height:9px;background:#fff;'
        f'border:2px solid #000"></span>货主 Shipper (点击 click)</div>'
        f'<div class="row">{_line(st.BOTTLENECK_COLOUR, 6)}瓶颈 Binding capacity '
        "(影子价格 shadow price)</div>"
    )
    if has_counties:
        parts.append("<h4>区县公路减量 County road reduction (t)</h4>")
        lo = 0.0
        for colour, hi in zip(st.COUNTY_COLOURS, county_breaks, strict=False):
            parts.append(
                f'<div class="row"><span class="box" style="background:{colour}"></span>'
                f"{st.fmt_num(lo)} – {st.fmt_num(hi)}</div>"
            )
            lo = hi
        parts.append(
            f'<div class="row"><span class="box" style="background:{st.COUNTY_NONE_COLOUR}">'
            "</span>无减量 none</div>"
        )
    return "".join(parts)


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
