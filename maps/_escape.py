"""Strings from the data, escaped for where they land in a page: HTML text and attributes,
JavaScript, the page title.

Every name in a map or report comes from a planner's table (places, shippers, flows, rail
lines, counties, the scenario's title) and may hold ``<``, quotes, a backtick or ``${``.
The rules, one per context:

- **HTML text and attribute values**: :func:`html_text` (``&``, ``<``, ``>``, ``"``, ``'``
  as entities). Tooltips and popups are HTML strings built with it.
- **Inside a script**: a string goes in as a JSON literal with ``<``, ``>``, ``&`` and
  ``'`` as ``\\u`` escapes (:func:`js_string`, as jinja's ``tojson``): it cannot end the
  script element, and it is data, never a template. folium's own ``Tooltip`` puts its text
  raw into a JavaScript template literal (```...```), where ``${...}`` runs and a backtick
  ends the literal -- a syntax error that stops every layer after it from drawing; use
  :class:`Tooltip` here instead. (folium's ``GeoJsonTooltip`` reads a feature's property
  at run time, so it is safe with a property escaped by :func:`html_text`.)
- **The page title**: branca writes ``Figure.title`` raw into ``<title>``; give it
  :func:`html_text` of the title (a title holding ``</title><script>`` stays text).
"""

from __future__ import annotations

import html
import json

import folium
from jinja2 import Template


def html_text(value: object) -> str:
    """``str(value)`` escaped for HTML text or a quoted attribute value (None: "")."""
    return html.escape("" if value is None else str(value), quote=True)


def js_string(value: object) -> str:
    """``str(value)`` as a JavaScript string literal safe inside a ``<script>`` element."""
    return (
        json.dumps("" if value is None else str(value), ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


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
