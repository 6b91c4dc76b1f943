"""Named rail lines: match a table of lines and their ordered stations onto the rail graph.

OpenStreetMap-derived rail geometry carries no names, capacities or passenger/freight
status. ``rail_lines.csv`` and ``rail_line_stations.csv`` give them: each line's
stations in order, with coordinates. Each station is joined to the rail graph at the
nearest point on a line (the edge is split there, as for places); then, for each
consecutive pair of stations, the line is taken to follow the path between their
nodes that minimises ``length * (1 + (d / s) ** 2)``, where ``d`` is the mean distance
of an edge's vertices from the straight segment between the two stations and
``s = max(corridor_km, corridor_share * segment km)``. The penalty keeps the match in
the corridor, so a high-speed line and a conventional line a few km apart are told
apart (their stations also sit at different points). Only edges near the segment are
considered (an STRtree window around it, widened once if no path is found).

Matched edges get the line id appended to ``lines``; ``name`` becomes the Chinese
name(s) of the lines on them (joined with "/"), ``capacity_t`` the smallest capacity
of those lines (and of the edge's own), and ``freight`` turns False where only
passenger (``freight=false``) lines were matched.

Untagged rail edges keep the layer's values, which for the OSM-derived layer are the
defaults: ``freight=True``, ``capacity_t=inf``, ``name=""``. Freight is the normal use
of a conventional track nobody listed, and an unknown capacity is better left
unconstrained than invented; the named lines carry the capacities that bind.

Stations further than ``tolerance_km`` from any rail line are reported (not raised):
the match skips them and joins their neighbours.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import shapely

from networks._errors import InputError, raise_if_any
from networks.graph import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQ
from networks.io import lonlat_problem, parse_bool, parse_float, point_km, read_table
from networks.snapping import EdgeLocator, local_xy


@dataclass(frozen=True)
class Station:
    """A station of a named line, in order (``seq``)."""

    seq: int
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class RailLine:
    """A named railway line with its ordered stations."""

    line_id: str
    name_zh: str
    name_en: str = ""
    capacity_t: float = math.inf
    freight: bool = True
    kind: str = ""
    source: str = ""
    stations: tuple[Station, ...] = ()
    trains_per_day: float = math.nan
    train_net_t: float = math.nan


def _operating_capacity(
    file: str, where: str, row: dict[str, Any], cap: float, errors: list[InputError]
) -> tuple[float, float, float]:
    """Capacity from operating units: ``trains_per_day`` (freight paths per day per
    direction) × ``train_net_t`` (net tonnes a train) × 365, as DOMAIN.md states it.

    Both columns are optional. With ``capacity_t`` blank they give it; with all three
    given they must agree within 1 %.
    """
    vals: dict[str, float] = {}
    for key in ("trains_per_day", "train_net_t"):
        try:
            vals[key] = parse_float(row.get(key), default=math.nan)
        except ValueError as exc:
            errors.append(InputError(file, where, key, str(exc)))
            vals[key] = math.nan
        if vals[key] < 0:
            errors.append(InputError(file, where, key, f"expected a number >= 0, got {vals[key]}"))
    tpd, net = vals["trains_per_day"], vals["train_net_t"]
    if math.isnan(tpd) or math.isnan(net):
        return cap, tpd, net
    implied = 365.0 * tpd * net
    if math.isinf(cap):
        return implied, tpd, net
    if abs(implied - cap) > 0.01 * max(cap, 1.0):
        errors.append(InputError(
            file, where, "capacity_t",
            f"{cap:,.0f} t/yr disagrees with trains_per_day × train_net_t × 365 = "
            f"{implied:,.0f}; give one or make them agree"))
    return cap, tpd, net


@dataclass
class LineMatch:
    """How well a line matched: km on the graph vs. station-to-station great-circle km."""

    line_id: str
    name: str
    matched_km: float = 0.0
    great_circle_km: float = 0.0
    unmatched_stations: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    segments: list[tuple[str, str, float, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """``matched_km / great_circle_km`` (nan for a line with no length)."""
        return self.matched_km / self.great_circle_km if self.great_circle_km > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON and the graph's ``line_matches``)."""
        return {
            "line_id": self.line_id, "name": self.name,
            "matched_km": round(self.matched_km, 1),
            "great_circle_km": round(self.great_circle_km, 1),
            "ratio": round(self.ratio, 3) if not math.isnan(self.ratio) else None,
            "unmatched_stations": list(self.unmatched_stations), "gaps": list(self.gaps),
            "segments": [[a, b, round(km, 1), round(gc, 1)] for a, b, km, gc in self.segments],
        }


def read_rail_lines(
    lines_path: str | os.PathLike[str],
    stations_path: str | os.PathLike[str],
) -> dict[str, RailLine]:
    """Read ``rail_lines.csv`` and ``rail_line_stations.csv``.

    Returns
    -------
    dict[str, RailLine]
        By line id, stations sorted by ``seq``.

    Raises
    ------
    InputErrors
        Bad numbers or booleans, duplicate line ids, stations of unknown lines,
        coordinates out of range, lines with fewer than two stations.
    """
    errors: list[InputError] = []
    lf, sf = str(lines_path), str(stations_path)
    heads: dict[str, dict[str, Any]] = {}
    for line, row in read_table(lf, required=("line_id", "name_zh", "capacity_t", "freight")):
        where = f"row {line}"
        lid = row["line_id"]
        if not lid:
            errors.append(InputError(lf, where, "line_id", "blank line id"))
            continue
        if lid in heads:
            errors.append(InputError(lf, where, "line_id", f"duplicate line id {lid!r}"))
            continue
        try:
            cap = parse_float(row.get("capacity_t"), default=math.inf)
        except ValueError as exc:
            errors.append(InputError(lf, where, "capacity_t", str(exc)))
            cap = math.inf
        try:
            freight = parse_bool(row.get("freight"), default=True)
        except ValueError as exc:
            errors.append(InputError(lf, where, "freight", str(exc)))
            freight = True
        cap, tpd, net = _operating_capacity(lf, where, row, cap, errors)
        heads[lid] = {"name_zh": row["name_zh"], "name_en": row.get("name_en", ""),
                      "capacity_t": cap, "freight": freight, "kind": row.get("kind", ""),
                      "source": row.get("source", ""), "stations": [],
                      "trains_per_day": tpd, "train_net_t": net}
    for line, row in read_table(sf, required=("line_id", "seq", "station", "lon", "lat")):
        where = f"row {line}"
        lid = row["line_id"]
        if lid not in heads:
            errors.append(InputError(sf, where, "line_id", f"line {lid!r} is not in {lf}"))
            continue
        vals: dict[str, float] = {}
        for key in ("seq", "lon", "lat"):
            try:
                vals[key] = parse_float(row.get(key), default=math.nan, minimum=None)
            except ValueError as exc:
                errors.append(InputError(sf, where, key, str(exc)))
        if "lon" in vals and "lat" in vals:
            why = lonlat_problem(vals["lon"], vals["lat"])
            if why is not None:
                errors.append(InputError(sf, where, "lon/lat", why))
                del vals["lon"]
        if len(vals) == 3 and not any(math.isnan(v) for v in vals.values()):
            heads[lid]["stations"].append(
                Station(int(vals["seq"]), row["station"], vals["lon"], vals["lat"]))
    for lid, h in heads.items():
        if len(h["stations"]) < 2:
            errors.append(InputError(sf, "table", "line_id",
                                     f"line {lid!r} has {len(h['stations'])} station(s), "
                                     "needs at least 2"))
    raise_if_any(errors)
    return {
        lid: RailLine(line_id=lid, name_zh=h["name_zh"], name_en=h["name_en"],
                      capacity_t=h["capacity_t"], freight=h["freight"], kind=h["kind"],
                      trains_per_day=h["trains_per_day"], train_net_t=h["train_net_t"],
                      source=h["source"],
                      stations=tuple(sorted(h["stations"], key=lambda s: s.seq)))
        for lid, h in heads.items()
    }


def match_lines(  # noqa: C901,PLR0912,PLR0915 -- the matching of a line's stations, kept whole
    G: nx.Graph,
    lines: Mapping[str, RailLine],
    *,
    tolerance_km: float = 5.0,
    corridor_km: float = 2.0,
    corridor_share: float = 0.25,
    max_detour: float = 1.8,
    max_detour_passenger: float = 1.3,
    weight: str = "length_km",
) -> list[LineMatch]:
    """Match named lines onto the rail graph IN PLACE and tag the edges they follow.

    Parameters
    ----------
    G : networkx.Graph
        The rail graph; edges are split at stations and tagged.
    lines : mapping of line id -> RailLine
    tolerance_km : float
        Stations further than this from any rail line are skipped and reported.
    corridor_km, corridor_share : float
        The corridor scale ``s`` of the penalty (see the module docstring).
    max_detour, max_detour_passenger : float
        A station-to-station path longer than this many times the straight line
        (+5 km) is taken to be a detour over other tracks -- the line is missing from
        the geometry there -- and is reported as a gap, not tagged. Passenger-only
        lines (high-speed, built straight) get the tighter limit, so that an HSR line
        absent from the geometry never marks a conventional track freight=False.
    weight : str
        Edge length attribute.

    Returns
    -------
    list of LineMatch
        One per line, also stored as dicts in ``G.graph["line_matches"]``; the line
        table itself goes to ``G.graph["rail_lines"]`` (id -> name, capacity, freight).
    """
    matches: list[LineMatch] = []
    G.graph["rail_lines"] = {
        lid: {"name": ln.name_zh, "name_en": ln.name_en, "capacity_t": ln.capacity_t,
              "freight": ln.freight, "kind": ln.kind}
        for lid, ln in lines.items()
    }
    if G.number_of_edges() == 0:
        G.graph["line_matches"] = []
        return matches
    locator = EdgeLocator(G)
    every = [s for ln in lines.values() for s in ln.stations]
    keeps = iter(locator.candidates([s.lon for s in every], [s.lat for s in every],
                                    max_km=tolerance_km))
    nodes: dict[str, list[tuple[Station, int | None]]] = {}
    for lid, ln in lines.items():
        m = LineMatch(lid, ln.name_zh)
        for a, b in zip(ln.stations[:-1], ln.stations[1:], strict=True):
            m.great_circle_km += point_km(a.lon, a.lat, b.lon, b.lat)
        got = []
        for s in ln.stations:
            link = locator.link_from(next(keeps), s.lon, s.lat, max_km=tolerance_km)
            if link is None:
                hit = locator.nearest(s.lon, s.lat, max_km=50.0)
                far = f"{hit.offset_km:.1f} km" if hit else "over 50 km"
                m.unmatched_stations.append(f"{s.name} ({far} from a rail line)")
            got.append((s, None if link is None else link[0]))
        nodes[lid] = got
        matches.append(m)
    index = _EdgeIndex(G, weight)
    tags: dict[tuple[int, int], list[str]] = {}
    # the graph does not change while paths are sought: lines sharing a station pair
    # share its path
    found: dict[tuple[int, int, float, float, float, float], list[int] | None] = {}
    todo: dict[tuple[int, int, float, float, float, float], tuple[Station, Station]] = {}
    for m in matches:
        linked = [(s, n) for s, n in nodes[m.line_id] if n is not None]
        for (sa, na), (sb, nb) in zip(linked[:-1], linked[1:], strict=True):
            assert na is not None and nb is not None
            if na != nb:
                todo.setdefault((na, nb, sa.lon, sa.lat, sb.lon, sb.lat), (sa, sb))
    firsts = dict(zip(todo, _window_candidates(index, list(todo.values())), strict=True))
    for m in matches:
        linked = [(s, n) for s, n in nodes[m.line_id] if n is not None]
        for (sa, na), (sb, nb) in zip(linked[:-1], linked[1:], strict=True):
            assert na is not None and nb is not None
            key = (na, nb, sa.lon, sa.lat, sb.lon, sb.lat)
            if key not in found:
                found[key] = _corridor_path(G, na, nb, sa, sb, index, corridor_km=corridor_km,
                                            corridor_share=corridor_share,
                                            first=firsts.get(key))
            path = found[key]
            gc = point_km(sa.lon, sa.lat, sb.lon, sb.lat)
            if path is None:
                m.gaps.append(f"{sa.name}–{sb.name}: no rail path")
                continue
            steps = list(zip(path[:-1], path[1:], strict=True))
            km = sum(float(G.edges[u, v][weight]) for u, v in steps)
            m.segments.append((sa.name, sb.name, km, gc))
            limit = max_detour if lines[m.line_id].freight else max_detour_passenger
            if gc > 0 and km > limit * gc + 5.0:
                m.gaps.append(f"{sa.name}–{sb.name}: best path {km:.0f} km is more than "
                              f"{limit:g} x the {gc:.0f} km straight line; not tagged")
                continue
            m.matched_km += km
            for u, v in zip(path[:-1], path[1:], strict=True):
                tag = tags.setdefault((min(u, v), max(u, v)), [])
                if m.line_id not in tag:
                    tag.append(m.line_id)
    for e, lids in tags.items():
        d = G.edges[e]
        all_ids = tuple(dict.fromkeys((*d.get("lines", ()), *lids)))
        freight_ids = tuple(i for i in all_ids if i in lines and lines[i].freight)
        # Track that a freight line was matched onto is freight track: a passenger line
        # matched there too shares it (or is absent from the geometry and was drawn onto
        # it), so it names nothing and its capacity (none for freight) does not apply.
        ids = freight_ids or all_ids
        d["lines"] = ids
        d["name"] = "/".join(dict.fromkeys(lines[i].name_zh for i in ids if i in lines))
        caps = [lines[i].capacity_t for i in freight_ids]
        d["capacity_t"] = min([float(d.get("capacity_t", math.inf)), *caps])
        # the train load of the line that sets the capacity: one more daily train path
        # is worth shadow price × train_net_t × 365 (reported with the bottlenecks)
        tight = [lines[i] for i in freight_ids if lines[i].capacity_t == d["capacity_t"]]
        loads = [ln.train_net_t for ln in tight if not math.isnan(ln.train_net_t)]
        if loads:
            d["train_net_t"] = loads[0]
        d["freight"] = bool(d.get("freight", True)) and bool(freight_ids)
    G.graph["line_matches"] = [m.as_dict() for m in matches]
    return matches


class _EdgeIndex:
    """The rail edges as arrays for the corridor search: an STRtree, every edge's vertices
    back to back (``start``/``stop`` per edge), its length and its ``(u, v)`` both ways."""

    def __init__(self, G: nx.Graph, weight: str) -> None:
        data = list(G.edges(data=True))
        self.keys = [(u, v) for u, v, _ in data]
        geoms = np.array([d["geometry"] for _, _, d in data], dtype=object)
        self.length = np.array([float(d[weight]) for _, _, d in data], dtype=float)
        self.tree = shapely.STRtree(geoms)
        self.coords, owner = shapely.get_coordinates(geoms, return_index=True)
        counts = np.bincount(owner, minlength=len(data))
        self.stop = np.cumsum(counts)
        self.start = self.stop - counts

    def vertices(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates of the edges ``cand`` (in ascending edge order), the position in
        ``cand`` of each vertex's edge, and how many vertices each edge has."""
        order = np.argsort(cand, kind="stable")
        srt = cand[order]
        n = self.stop[srt] - self.start[srt]
        first = np.cumsum(n) - n
        at = np.arange(int(n.sum())) - np.repeat(first - self.start[srt], n)
        return self.coords[at], np.repeat(order, n), n[np.argsort(order)]


def _window(sa: Station, sb: Station, widen: float) -> tuple[float, float, float, float]:
    """The box around two stations searched for their path (``widen`` x the margin)."""
    lat0 = (sa.lat + sb.lat) / 2.0
    seg_km = point_km(sa.lon, sa.lat, sb.lon, sb.lat)
    margin = widen * max(15.0, 0.5 * seg_km)
    dlat = margin / KM_PER_DEG_LAT
    dlon = margin / (KM_PER_DEG_LON_EQ * math.cos(math.radians(lat0)))
    return (min(sa.lon, sb.lon) - dlon, min(sa.lat, sb.lat) - dlat,
            max(sa.lon, sb.lon) + dlon, max(sa.lat, sb.lat) + dlat)


def _window_candidates(
    index: _EdgeIndex, pairs: list[tuple[Station, Station]]
) -> list[np.ndarray]:
    """The edges in each pair's first window, all queried at once (same edges, same order
    as one query per window)."""
    if not pairs:
        return []
    boxes = np.array([_window(sa, sb, 1.0) for sa, sb in pairs], dtype=float)
    who, cand = index.tree.query(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2],
                                             boxes[:, 3]))
    order = np.argsort(who, kind="stable")
    who, cand = who[order], cand[order]
    bounds = np.searchsorted(who, np.arange(len(pairs) + 1))
    return [cand[bounds[i]:bounds[i + 1]] for i in range(len(pairs))]


def _corridor_path(  # noqa: PLR0913 -- a matched line's parts
    G: nx.Graph, na: int, nb: int, sa: Station, sb: Station, index: _EdgeIndex, *,
    corridor_km: float, corridor_share: float, first: np.ndarray | None = None,
) -> list[int] | None:
    if na == nb:
        return [na]
    lat0 = (sa.lat + sb.lat) / 2.0
    seg_km = point_km(sa.lon, sa.lat, sb.lon, sb.lat)
    scale = max(corridor_km, corridor_share * seg_km)
    p = local_xy(np.array([[sa.lon, sa.lat], [sb.lon, sb.lat]]), lat0)
    for widen in (1.0, 3.0):
        if widen == 1.0 and first is not None:
            cand = first
        else:
            cand = index.tree.query(shapely.box(*_window(sa, sb, widen)))
        if len(cand) == 0:
            continue
        coords, pos, counts = index.vertices(cand)
        d = _distance_to_segment(local_xy(coords, lat0), p[0], p[1])
        # per edge, its vertices' distances summed in vertex order (as bincount always did)
        sums = np.bincount(pos, weights=d, minlength=len(cand))
        mean = (sums / np.maximum(counts, 1)).tolist()
        # (x / s) ** 2 in Python floats, as before: pow() and x * x differ in the last bit
        cost_of = [ln * (1 + (m / scale) ** 2)
                   for ln, m in zip(index.length[cand].tolist(), mean, strict=True)]
        w: dict[tuple[int, int], float] = {}
        keys = index.keys
        for k, c in zip(cand.tolist(), cost_of, strict=True):
            u, v = keys[k]
            w[(u, v)] = c
            w[(v, u)] = c

        def cost(u: int, v: int, _d: dict[str, Any], w: dict[tuple[int, int], float] = w
                 ) -> float | None:
            return w.get((u, v))

        try:
            return list(nx.dijkstra_path(G, na, nb, weight=cost))
        except nx.NetworkXNoPath:
            continue
    return None


def _distance_to_segment(xy: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    denom = float(ab @ ab)
    t = np.zeros(len(xy)) if denom == 0 else np.clip(((xy - a) @ ab) / denom, 0.0, 1.0)
    q = a + t[:, None] * ab
    return np.hypot(xy[:, 0] - q[:, 0], xy[:, 1] - q[:, 1])
