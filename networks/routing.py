"""Shortest routes on the loaded network, and a summary of it.

Rail routes use only edges that carry freight (``freight=True``); pipeline routes only
the pipeline graph. Routes include the link offsets (place to line) in their km.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

from networks._errors import InputError
from networks._types import MODES, Network
from networks.graph import KM_AT, edge_coords_from, km_along, total_km
from networks.places import freight_edge
from networks.snapping import EdgeLocator


@dataclass(frozen=True)
class Route:
    """A route: total km (with link offsets), nodes, named lines in order, geometry."""

    km: float
    mode: str
    nodes: list[int]
    lines: list[str] = field(default_factory=list)
    geometry: LineString | None = None


@dataclass(frozen=True)
class _Anchor:
    """A way onto the graph: reach ``node`` after ``km``, drawn by ``coords`` (end -> node)."""

    node: int
    km: float
    coords: np.ndarray
    edge: tuple[int, int] | None = None  # the edge a lon,lat point lies on
    along_km: float = 0.0  # km from the smaller node of that edge to the point


def _weight_for(mode: str, weight: str) -> Callable[[int, int, dict[str, Any]], float | None]:
    def w(_u: int, _v: int, d: dict[str, Any]) -> float | None:
        if mode == "rail" and not d.get("freight", True):
            return None
        return float(d[weight])

    return w


def _names_en(network: Network) -> dict[str, str]:
    road = network.graphs.get("road")
    return dict(road.graph.get("place_name_en", {})) if road is not None else {}


def _base_name(name: str) -> str:
    """``"日照港 (石臼)"`` -> ``"日照港"``: the name without its parenthesised detail."""
    return name.split(" (")[0].split("（")[0].strip()


def resolve_place(network: Network, key: str) -> str | None:
    """Place id for an id, a Chinese ``name`` or a ``name_en`` (exact), else for a name
    without its parenthesised detail (``日照港`` for ``日照港 (石臼)``); None if none.

    Raises
    ------
    InputError
        The short name fits more than one place.
    """
    if key in network.places:
        return key
    names_en = _names_en(network)
    for pid, p in network.places.items():
        if key in (p.name, p.name_en, names_en.get(pid)):
            return pid
    hits = [
        pid for pid, p in network.places.items()
        if key in (_base_name(p.name), _base_name(p.name_en or names_en.get(pid, "")))
    ]
    if len(hits) > 1:
        raise InputError("route", key, "place",
                         f"ambiguous: fits {', '.join(sorted(hits))}; give the id")
    return hits[0] if hits else None


def _anchors(network: Network, key: str, mode: str) -> list[_Anchor]:
    G = network.graphs[mode]
    pid = resolve_place(network, key)
    if pid is not None:
        p = network.places[pid]
        link = network.links.get(pid, {}).get(mode)
        if link is not None:
            n = G.nodes[link.node]
            return [_Anchor(link.node, link.offset_km,
                            np.array([[p.lon, p.lat], [n["x"], n["y"]]]))]
        # a place without a terminal of this mode (a city asked for by rail): measure
        # from its point to the nearest line of the mode, as for a "lon,lat" query
        lon, lat = p.lon, p.lat
    else:
        try:
            lon_s, lat_s = key.split(",")
            lon, lat = float(lon_s), float(lat_s)
        except ValueError:
            raise InputError("route", key, "place",
                             "not a place id, name, name_en or 'lon,lat'") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("route", key, "place", "lon,lat out of range")
    locator = _locator(G, mode)
    hit = locator.nearest(lon, lat, max_km=200.0)
    if hit is None:
        raise InputError("route", key, "place", f"no {mode} line within 200 km")
    d = G.edges[hit.u, hit.v]
    coords = shapely.get_coordinates(d["geometry"])
    q = np.array([hit.lon, hit.lat])
    first = np.vstack([coords[: hit.seg + 1], q])
    second = np.vstack([q, coords[hit.seg + 1:]])
    # the given km of the stretch the point is on (KM_AT), else the edge's geodesic share
    along = km_along(coords, float(d["length_km"]), d.get(KM_AT) or (), hit.seg, hit.t)
    start = np.array([[lon, lat], [hit.lon, hit.lat]])
    return [
        _Anchor(hit.u, hit.offset_km + along, np.vstack([start, first[::-1][1:]]),
                (hit.u, hit.v), along),
        _Anchor(hit.v, hit.offset_km + float(d["length_km"]) - along,
                np.vstack([start, second[1:]]), (hit.u, hit.v), along),
    ]


_LOCATORS: weakref.WeakKeyDictionary[nx.Graph, EdgeLocator] = weakref.WeakKeyDictionary()


def _locator(G: nx.Graph, mode: str) -> EdgeLocator:
    """A spatial index of ``G`` kept beside it (never stored in the graph or the cache)."""
    loc = _LOCATORS.get(G)
    if loc is None:
        loc = EdgeLocator(G, edge_filter=freight_edge if mode == "rail" else None)
        _LOCATORS[G] = loc
    return loc


def route(
    network: Network,
    origin: str,
    destination: str,
    *,
    mode: str,
    weight: str = "length_km",
) -> Route:
    """Shortest route between two places (ids, names, name_en) or ``"lon,lat"`` points.

    Parameters
    ----------
    network : Network
    origin, destination : str
        Place id, Chinese name, English name (exact), or ``"lon,lat"``; a point is
        joined ad hoc to the nearest point on a line, without changing the graph.
    mode : {"road", "rail", "pipeline"}
    weight : str
        Edge length attribute.

    Returns
    -------
    Route

    Raises
    ------
    InputError
        Unknown place or mode, place not linked to the mode, or no route.
    """
    if mode not in MODES or mode not in network.graphs:
        raise InputError("route", "mode", "mode", f"unknown mode {mode!r}; expected {MODES}")
    G = network.graphs[mode]
    wfun = _weight_for(mode, weight)
    best: tuple[float, list[int], _Anchor, _Anchor] | None = None
    origins = _anchors(network, origin, mode)
    dests = _anchors(network, destination, mode)
    for a in origins:
        for b in dests:
            if a.node == b.node:
                cand: tuple[float, list[int]] = (0.0, [a.node])
            else:
                try:
                    km, nodes = nx.bidirectional_dijkstra(G, a.node, b.node, weight=wfun)
                except nx.NetworkXNoPath:
                    continue
                cand = (float(km), list(nodes))
            total = a.km + cand[0] + b.km
            if best is None or total < best[0]:
                best = (total, cand[1], a, b)
    same = _same_edge(origins, dests, mode)
    if best is None and same is None:
        raise InputError("route", f"{origin} -> {destination}", "mode", f"no {mode} route")
    if same is not None and (best is None or same[0] < best[0]):
        return same[1]
    assert best is not None
    total, nodes, a, b = best
    parts = [a.coords]
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        parts.append(edge_coords_from(G, u, v))
    parts.append(b.coords[::-1])
    coords = np.vstack(parts)
    keep = np.concatenate([[True], np.any(np.diff(coords, axis=0) != 0, axis=1)])
    coords = coords[keep]
    if len(coords) < 2:
        coords = np.vstack([coords, coords])
    return Route(km=total, mode=mode, nodes=nodes, lines=_route_lines(G, nodes),
                 geometry=LineString(coords))


def _same_edge(
    origins: list[_Anchor], dests: list[_Anchor], mode: str
) -> tuple[float, Route] | None:
    """Both ends on one edge: the direct way along it."""
    a, b = origins[0], dests[0]
    if a.edge is None or a.edge != b.edge:
        return None
    # origins[0] is the anchor at the edge's first node: its km = offset + along.
    off_a, off_b = a.km - a.along_km, b.km - b.along_km
    km = off_a + abs(a.along_km - b.along_km) + off_b
    geom = LineString([a.coords[0], a.coords[1], b.coords[1], b.coords[0]])
    return km, Route(km=km, mode=mode, nodes=[], lines=[], geometry=geom)


def _route_lines(G: nx.Graph, nodes: list[int]) -> list[str]:
    out: list[str] = []
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        ids = G.edges[u, v].get("lines", ())
        if not ids or (out and out[-1] in ids):
            continue
        out.append(ids[0])
    return out


def summarize(network: Network) -> dict[str, Any]:
    """Per mode: ``nodes``, ``edges``, ``km``, ``components``, ``places_linked``.

    Returns
    -------
    dict
        ``{"road": {...}, "rail": {...}, "pipeline": {...}, "places": n,
        "rail_lines": [per-line match report]}``.
    """
    out: dict[str, Any] = {}
    for mode in MODES:
        G = network.graphs.get(mode, nx.Graph())
        out[mode] = {
            "nodes": G.number_of_nodes(),
            "edges": G.number_of_edges(),
            "km": round(total_km(G), 1),
            "components": nx.number_connected_components(G) if len(G) else 0,
            "places_linked": sum(1 for lk in network.links.values() if mode in lk),
        }
    rail = network.graphs.get("rail")
    out["places"] = len(network.places)
    out["rail_lines"] = list(rail.graph.get("line_matches", [])) if rail is not None else []
    return out


def km_or_inf(network: Network, origin: str, destination: str, *, mode: str) -> float:
    """Route km, or ``math.inf`` when there is no route."""
    try:
        return route(network, origin, destination, mode=mode).km
    except InputError:
        return math.inf
