"""Offline assets: inline the vendored Leaflet into a folium map and prove nothing is fetched.

folium's :class:`~folium.Map` (like every ``JSCSSMixin``) lists ``<script src>`` and
``<link href>`` URLs on public CDNs (Leaflet, jQuery, Bootstrap, Font Awesome,
awesome-markers). The Liaocheng bureau opens maps on machines without internet, so
:func:`make_offline` empties those lists on the map *instance* (folium's class attributes are
left alone) and puts the vendored Leaflet 1.9.4 from ``maps/static/`` into the page instead;
:func:`external_resources` lists any ``http(s)`` script or stylesheet that is still referenced.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

import folium
from branca.element import Element, Figure

from maps._escape import html_text

STATIC_DIR: Path = Path(__file__).parent / "static"
LEAFLET_DIR: Path = STATIC_DIR / "leaflet-1.9.4"
LEAFLET_VERSION: str = "1.9.4"

_EXTERNAL_RE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//[^\"'\s>]+",
    re.IGNORECASE,
)
_CSS_URL_RE = re.compile(r"url\((?P<path>images/[A-Za-z0-9_.-]+\.png)\)")


@cache
def leaflet_js() -> str:
    """The vendored ``leaflet.js`` (1.9.4, BSD-2-Clause), as text."""
    return (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")


@cache
def leaflet_css() -> str:
    """The vendored ``leaflet.css`` with its images inlined as ``data:`` URIs."""
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def _data_uri(match: re.Match[str]) -> str:
        data = (LEAFLET_DIR / match.group("path")).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(data).decode("ascii") + ")"

    return _CSS_URL_RE.sub(_data_uri, css)


def _safe_script(text: str) -> str:
    """Make ``text`` safe inside ``<script>``/``<style>`` (no premature closing tag)."""
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def make_offline(m: folium.Map, *, title: str | None = None) -> folium.Map:
    """Replace folium's CDN links by inlined copies of the vendored Leaflet.

    Parameters
    ----------
    m : folium.Map
        The map, before it is rendered. Only this instance is changed.
    title : str, optional
        Page ``<title>`` (plain text: escaped here).

    Returns
    -------
    folium.Map
        ``m`` itself.
    """
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    assert isinstance(fig, Figure)
    if title is not None:
        fig.title = html_text(title)  # branca writes it into <title> as it is
    fig.header.add_child(Element('<meta charset="utf-8">'), name="meta_charset", index=0)
    fig.header.add_child(
        Element("<style>" + _safe_script(leaflet_css()) + "</style>"), name="leaflet_css"
    )
    fig.header.add_child(
        Element("<script>" + _safe_script(leaflet_js()) + "</script>"), name="leaflet_js"
    )
    return m


def stable_ids(root: Element, seed: str) -> None:
    """Give every element under ``root`` an id made of ``seed`` and its place in the tree.

    branca draws each element's id (and so each JavaScript variable name in the page,
    ``map_8eec…``) from ``os.urandom``, so two runs of one scenario wrote different
    map.html files. Here the ids are the first 8 hex digits of SHA-256 of ``seed`` (the
    scenario) and a counter, in the tree's order (children in the order they were
    added; a Figure's header, body and script parts first): the same page for the same
    scenario, byte for byte, and distinct ids within a page. Children keyed by their old
    name are keyed by the new one. Call it once the map is built, before rendering.
    """
    prefix = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8]
    queue: list[Element] = [root]
    count = 0
    while queue:
        el = queue.pop(0)
        old = el.get_name()
        el._id = f"{prefix}{count:08x}"
        count += 1
        parent = el._parent
        if parent is not None and old != el.get_name() and old in parent._children:
            parent._children = type(parent._children)(
                (el.get_name() if k == old else k, v) for k, v in parent._children.items()
            )
        if isinstance(el, Figure):
            queue += [el.header, el.html, el.script]
        queue += list(el._children.values())


def external_resources(html: str) -> list[str]:
    """The remote scripts, stylesheets, images or frames an HTML page would load.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        The offending tag openings (empty when the page is self-contained).
    """
    return [m.group(0) for m in _EXTERNAL_RE.finditer(html)]
