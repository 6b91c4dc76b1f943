"""Added lines (a scenario's ``extra_lines``): sidings and planned lines joined to a network
the way a planner means them.

Joining rule
------------
New lines join each other where their end points lie within ``snap_m`` (as in
:mod:`networks.graph`). An end joins the EXISTING network of its mode only

- when it lies within ``snap_m`` of a line a place could use (on rail: freight track;
  never a ``freight=false`` passenger line) -- drawn onto the track, or onto a line end;
- or within ``snap_m`` of a station (a named-line station of ``rail_line_stations``, or a
  place claiming the mode) -- then at the nearest point of such a line, within
  ``link_tolerance_km``;
- or when the feature names that end in its ``join`` property (``start``, ``end`` or
  ``both``) -- then at the nearest point of such a line within ``link_tolerance_km``, and
  it is an error when there is none. ``join = "none"`` keeps both ends off the network.

Any other end is *free*. The old rule -- every end joined the nearest line within 5 km,
high-speed lines included -- turned a siding's plant end into a connector to whatever
track passed within 5 km.

Properties a feature may carry besides those of any line layer
---------------------------------------------------------------
- ``status``: ``planned`` (default) or ``existing``. Planned lines are left out of the
  "before" picture (:func:`base_network`), so scenarios that only add infrastructure share
  one baseline.
- ``gate``: the id of a terminal (``kind = siding``, ``modes = road;<mode>``) made at the
  line's free end -- a siding's gate at the plant. Optional ``gate_name``,
  ``gate_handling_cny_per_t`` (blank: the scenario's default), ``gate_capacity_t`` (blank:
  unlimited), ``county``.
- ``users``: ``;``-joined shipper names (the ``shipper`` column of flows.csv, case
  ignored) who alone may use the line: a private siding. Blank: open to every flow.

Every added piece (lines joined among themselves) must be usable: joined to the network
or to places at two points at least (a siding: its junction and its gate). A piece with one
(a dead end) or none (joined nowhere) is an error naming how far its ends are from a line:
such a line would be silently unused.

Edges of added lines carry ``added`` (``"planned"`` / ``"existing"``), ``piece`` (an id)
and, when reserved, ``users`` (a frozenset of names); ``G.graph["joins"]`` records every
end's join (or gate) for ``freight validate``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import networkx as nx
import numpy as np
import shapely

from networks._errors import InputError, raise_if_any
from networks._types import MODES, Link, Network, Place
from networks.graph import _cluster_points, add_edge, new_node
from networks.io import LineFeature, _blank, geodesic_km, parse_float, point_km, validate_line_frame
from networks.places import freight_edge, line_label
from networks.snapping import EdgeLocator, Hit

STATUSES: tuple[str, ...] = ("planned", "existing")
_JOINS = {"": None, "auto": None, "start": ("start",), "end": ("end",),
          "both": ("start", "end"), "none": ()}


@dataclass(frozen=True)
class Station:
    """A point an added line's end may be drawn to (a station, a terminal)."""

    name: str
    lon: float
    lat: float


@dataclass
class Added:
    """What :func:`add_lines` added: the terminals to make at gates, and the pieces."""

    gates: list[tuple[Place, str]] = field(default_factory=list)  # (terminal, "feature N")
    pieces: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _End:
    feature: int  # position in the features list
    which: str  # "start", "end" or "inner" (an end of an inner part of a MultiLineString)
    lon: float
    lat: float


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


def _names(value: Any) -> frozenset[str] | None:
    """``"华鲁恒升; 德州电厂"`` -> the names (``;`` ``；`` or ``,`` between them)."""
    text = _text(value).replace("；", ";").replace(",", ";").replace("，", ";")
    names = frozenset(n.strip() for n in text.split(";") if n.strip())
    return names or None


def _props(f: LineFeature, file: str, errors: list[InputError]) -> dict[str, Any]:
    where = f"feature {f.index}"
    ex = f.extra
    out: dict[str, Any] = {}
    join = _text(ex.get("join")).lower()
    if join not in _JOINS:
        errors.append(InputError(file, where, "join", f"expected start, end, both, none or "
                                                      f"blank, got {join!r}"))
        join = ""
    out["join"] = _JOINS[join]
    status = _text(ex.get("status")).lower() or "planned"
    if status not in STATUSES:
        errors.append(InputError(file, where, "status",
                                 f"expected planned or existing, got {status!r}"))
        status = "planned"
    out["status"] = status
    out["users"] = _names(ex.get("users"))
    out["gate"] = _text(ex.get("gate"))
    for key, default in (("gate_handling_cny_per_t", math.nan), ("gate_capacity_t", math.inf)):
        try:
            out[key] = parse_float(ex.get(key), default=default)
        except ValueError as exc:
            errors.append(InputError(file, where, key, str(exc)))
            out[key] = default
    for key in ("gate_name", "county", "name_en"):
        out[key] = _text(ex.get(key))
    return out


def _ends(features: Sequence[LineFeature]) -> list[_End]:
    ends: list[_End] = []
    for i, f in enumerate(features):
        last = len(f.parts) - 1
        for k, part in enumerate(f.parts):
            xy = shapely.get_coordinates(part)
            for which, (x, y) in (("start" if k == 0 else "inner", xy[0]),
                                  ("end" if k == last else "inner", xy[-1])):
                ends.append(_End(i, which, float(x), float(y)))
    return ends


def add_lines(  # noqa: C901,PLR0912,PLR0915 -- each added line checked and joined in one pass
    G: nx.Graph,
    gdf: Any,
    *,
    tolerance_km: float,
    snap_m: float = 30.0,
    file: str = "extra lines",
    stations: Iterable[Station] = (),
    piece_base: int = 0,
) -> Added:
    """Add the line features of ``gdf`` to ``G`` IN PLACE, by the rule of the module.

    Parameters
    ----------
    G : networkx.Graph
        One mode's graph (its ``mode`` says which); copy it first to keep the original.
    gdf : geopandas.GeoDataFrame
        Line features with the properties of a line layer and those of this module.
    tolerance_km : float
        ``link_tolerance_km`` of the mode: how far a named (or station) end may be from
        the line it joins.
    snap_m : float
        How near an end must be to a line or a station to join without being named.
    file : str
        Names the source in messages and reports.
    stations : iterable of Station
        Points an end may be drawn to.
    piece_base : int
        First id for the pieces of this call (ids stay unique over several calls).

    Returns
    -------
    Added
        The gate terminals to add to the places, and per piece ``{"file", "features",
        "joins", "names", "freight"}`` for :func:`check_pieces`. Also appends the joins to
        ``G.graph["joins"]``.

    Raises
    ------
    InputErrors
        Bad properties, a named end with no line within the tolerance, a gate with no free
        end or two.
    """
    mode = str(G.graph.get("mode", "road"))
    features = validate_line_frame(gdf, file=file, mode=mode)
    # a file of several modes comes split by mode: number features as in the whole file
    rows = list(getattr(gdf, "index", range(len(features))))
    if all(isinstance(r, int | np.integer) for r in rows):
        features = [dataclasses.replace(f, index=int(rows[f.index - 1]) + 1) for f in features]
    errors: list[InputError] = []
    props = [_props(f, file, errors) for f in features]
    raise_if_any(errors)
    ends = _ends(features)
    labels = _cluster_points(np.array([[e.lon, e.lat] for e in ends]), snap_m)
    clusters: dict[int, list[int]] = {}
    for k, lab in enumerate(labels.tolist()):
        clusters.setdefault(lab, []).append(k)
    locator = EdgeLocator(G, edge_filter=freight_edge if mode == "rail" else None)
    stations = list(stations)
    joins: list[dict[str, Any]] = G.graph.setdefault("joins", [])
    short = PurePath(file).name  # how the report names the file
    node_of: dict[int, int] = {}
    joined: dict[int, dict[str, Any]] = {}
    what = "freight rail line" if mode == "rail" else f"{mode} line"
    for lab, members in clusters.items():
        first = ends[members[0]]
        lon, lat = first.lon, first.lat
        named = [k for k in members if props[ends[k].feature]["join"] is not None
                 and ends[k].which in props[ends[k].feature]["join"]]
        auto = [k for k in members if props[ends[k].feature]["join"] is None
                and ends[k].which != "inner"]
        hit: Hit | None = None
        how = ""
        if named and G.number_of_edges():
            hit = locator.nearest(lon, lat, max_km=tolerance_km)
            if hit is None:
                e = ends[named[0]]
                near = locator.nearest(lon, lat, max_km=max(100.0, 4 * tolerance_km))
                far = (f"the nearest is {near.offset_km:.1f} km away at {near.lon:.6f},"
                       f"{near.lat:.6f} ({line_label(G, near.u, near.v)})" if near
                       else "none within 100 km")
                errors.append(InputError(
                    file, f"feature {features[e.feature].index}", "join",
                    f"its {e.which} ({lon:.6f},{lat:.6f}) is to join the network but no "
                    f"{what} is within link_tolerance_km.{mode} = {tolerance_km:g} km; {far}"))
                continue
            how = f"named in join, {hit.offset_km:.2f} km"
        elif auto and G.number_of_edges():
            hit = locator.nearest(lon, lat, max_km=snap_m / 1000.0)
            if hit is not None:
                how = f"drawn onto the line, {hit.offset_km * 1000:.0f} m"
            else:
                st = next((s for s in stations
                           if point_km(lon, lat, s.lon, s.lat) * 1000.0 <= snap_m), None)
                if st is not None:
                    hit = locator.nearest(lon, lat, max_km=tolerance_km)
                    if hit is not None:
                        how = f"drawn to station {st.name}, {hit.offset_km:.2f} km from the line"
        if hit is not None:
            onto = line_label(G, hit.u, hit.v)
            node_of[lab] = locator.split(hit)
            joined[lab] = {"onto": onto, "how": how, "lon": hit.lon, "lat": hit.lat}
        else:
            node_of[lab] = new_node(G, lon, lat)
    raise_if_any(errors)

    # pieces: features joined among themselves through shared ends
    parent = list(range(len(features)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members in clusters.values():
        for k in members[1:]:
            parent[root(ends[k].feature)] = root(ends[members[0]].feature)
    piece_of = {i: piece_base + root(i) for i in range(len(features))}
    added = Added()
    for i in range(len(features)):
        added.pieces.setdefault(piece_of[i], {"file": file, "features": [], "joins": 0,
                                              "names": [], "freight": False})
    for lab, members in clusters.items():
        if lab in joined:
            added.pieces[piece_of[ends[members[0]].feature]]["joins"] += 1

    # edges, part by part, their ends moved onto the nodes they joined
    end_label = dict(enumerate(labels.tolist()))
    k = 0
    for i, f in enumerate(features):
        p = props[i]
        lengths = [geodesic_km(shapely.get_coordinates(part)) for part in f.parts]
        total = sum(lengths)
        piece = added.pieces[piece_of[i]]
        piece["features"].append(f.index)
        piece["names"].append(f.name)
        piece["freight"] = piece["freight"] or f.freight
        for part, geo_km in zip(f.parts, lengths, strict=True):
            a, b = node_of[end_label[k]], node_of[end_label[k + 1]]
            k += 2
            if a == b:
                continue  # a loop: its two ends joined one point
            coords = shapely.get_coordinates(part).copy()
            coords[0] = (G.nodes[a]["x"], G.nodes[a]["y"])
            coords[-1] = (G.nodes[b]["x"], G.nodes[b]["y"])
            moved = geodesic_km(coords)
            if f.length_km is not None:  # the feature's length, shared by its parts
                km = f.length_km * (geo_km / total if total > 0 else 1.0 / len(f.parts))
                km *= moved / geo_km if geo_km > 0 else 1.0
            else:
                km = moved
            attrs: dict[str, Any] = {"name": f.name, "lines": (), "capacity_t": f.capacity_t,
                                     "freight": f.freight, "commodities": f.commodities,
                                     "added": p["status"], "piece": piece_of[i]}
            if p["users"]:
                attrs["users"] = p["users"]
            add_edge(G, a, b, coords, length_km=km, **attrs)

    # the report, and the gates at free ends
    free_ends: dict[int, list[int]] = {}
    for lab, members in clusters.items():
        if lab not in joined and len(members) == 1 and ends[members[0]].which != "inner":
            free_ends.setdefault(ends[members[0]].feature, []).append(lab)
    for lab, members in clusters.items():
        for k2 in members:
            e = ends[k2]
            if e.which == "inner":
                continue
            f = features[e.feature]
            label = f"{short} feature {f.index} ({f.name or 'unnamed'}) {e.which}"
            if lab in joined:
                j = joined[lab]
                text = (f"{label}: joins {j['onto']} at {j['lon']:.6f},{j['lat']:.6f} "
                        f"({j['how']})")
            elif len(members) > 1:
                text = f"{label}: joins the other added lines ending there"
            else:
                text = f"{label}: free end at {e.lon:.6f},{e.lat:.6f}"
            joins.append({"file": file, "feature": f.index, "name": f.name, "end": e.which,
                          "joined": lab in joined, "text": text})
    for i, f in enumerate(features):
        p = props[i]
        if not p["gate"]:
            continue
        where = f"feature {f.index}"
        free = free_ends.get(i, [])
        if len(free) != 1:
            why = ("both of its ends are free: it joins the network nowhere; "
                   + _how_far(G, locator, features, ends, clusters, free, what)
                   if free else "it has no free end: both ends join the network or other "
                   "added lines; a gate stands at the plant end, which must be free")
            errors.append(InputError(file, where, "gate", f"gate {p['gate']!r}: {why}"))
            continue
        n = G.nodes[node_of[free[0]]]
        name = p["gate_name"] or f"{f.name or p['gate']} 厂内站 (gate)"
        added.gates.append((Place(
            id=p["gate"], name=name, lon=float(n["x"]), lat=float(n["y"]), kind="siding",
            modes=("road", mode), handling_cny_per_t=p["gate_handling_cny_per_t"],
            capacity_t=p["gate_capacity_t"], source=f"{file} feature {f.index}",
            county=p["county"], note="gate of an added line (extra_lines)",
            name_en=f"{p['name_en']} gate" if p["name_en"] else ""), where))
        joins.append({"file": file, "feature": f.index, "name": f.name, "end": "gate",
                      "joined": False,
                      "text": f"{short} feature {f.index} ({f.name or 'unnamed'}): terminal "
                              f"{p['gate']!r} ({name}) made at its free end "
                              f"{n['x']:.6f},{n['y']:.6f}"
                              + (f"; reserved for {', '.join(sorted(p['users']))}"
                                 if p["users"] else "")})
    raise_if_any(errors)
    G.graph["next_node"] = max(int(n) for n in G.nodes) + 1
    return added


def _how_far(
    G: nx.Graph, locator: EdgeLocator, features: Sequence[LineFeature], ends: Sequence[_End],
    clusters: Mapping[int, list[int]], labs: Sequence[int], what: str,
) -> str:
    """How far the ends ``labs`` are from a line, and where, for an error message."""
    parts = []
    for lab in labs:
        e = ends[clusters[lab][0]]
        hit = locator.nearest(e.lon, e.lat, max_km=100.0)
        if hit is None:
            parts.append(f"its {e.which} has no {what} within 100 km")
        else:
            parts.append(f"its {e.which} is {hit.offset_km:.2f} km from "
                         f"{line_label(G, hit.u, hit.v)} (nearest point {hit.lon:.6f},"
                         f"{hit.lat:.6f})")
    return ("; ".join(parts) + "; draw an end onto the line (within snap_m), or name it in "
            "join = start or end")


def check_pieces(
    graphs: Mapping[str, nx.Graph], pieces: Mapping[int, dict[str, Any]],
    links: Mapping[str, Mapping[str, Link]],
) -> list[InputError]:
    """Every added freight piece joined to the network or to places at two points at least.

    A place counts when its link node is an end of an edge of the piece (places are joined
    after the lines, so a gate or a terminal drawn at a free end is one).
    """
    touching: dict[int, set[str]] = {}
    for pid, lk in links.items():
        for mode, link in lk.items():
            G = graphs.get(mode)
            if G is None or link.node not in G:
                continue
            for _, _, d in G.edges(link.node, data=True):
                if "piece" in d:
                    touching.setdefault(int(d["piece"]), set()).add(pid)
    errors = []
    for k, piece in pieces.items():
        if not piece["freight"]:
            continue  # a passenger-only line carries nothing: nothing to check
        places = touching.get(k, set())
        access = piece["joins"] + len(places)
        if access >= 2:
            continue
        names = ", ".join(dict.fromkeys(n for n in piece["names"] if n)) or "unnamed"
        feats = ", ".join(map(str, piece["features"]))
        where = f"feature {feats}" if len(piece["features"]) == 1 else f"features {feats}"
        if piece["joins"] == 0 and not places:
            why = "joins the network nowhere and no place is joined to it"
        elif piece["joins"]:
            why = "joins the network at one point only and no place is joined to it (a dead end)"
        else:
            why = f"joins the network nowhere; only place {next(iter(places))!r} is joined to it"
        errors.append(InputError(
            piece["file"], where, "geometry",
            f"line {names} {why}, so nothing could use it; a siding needs `gate` (a terminal "
            "made at its free end) and one end on the network (within snap_m of a line or a "
            "station, or named in `join`); see `freight validate` for where its ends are"))
    return errors


def base_network(network: Network) -> Network:
    """The network without its planned added lines: the "before" picture.

    Edges with ``added == "planned"`` are removed (nodes stay, so node ids and every other
    edge are the network's own); a place keeps a link only where its node still has an
    edge -- a terminal on a planned siding, or the siding's gate, has no link to that mode
    before. Returns ``network`` itself when it has no planned lines.
    """
    graphs = dict(network.graphs)
    changed = set()
    for mode, G in network.graphs.items():
        planned = [(u, v) for u, v, d in G.edges(data=True) if d.get("added") == "planned"]
        if planned:
            H = G.copy()
            H.remove_edges_from(planned)
            graphs[mode] = H
            changed.add(mode)
    if not changed:
        return network
    links = {
        pid: {m: lk for m, lk in by_mode.items()
              if m not in changed or graphs[m].degree(lk.node) > 0}
        for pid, by_mode in network.links.items()
    }
    return dataclasses.replace(network, graphs=graphs, links=links)


def reserved_lines(network: Network) -> dict[str, list[str]]:
    """User name -> the names of the reserved lines (``users``) that list it."""
    out: dict[str, list[str]] = {}
    for G in network.graphs.values():
        for _, _, d in G.edges(data=True):
            for user in d.get("users") or ():
                names = out.setdefault(user, [])
                if d.get("name", "") not in names:
                    names.append(d.get("name", ""))
    return out


def stations_of(
    rail_lines: Mapping[str, Any] | None, places: Iterable[Place], mode: str,
) -> list[Station]:
    """The points an added line of ``mode`` may be drawn to: named-line stations (rail)
    and places claiming the mode."""
    out = [Station(p.name or p.id, p.lon, p.lat) for p in places if mode in p.modes]
    if mode == "rail" and rail_lines:
        out += [Station(s.name, s.lon, s.lat) for ln in rail_lines.values() for s in ln.stations]
    return out


__all__ = ["MODES", "Added", "Station", "add_lines", "base_network", "check_pieces",
           "reserved_lines", "stations_of"]
