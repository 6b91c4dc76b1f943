"""Place labels of the modal map: cities, counties, shippers and stations, each class
from the zoom at which it is readable.

:func:`place_labels` lists them (plain text, coordinates, class, first zoom, anchor) in
priority order; ``LC.labels`` in ``maps/static/modal_map.js`` draws them as text (never
markup) and, at each zoom, leaves out a label that would overlap one placed before it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from branca.element import MacroElement
from jinja2 import Template

from maps._escape import js_json
from maps.markers import SHIPPER_KINDS
from maps.results import STATES, Results, by_place
from networks import Network

#: The first zoom at which each class is labelled (Leaflet zoom; 7 ≈ a province on a
#: laptop screen, 9 ≈ a city, 10 ≈ its districts).
LABEL_MIN_ZOOM: dict[str, int] = {"city": 5, "shipper": 8, "county": 9, "station": 10}
#: Which class wins where two labels would overlap: the first.
LABEL_ORDER: tuple[str, ...] = ("city", "shipper", "county", "station")
#: Place kinds labelled as stations when they handle tonnes in some state.
STATION_KINDS: frozenset[str] = frozenset(
    {"station", "siding", "port", "pipeline_terminal", "mine"}
)


def _label(name: str, lon: float, lat: float, cls: str, *, anchor: str = "r",
           dot: bool = False) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"n": name, "x": round(float(lon), 5), "y": round(float(lat), 5),
                           "c": cls, "z": LABEL_MIN_ZOOM[cls], "a": anchor}  # fmt: skip
    if dot:
        out["dot"] = True
    return out


def place_labels(
    network: Network,
    results: Results,
    counties: str | Path | dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The map's place labels, in the order they claim room.

    - **city**: places of kind ``city`` (with a dot: nothing else marks them);
    - **shipper**: the shippers and plants of the flows, biggest first (their markers are
      the shipper layer's);
    - **county**: the county polygons' names at a point inside each (``counties``), else
      the places of kind ``county``;
    - **station**: terminals that handle tonnes in some state (``terminals.csv``),
      busiest first, unless a shipper label already names the place.

    Returns
    -------
    list of dict
        ``n`` (name, plain text), ``x``/``y`` (lon/lat), ``c`` (class), ``z`` (first
        zoom), ``a`` (anchor: ``r`` right of a marker, ``c`` centred) and ``dot``.
    """
    by_cls: dict[str, list[dict[str, Any]]] = {c: [] for c in LABEL_ORDER}
    for p in sorted(network.places.values(), key=lambda p: (p.name, p.id)):
        if p.kind == "city":
            by_cls["city"].append(_label(p.name, p.lon, p.lat, "city", dot=True))
    agg = by_place(results.flows)
    shippers = [(pid, a) for pid, a in agg.items() if pid in network.places
                and network.places[pid].kind in SHIPPER_KINDS]  # fmt: skip
    shippers.sort(key=lambda x: (-x[1]["tonnes"], x[0]))
    named = set()
    for pid, _ in shippers:
        p = network.places[pid]
        named.add(pid)
        by_cls["shipper"].append(_label(p.name, p.lon, p.lat, "shipper"))
    data: dict[str, Any] | None = None
    if isinstance(counties, dict):
        data = counties
    elif counties is not None:
        data = json.loads(Path(counties).read_text(encoding="utf-8"))
    if data is not None:
        for f in data.get("features", []):
            name = str((f.get("properties") or {}).get("name") or "")
            if not name or not f.get("geometry"):
                continue
            pt = shapely.geometry.shape(f["geometry"]).representative_point()
            by_cls["county"].append(_label(name, pt.x, pt.y, "county", anchor="c"))
    else:
        for p in sorted(network.places.values(), key=lambda p: (p.name, p.id)):
            if p.kind == "county":
                by_cls["county"].append(_label(p.name, p.lon, p.lat, "county", anchor="c"))
    terms = [t for t in results.terminals
             if t.get("id") not in named and t.get("lon") is not None and t.get("lat") is not None
             and any((t.get(f"throughput_{x}_t") or 0.0) > 0 for x in STATES)]  # fmt: skip
    terms.sort(key=lambda t: (-max((t.get(f"throughput_{x}_t") or 0.0) for x in STATES),
                              str(t.get("id"))))  # fmt: skip
    for t in terms:
        if t.get("kind") in STATION_KINDS or not t.get("kind"):
            by_cls["station"].append(_label(str(t.get("name") or t.get("id")), t["lon"],
                                            t["lat"], "station"))  # fmt: skip
    return [x for c in LABEL_ORDER for x in by_cls[c]]


class Labels(MacroElement):
    """Draws :func:`place_labels` into ``group`` (a layer the layer switch can hide)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            LC.labels({{ this._parent.get_name() }}, {{ this.group.get_name() }},
                {{ this.data }});
        {% endmacro %}
        """
    )

    def __init__(self, group: Any, labels: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "Labels"
        self.group = group
        self.data = js_json(labels)
