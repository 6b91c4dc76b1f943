"""The modal map's controls as branca elements: the page's own script and style, the
headline, legend and selection panels as Leaflet controls, the metric scale bar, the
layer switch, zoom buttons and the data attribution.

The panels' HTML is built (and escaped) in Python (:mod:`maps.panels`) and written into
the page; ``maps/static/modal_map.js`` moves each into a Leaflet control, so controls in
one corner stack instead of overlapping: the legend always sits above the scale bar.
Anything a script receives from Python is a JSON literal safe in a ``<script>`` element
(:func:`maps._escape.js_json`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from branca.element import MacroElement
from jinja2 import Template

from maps import _style as st
from maps._escape import js_json
from maps.assets import STATIC_DIR, _safe_script


@cache
def page_js() -> str:
    """``maps/static/modal_map.js``: the map's own behaviour (no library but Leaflet)."""
    return (STATIC_DIR / "modal_map.js").read_text(encoding="utf-8")


@cache
def page_css() -> str:
    """``maps/static/modal_map.css`` and the colours it takes from :mod:`maps._style`."""
    css = (STATIC_DIR / "modal_map.css").read_text(encoding="utf-8")
    return f":root {{ --lc-warn: {st.WARNING_COLOUR}; --lc-access: {st.ACCESS_COLOUR}; }}\n{css}"


class PageAssets(MacroElement):
    """The map's own style and script, inlined in the page's head (once per map)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PageAssets"
        self.css = _safe_script(page_css())
        self.js = _safe_script(page_js())


class Panel(MacroElement):
    """Pre-built (escaped) HTML in the page, made a Leaflet control at ``position``.

    Parameters
    ----------
    body : str
        The panel's HTML; every piece of data in it escaped.
    element_id : str
        The panel's element id (``lc-headline``, ``lc-legend``, ``lc-select``).
    position : str
        Leaflet corner: ``topleft``, ``topright``, ``bottomleft``, ``bottomright``.
    css_class : str
        Extra class (besides ``lc-panel``).
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="lc-panel {{ this.css_class }}" id="{{ this.element_id }}">{{ this.body }}</div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            LC.panel({{ this._parent.get_name() }}, {{ this.element_id|tojson }},
                {{ this.position|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, element_id: str, position: str, css_class: str = "") -> None:
        super().__init__()
        self._name = "Panel"
        self.body = body
        self.element_id = element_id
        self.position = position
        self.css_class = css_class


def legend(body: str) -> Panel:
    """The legend: folded with a click on its title, above the scale bar (bottom left)."""
    html = f'<details open><summary>图例 Legend</summary>{body}</details>'
    return Panel(html, element_id="lc-legend", position="bottomleft", css_class="lc-legend")


def headline(body: str) -> Panel:
    """The headline panel (:func:`maps.panels.headline_panel`), top left."""
    return Panel(body, element_id="lc-headline", position="topleft", css_class="lc-headline")


def selection_panel() -> Panel:
    """The (empty) panel that lists the flows of a click, top right under the layers."""
    return Panel("", element_id="lc-select", position="topright", css_class="lc-select")


class Layout(MacroElement):
    """Folds the panels on a narrow screen (< 900 px), sizes the legend to the room the
    headline leaves above the scale bar, and fits ``bounds`` (``[[lat0, lon0], [lat1,
    lon1]]``) into the part of the map the open panels leave free; runs once every control
    is added."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            LC.layout({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]] | None = None) -> None:
        super().__init__()
        self._name = "Layout"
        self.bounds = bounds


class ScaleBar(MacroElement):
    """Leaflet's scale bar in km only (no miles), bottom left under the legend."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({"metric": true, "imperial": false, "maxWidth": 140,
                             "position": "bottomleft"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ScaleBar"


class ZoomButtons(MacroElement):
    """Zoom buttons at the bottom right, clear of the headline (top left)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.zoom({"position": "bottomright", "zoomInTitle": "放大 zoom in",
                            "zoomOutTitle": "缩小 zoom out"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ZoomButtons"


class LayerSwitch(MacroElement):
    """The layer switch: ``bases`` as radio buttons (the three states, one at a time),
    ``overlays`` as check boxes, in the order given; folded to its button on a narrow
    screen; the headline's state columns switch it too.

    Parameters
    ----------
    bases, overlays : list of (str, Element)
        Label and layer (a folium FeatureGroup).
    states : dict
        State -> its base layer (for the headline's columns).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            LC.layers({{ this._parent.get_name() }},
                [{% for label, layer in this.bases %}[{{ label }}, {{ layer.get_name() }}],{% endfor %}],
                [{% for label, layer in this.overlays %}[{{ label }}, {{ layer.get_name() }}],{% endfor %}],
                {{ this.titles }});
            LC.states({{ this._parent.get_name() }},
                { {% for key, layer in this.states.items() %}{{ key }}: {{ layer.get_name() }},{% endfor %} },
                {{ this.state_names }});
        {% endmacro %}
        """
    )

    def __init__(
        self, bases: list[tuple[str, Any]], overlays: list[tuple[str, Any]], *,
        states: dict[str, Any],
    ) -> None:  # fmt: skip
        super().__init__()
        self._name = "LayerSwitch"
        self.bases = [(js_json(label), layer) for label, layer in bases]
        self.overlays = [(js_json(label), layer) for label, layer in overlays]
        self.states = {js_json(k): layer for k, layer in states.items()}
        names = {id(layer): label for label, layer in bases}
        self.state_names = js_json({k: names[id(layer)] for k, layer in states.items()})
        self.titles = js_json(["货流：一次一种状态 Flows: one state at a time", "图层 Layers"])


class Attribution(MacroElement):
    """Adds the data sources' required attribution to the map's attribution control.

    The text is :data:`maps._style.DATA_ATTRIBUTION`, the line of ``data/NOTICE.md``
    (OpenStreetMap's ODbL asks every map made from its data to say "© OpenStreetMap
    contributors"). The control is kept to half the map's width, so the line wraps in
    the bottom-right corner, clear of the legend and the scale bar at the bottom left.
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
