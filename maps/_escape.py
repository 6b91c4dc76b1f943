"""Strings from the data, escaped for where they land in a page: HTML text and attributes,
JavaScript, the page title -- and never read as a template.

Every name in a map or report comes from a planner's table (places, shippers, flows, rail
lines, counties, the scenario's title) and may hold ``<``, quotes, a backtick, ``${`` or
``{{``. The rules, one per context:

- **HTML text and attribute values**: :func:`html_text` (``&``, ``<``, ``>``, ``"``, ``'``,
  ``{``, ``}`` as entities). Tooltips and popups are HTML strings built with it.
- **Inside a script**: data goes in as a JSON literal (:func:`js_json`, :func:`js_string`)
  with ``<``, ``>``, ``&``, ``'``, ``{``, ``}`` inside its strings as ``\\u`` escapes: it
  cannot end the script element, and it is data, never a template. folium's own
  ``Tooltip`` puts its text raw into a JavaScript template literal (```...```), where
  ``${...}`` runs and a backtick ends the literal -- a syntax error that stops every layer
  after it from drawing; use :class:`Tooltip` here instead.
- **Never a Jinja template**: branca renders each element's script and HTML, then parses
  that text again as a Jinja template when the page is put together, so a name holding
  ``{{ 7*7 }}`` was written as ``49`` (and ``{{ ... }}`` could call Python while the map
  was drawn). Hence the braces above, and :class:`GeoJsonLayer` in place of folium's
  ``GeoJson`` (whose ``tojson`` leaves braces in strings as they are).
- **The page title**: branca writes ``Figure.title`` raw into ``<title>``; give it
  :func:`html_text` of the title (a title holding ``</title><script>`` stays text).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

#: Characters written as ``\\u`` escapes inside a JSON string in a script.
_JS_ESCAPES = {
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "{": "\\u007b",
    "}": "\\u007d", "\u2028": "\\u2028", "\u2029": "\\u2029",
}  # fmt: skip
_JS_TABLE = str.maketrans(_JS_ESCAPES)


def html_text(value: object) -> str:
    """``str(value)`` escaped for HTML text or a quoted attribute value (None: ""); braces as
    entities, so the text never reads as a template."""
    return (html.escape("" if value is None else str(value), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;"))  # fmt: skip


def js_string(value: object) -> str:
    """``str(value)`` as a JavaScript string literal safe inside a ``<script>`` element."""
    return js_json("" if value is None else str(value))


def js_json(value: Any) -> str:
    """``value`` (JSON data: dicts, lists, strings, numbers, booleans, None) as a JavaScript
    literal safe inside a ``<script>`` element: in every string, ``<``, ``>``, ``&``, ``'``,
    ``{``, ``}`` and the two JavaScript line separators are ``\\u`` escapes, so no string
    in it can end the script, open markup or read as a template. Non-ASCII text stays as
    it is (UTF-8), half the bytes of ``\\uXXXX``.

    Examples
    --------
    >>> js_json({"name": "</script>{{x}}"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u007b\\\\u007bx\\\\u007d\\\\u007d"}'
    """
    if isinstance(value, str):
        return _json_string(value).translate(_JS_TABLE)
    if isinstance(value, dict):
        return "{" + ",".join(f"{js_json(str(k))}:{js_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)  # as json writes it (an int subclass as the int)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not JSON data: {value!r}")
        return float.__repr__(value)  # as json writes it
    raise TypeError(f"not JSON data: {type(value).__name__}")


#: One encoder, made once (``json.dumps`` with an argument builds one per call, and a
#: map's data holds some 10^5 strings and numbers).
_json_string = json.JSONEncoder(ensure_ascii=False).encode


class Tooltip(folium.Tooltip):
    """folium's tooltip with its HTML passed as a JSON string literal, not put in a
    template literal (a folium ``Tooltip``, so layers take it as one).

    Parameters
    ----------
    text : str
        The tooltip's HTML, every piece of data in it escaped with :func:`html_text`.
    sticky : bool
        Follow the mouse (as folium's default).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.js_text }},
                {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str, *, sticky: bool = True) -> None:
        super().__init__(text, sticky=sticky)
        self.js_text = js_string(self.text)


class GeoJsonLayer(MacroElement):
    """A GeoJSON layer whose data is written with :func:`js_json` and styled from each
    feature's own properties: ``colour``, ``weight``, ``dash``, and for polygons ``fill``
    and ``fill_opacity``; ``tip`` (escaped HTML) is its tooltip.

    folium's ``GeoJson`` writes its data with Jinja's ``tojson`` (braces in strings kept,
    see the module's text) and one ``case`` per feature id in a style function; here one
    function reads the properties, so the page is smaller too.

    Parameters
    ----------
    features : list of dict
        GeoJSON features (only JSON data in their properties).
    opacity : float
        Line opacity.
    pane : str, optional
        The Leaflet pane to draw in.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = LC.geojson({{ this._parent.get_name() }},
                {{ this.data }}, {{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(self, features: list[dict[str, Any]], *, opacity: float = 0.85,
                 pane: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self._name = "GeoJsonLayer"
        self.features = features
        self.data = js_json({"type": "FeatureCollection", "features": features})
        options: dict[str, Any] = {"opacity": opacity}
        if pane:
            options["pane"] = pane
        self.options = js_json(options)
