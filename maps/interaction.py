"""Click to follow flows on the modal map: a shipper, a station or a flow link highlights
the routes of the flows concerned and lists them.

The data is built here, as plain text (the page sets it with ``textContent``, never as
markup) and numbers: :func:`flow_table` (one entry per flow: what it is, its road tonnes in
the three states, its chains with the rule, why tonnes stay on the road), and
:func:`place_flows` (which flows each shipper or station concerns). Each flow link carries
the indices of its flows (``fl``, :func:`maps.layers.flow_layer_features`, from
``links.geojson``'s ``flows_<state>``). ``LC.interact`` in ``maps/static/modal_map.js``
does the drawing.
"""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from jinja2 import Template

from maps import _style as st
from maps._escape import js_json
from maps.results import STATES, Results, flow_totals
from networks import Network

#: The states' names, short (the panel is narrow).
SHORT: dict[str, str] = {"baseline": "现状", "without_rule": "无规则", "with_rule": "有规则"}


def _wan(x: float | None) -> str:
    return "—" if x is None else f"{st.fmt_num(x / 1e4, digits=1)}"


def flow_table(results: Results) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One entry per flow of ``flows.csv`` (in its order) and each flow id's index.

    Returns
    -------
    (list of dict, dict)
        Entries ``{"id", "t": heading, "d": [lines]}`` (plain text): heading = id,
        commodity, tonnes; lines = origin → destination, shipper, road line-haul tonnes in
        the three states, the chains used with the rule (modes and lines, tonnes), and the
        reasons for tonnes left on the road.
    """
    totals = flow_totals(results.flows)
    chains: dict[str, list[str]] = {}
    for r in results.flows:
        modes = [m for m in str(r.get("modes") or "").split(";") if m]
        if not modes:
            continue
        via = "、".join(x for x in str(r.get("lines") or "").split(";") if x)
        path = " → ".join(st.mode_label(m).split(" ")[0] for m in modes)
        chains.setdefault(r["flow_id"], []).append(
            f"有规则 with the rule: {path}{' 经 via ' + via if via else ''} "
            f"({_wan(r.get('tonnes'))} 万t)"
        )
    out: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for fid, rec in totals.items():
        index[fid] = len(out)
        road = " · ".join(f"{SHORT[x]} {_wan(rec['road'][x])}" for x in STATES)
        lines = [f"{rec['origin_name'] or rec['origin']} → "
                 f"{rec['destination_name'] or rec['destination']}"]  # fmt: skip
        lines.append(f"公路干线 road (万t): {road}")
        lines += chains.get(fid, [])
        lines += [f"留在公路 on the road: {text or st.REASON_LABELS.get(code, code)}"
                  for code, text, _ in rec["reasons"]]  # fmt: skip
        shipper = f" · {rec['shipper']}" if rec["shipper"] else ""
        out.append({
            "id": fid,
            "t": f"{fid} · {st.commodity_label(rec['commodity'])} · {_wan(rec['tonnes'])} 万t/年"
                 f"{shipper}",
            "d": lines,
        })  # fmt: skip
    return out, index


def place_flows(
    results: Results, network: Network, index: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """Which flows each place concerns: a shipper or plant the flows it sends or receives;
    a terminal those lifted there with the rule (``lifts`` of ``flows.csv``) and those
    starting or ending there.

    Returns
    -------
    dict
        Place id -> ``{"n": name, "k": what the list is, "fl": [flow indices]}`` (the map
        adds ``"s"``, a shipper's tonnes in the three states:
        :func:`maps.markers.state_rows`).
    """
    out: dict[str, dict[str, Any]] = {}

    def add(pid: str, name: str, kind: str, fid: str) -> None:
        rec = out.setdefault(pid, {"n": name, "k": kind, "fl": []})
        i = index.get(fid)
        if i is not None and i not in rec["fl"]:
            rec["fl"].append(i)

    names = {t.get("id"): str(t.get("name") or t.get("id")) for t in results.terminals}
    for r in results.flows:
        fid = r["flow_id"]
        for end in ("origin", "destination"):
            pid = r.get(end) or ""
            place = network.places.get(pid)
            name = place.name if place is not None else (r.get(f"{end}_name") or pid)
            add(pid, name, "起讫的货流 flows starting or ending here", fid)
        for pid in (x for x in str(r.get("lifts") or "").split(";") if x):
            place = network.places.get(pid)
            name = names.get(pid) or (place.name if place is not None else pid)
            kind = "有规则时在此装卸的货流 flows lifted here with the rule"
            rec = out.get(pid)
            if rec is not None and rec["k"] != kind:
                rec["k"] = "在此起讫或装卸的货流 flows starting, ending or lifted here"
            add(pid, name, kind, fid)
    return out


class Selection(MacroElement):
    """Binds the clicks: ``places`` (marker, place id) and ``links`` (GeoJson layer of flow
    links, state) to ``LC.interact`` with the flow table and the places' flows."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            LC.interact({{ this._parent.get_name() }}, {{ this.data }},
                [{% for layer, key in this.places %}[{{ layer.get_name() }}, {{ key }}],{% endfor %}],
                [{% for layer, state in this.links %}[{{ layer.get_name() }}, {{ state|tojson }}],{% endfor %}]);
        {% endmacro %}
        """
    )

    def __init__(
        self, flows: list[dict[str, Any]], places: dict[str, dict[str, Any]], *,
        place_layers: list[tuple[Any, str]], link_layers: list[tuple[Any, str]],
    ) -> None:  # fmt: skip
        super().__init__()
        self._name = "Selection"
        data = {"flows": flows, "places": places,
                "states": {x: st.state_label(x) for x in STATES}}  # fmt: skip
        self.data = js_json(data)
        self.places = [(layer, js_json(pid)) for layer, pid in place_layers if pid in places]
        self.links = link_layers
