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
from shapely.geometry import box

from networks._errors import InputError, raise_if_any
from networks.graph import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQ, EdgeLocator, local_xy
from networks.io import parse_bool, parse_float, point_km, read_table


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
        heads[lid] = {"name_zh": row["name_zh"], "name_en": row.get("name_en", ""),
                      "capacity_t": cap, "freight": freight, "kind": row.get("kind", ""),
                      "source": row.get("source", ""), "stations": []}
    for line, row in read_table(sf, required=("line_id", "seq", "station", "lon", "lat")):
        where = f"row {line}"
        lid = row["line_id"]
        if lid not in heads:
            errors.append(InputError(sf, where, "line_id", f"line {lid!r} is not in {lf}"))
            continue
        vals: dict[str, float] = {}
        for key, lo, hi in (("seq", -math.inf, math.inf), ("lon", -180, 180), ("lat", -90, 90)):
            try:
                vals[key] = parse_float(row.get(key), default=math.nan, minimum=None)
                if not lo <= vals[key] <= hi:
                    raise ValueError(f"{vals[key]:g} out of range [{lo:g}, {hi:g}]")
            except ValueError as exc:
                errors.append(InputError(sf, where, key, str(exc)))
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
                      source=h["source"],
                      stations=tuple(sorted(h["stations"], key=lambda s: s.seq)))
        for lid, h in heads.items()
    }


def match_lines(
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
    nodes: dict[str, list[tuple[Station, int | None]]] = {}
    for lid, ln in lines.items():
        m = LineMatch(lid, ln.name_zh)
        for a, b in zip(ln.stations[:-1], ln.stations[1:], strict=True):
            m.great_circle_km += point_km(a.lon, a.lat, b.lon, b.lat)
        got = []
        for s in ln.stations:
            link = locator.link(s.lon, s.lat, max_km=tolerance_km)
            if link is None:
                hit = locator.nearest(s.lon, s.lat, max_km=50.0)
                far = f"{hit.offset_km:.1f} km" if hit else "over 50 km"
                m.unmatched_stations.append(f"{s.name} ({far} from a rail line)")
            got.append((s, None if link is None else link[0]))
        nodes[lid] = got
        matches.append(m)
    edges = list(G.edges)
    geoms = np.array([G.edges[e]["geometry"] for e in edges], dtype=object)
    tree = shapely.STRtree(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    tags: dict[tuple[int, int], list[str]] = {}
    for m in matches:
        linked = [(s, n) for s, n in nodes[m.line_id] if n is not None]
        for (sa, na), (sb, nb) in zip(linked[:-1], linked[1:], strict=True):
            assert na is not None and nb is not None
            path = _corridor_path(G, na, nb, sa, sb, edges, tree, coords, owner,
                                  corridor_km=corridor_km, corridor_share=corridor_share,
                                  weight=weight)
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
        d["freight"] = bool(d.get("freight", True)) and bool(freight_ids)
    G.graph["line_matches"] = [m.as_dict() for m in matches]
    return matches


def _corridor_path(
    G: nx.Graph, na: int, nb: int, sa: Station, sb: Station, edges: list[tuple[int, int]],
    tree: shapely.STRtree, coords: np.ndarray, owner: np.ndarray, *,
    corridor_km: float, corridor_share: float, weight: str,
) -> list[int] | None:
    if na == nb:
        return [na]
    lat0 = (sa.lat + sb.lat) / 2.0
    seg_km = point_km(sa.lon, sa.lat, sb.lon, sb.lat)
    scale = max(corridor_km, corridor_share * seg_km)
    p = local_xy(np.array([[sa.lon, sa.lat], [sb.lon, sb.lat]]), lat0)
    for widen in (1.0, 3.0):
        margin = widen * max(15.0, 0.5 * seg_km)
        dlat = margin / KM_PER_DEG_LAT
        dlon = margin / (KM_PER_DEG_LON_EQ * math.cos(math.radians(lat0)))
        window = box(min(sa.lon, sb.lon) - dlon, min(sa.lat, sb.lat) - dlat,
                     max(sa.lon, sb.lon) + dlon, max(sa.lat, sb.lat) + dlat)
        cand = tree.query(window)
        if len(cand) == 0:
            continue
        mask = np.isin(owner, cand)
        xy = local_xy(coords[mask], lat0)
        d = _distance_to_segment(xy, p[0], p[1])
        idx = owner[mask]
        sums = np.bincount(idx, weights=d, minlength=len(edges))
        counts = np.bincount(idx, minlength=len(edges))
        w: dict[tuple[int, int], float] = {}
        for k in cand:
            u, v = edges[int(k)]
            mean = sums[k] / max(counts[k], 1)
            w[(min(u, v), max(u, v))] = float(G.edges[u, v][weight]) * (1 + (mean / scale) ** 2)

        def cost(u: int, v: int, _d: dict[str, Any], w: dict[tuple[int, int], float] = w
                 ) -> float | None:
            return w.get((min(u, v), max(u, v)))

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
