"""Topology of line layers: where the graph built from them misses a junction or
mis-measures a line.

:func:`networks.graph.build_graph` joins two lines only where an END point of one lies
within ``snap_m`` of an END point of the other. So a junction the data means but does
not draw that way is lost, and routes go round it. Five checks find what to look at
(:func:`check_lines` runs them all on one layer; :func:`check_config` on every layer
of a scenario, which is what ``freight networks --check`` prints):

- **near-miss dead end**: an end point no other line shares (within ``snap_m``) that
  lies within ``near_m`` of another line: a junction the data probably means (a road
  ending on another, drawn a few metres short, or a node the source rounded away), or a
  line that really stops beside another (a terminus next to a through line);
- **crossing without a junction**: two lines whose interiors meet at points (cross or
  touch) away from an end point they share: a bridge or tunnel where the lines are
  grade-separated, a missed junction where they are not. Geometry alone cannot tell
  which, so the check lists them and leaves the judgement to whoever knows the place.
  Two lines sharing a whole stretch (overlapping: one track or road drawn twice) are
  listed with them, as kind ``"overlap"``;
- **self-intersection**: a line that crosses itself (a drawing error, or a loop drawn
  as one line);
- **length mismatch**: a stated ``length_km`` more than ``ratio`` times the geodesic
  length of the geometry, or less than its ``1/ratio``: the graph weighs that edge by
  the stated figure, so either the figure or the geometry is wrong;
- **long straight segment**: a segment of more than ``long_km``: a place snapped onto
  it and a map drawing it can be off by as far as the real line strays from the chord.

Everything here is a pure function of the lines (shapely geometries in lon/lat); the
report names features by the number they have in the file (counted from 1, as every
input error does). Distances are geodesic on WGS84, except the search for the nearest
point on a line, which is planar in a frame tangent at the dead end (exact to well under
a metre over ``near_m``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString

from networks._types import MODES, NetworkConfig
from networks.graph import _cluster_points
from networks.io import GEOD, LineFeature, _geodesic_km_flat, point_km, read_line_layer
from networks.snapping import nearest_on_polyline

#: Dead ends closer than this to another line are listed (metres). The shipped layers'
#: source (scgraph-data) rounds every node to 0.001 deg, a cell 84-93 m wide and 111 m
#: high between 33 and 41 N, 142-145 m across the diagonal: a dead end within one cell
#: of a line cannot be told apart from one touching it, at that precision.
NEAR_M = 150.0
#: A stated ``length_km`` this many times the geodesic length of its geometry (or less
#: than its inverse) is listed. Estimate: on the shipped layers the source's own km run
#: 1.6 % (road) and 4.5 % (rail) over the thinned geometry on the whole, so 1.5x is far
#: outside what thinning explains.
LENGTH_RATIO = 1.5
#: Straight segments longer than this are listed (km). Estimate: at 50 km a chord can
#: stray several km from a curving line, the order of the rail link tolerance (5 km).
LONG_KM = 50.0
#: End points closer than this are one node (metres): the graph builder's default.
SNAP_M = 30.0

Point = tuple[float, float]


@dataclass(frozen=True)
class NearMiss:
    """A dead end within ``near_m`` of another line it does not join."""

    feature: int
    end: str  # "start" or "end" of the feature's line
    lon: float
    lat: float
    other: int  # feature whose line passes nearest
    other_lon: float  # the nearest point on it
    other_lat: float
    distance_m: float


@dataclass(frozen=True)
class Crossing:
    """Two lines whose interiors meet away from an end point they share."""

    feature: int
    other: int
    lon: float
    lat: float
    kind: str = "cross"  # "cross": at points; "overlap": along a stretch


@dataclass(frozen=True)
class SelfIntersection:
    """A line that crosses or touches itself."""

    feature: int
    lon: float
    lat: float


@dataclass(frozen=True)
class LengthMismatch:
    """A stated length far from the geodesic length of the geometry."""

    feature: int
    length_km: float
    geodesic_km: float

    @property
    def ratio(self) -> float:
        return self.length_km / self.geodesic_km if self.geodesic_km > 0 else math.inf


@dataclass(frozen=True)
class LongSegment:
    """A straight segment longer than ``long_km``."""

    feature: int
    segment: int  # counted from 0 along the line
    km: float
    lon0: float
    lat0: float
    lon1: float
    lat1: float


@dataclass(frozen=True)
class TopologyReport:
    """What the five checks found on one layer: near misses nearest first (the surest
    missed junctions), crossings by feature, length mismatches by the km they are off,
    long segments longest first."""

    features: int
    dead_ends: int
    near_misses: tuple[NearMiss, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    self_intersections: tuple[SelfIntersection, ...] = ()
    length_mismatches: tuple[LengthMismatch, ...] = ()
    long_segments: tuple[LongSegment, ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many of each: features, dead ends and the five findings."""
        return {
            "features": self.features,
            "dead_ends": self.dead_ends,
            "near_miss_dead_ends": len(self.near_misses),
            "crossings": sum(c.kind == "cross" for c in self.crossings),
            "overlaps": sum(c.kind == "overlap" for c in self.crossings),
            "self_intersections": len(self.self_intersections),
            "length_mismatches": len(self.length_mismatches),
            "long_segments": len(self.long_segments),
        }

    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """Counts, thresholds and the findings (the first ``limit`` of each) as plain data."""

        def rows(items: Sequence[Any]) -> list[dict[str, Any]]:
            out = []
            for it in items[:limit] if limit is not None else items:
                d = asdict(it)
                if isinstance(it, LengthMismatch):
                    d["ratio"] = it.ratio
                out.append(d)
            return out

        return {
            "counts": self.counts(),
            "thresholds": dict(self.thresholds),
            "near_miss_dead_ends": rows(self.near_misses),
            "crossings": rows(self.crossings),
            "self_intersections": rows(self.self_intersections),
            "length_mismatches": rows(self.length_mismatches),
            "long_segments": rows(self.long_segments),
        }


# ------------------------------------------------------------------ the five checks
def _ends(lines: Sequence[LineString]) -> np.ndarray:
    """End points ``(2n, 2)``: the start of line i at row 2i, its end at row 2i + 1."""
    xy, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    counts = np.bincount(idx, minlength=len(lines))
    stop = np.cumsum(counts)
    ends = np.empty((2 * len(lines), 2))
    ends[0::2] = xy[stop - counts]
    ends[1::2] = xy[stop - 1]
    return ends


def end_clusters(lines: Sequence[LineString], *, snap_m: float = SNAP_M) -> np.ndarray:
    """Node label of every end point as the graph builder makes nodes (``2n`` labels:
    start of line i at ``2i``, its end at ``2i + 1``); end points within ``snap_m`` of
    each other, directly or through a chain of others, share a label."""
    if len(lines) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(_cluster_points(_ends(lines), snap_m), dtype=np.int64)


def dead_ends(lines: Sequence[LineString], *, snap_m: float = SNAP_M) -> np.ndarray:
    """Indices into the ``2n`` end points (see :func:`end_clusters`) that no other end
    point joins: the nodes of degree 1 of the graph built from ``lines``."""
    labels = end_clusters(lines, snap_m=snap_m)
    if len(labels) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.bincount(labels)[labels] == 1)


@dataclass(frozen=True)
class Miss:
    """A near-miss dead end by index (what :func:`find_near_misses` finds)."""

    line: int
    end: int  # 0 start, 1 end
    target: int
    segment: int
    t: float
    point: Point  # nearest point on the target
    distance_m: float


def find_near_misses(
    lines: Sequence[LineString], *, snap_m: float = SNAP_M, near_m: float = NEAR_M
) -> list[Miss]:
    """Every dead end within ``near_m`` of another line, with the nearest point on it.

    Returns
    -------
    list
        One record per dead end (line index, which end, the nearest other line, the
        segment of that line and the position ``t`` on it, the point, the geodesic
        distance in metres), sorted by distance, then line, then end.

    Examples
    --------
    A road stopping 50 m short of another (0.00045 deg of latitude):

    >>> from shapely.geometry import LineString
    >>> m = find_near_misses([LineString([(0, 0), (0, 0.01)]),
    ...                       LineString([(-0.01, 0.01045), (0.01, 0.01045)])])
    >>> len(m), m[0].line, m[0].end, round(m[0].distance_m)
    (1, 0, 1, 50)
    """
    dead = dead_ends(lines, snap_m=snap_m)
    if len(dead) == 0:
        return []
    ends = _ends(lines)
    pts = ends[dead]
    geoms = np.asarray(lines, dtype=object)
    tree = shapely.STRtree(geoms)
    # a search box in degrees wide enough at the highest latitude of any dead end
    lat_max = min(float(np.abs(pts[:, 1]).max()), 89.0)
    deg = near_m / 1000.0 / (111.32 * math.cos(math.radians(lat_max))) * 1.01
    qi, li = tree.query(shapely.points(pts), predicate="dwithin", distance=deg)
    best: dict[int, Miss] = {}
    for q, j in zip(qi.tolist(), li.tolist(), strict=True):
        k_end = int(dead[q])
        own = k_end // 2
        if j == own:
            continue
        lon, lat = float(pts[q, 0]), float(pts[q, 1])
        coords = shapely.get_coordinates(geoms[j])
        seg, t, _ = nearest_on_polyline(coords, lon, lat)
        a, b = coords[seg], coords[seg + 1]
        qx, qy = (a + t * (b - a)).tolist()
        d = point_km(lon, lat, qx, qy) * 1000.0
        if d > near_m:
            continue
        old = best.get(k_end)
        if old is None or (d, j) < (old.distance_m, old.target):
            best[k_end] = Miss(own, k_end % 2, j, seg, float(t), (qx, qy), d)
    return sorted(best.values(), key=lambda m: (m.distance_m, m.line, m.end))


def find_crossings(
    lines: Sequence[LineString], *, snap_m: float = SNAP_M
) -> list[tuple[int, int, Point, str]]:
    """Pairs of lines ``(i, j)``, ``i < j``, whose interiors meet: a point where, and the
    kind, ``"cross"`` (they meet at points) or ``"overlap"`` (along a stretch).

    A pair is left out when the only place they meet is within ``snap_m`` of an end
    point both lines have there (the graph joins them at that node).
    """
    if len(lines) < 2:
        return []
    geoms = np.asarray(lines, dtype=object)
    tree = shapely.STRtree(geoms)
    pairs: dict[tuple[int, int], str] = {}
    for predicate, kind in (("crosses", "cross"), ("overlaps", "overlap")):
        a, b = tree.query(geoms, predicate=predicate)
        keep = a < b
        for pair in zip(a[keep].tolist(), b[keep].tolist(), strict=True):
            pairs[pair] = kind
    if not pairs:
        return []
    ends = _ends(lines)
    labels = end_clusters(lines, snap_m=snap_m)
    out = []
    for (i, j), kind in sorted(pairs.items()):
        meet = shapely.intersection(geoms[i], geoms[j])
        shared = set(labels[[2 * i, 2 * i + 1]].tolist()) & set(labels[[2 * j, 2 * j + 1]].tolist())
        if shared:
            nodes = [ends[k] for k in (2 * i, 2 * i + 1, 2 * j, 2 * j + 1) if labels[k] in shared]
            zone = shapely.buffer(shapely.multipoints(nodes), _deg(snap_m, nodes[0][1]))
            meet = shapely.difference(meet, zone)
            if meet.is_empty:
                continue
        p = shapely.get_coordinates(shapely.point_on_surface(meet))[0]
        out.append((i, j, (float(p[0]), float(p[1])), kind))
    return out


def _deg(metres: float, lat: float) -> float:
    """``metres`` as degrees of longitude at ``lat`` (the larger of the two units)."""
    return metres / 1000.0 / (111.32 * max(math.cos(math.radians(lat)), 1e-6))


def find_self_intersections(lines: Sequence[LineString]) -> list[tuple[int, Point]]:
    """Lines that cross or touch themselves (not counting a ring closing at its start),
    with the first such point along the line."""
    geoms = np.asarray(lines, dtype=object)
    if len(geoms) == 0:
        return []
    out = []
    for i in np.flatnonzero(~shapely.is_simple(geoms)).tolist():
        out.append((i, _first_self_contact(shapely.get_coordinates(geoms[i]))))
    return out


def _first_self_contact(coords: np.ndarray) -> Point:
    """The first point where a polyline meets itself other than at consecutive segments'
    shared vertex (or where two consecutive segments fold back onto each other)."""
    segs = shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1))
    n = len(segs)
    closed = bool(np.array_equal(coords[0], coords[-1]))
    a, b = shapely.STRtree(segs).query(segs, predicate="intersects")
    best: tuple[int, int] | None = None
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if j <= i or (closed and i == 0 and j == n - 1):
            continue
        if j == i + 1 and shapely.intersection(segs[i], segs[j]).geom_type == "Point":
            continue  # consecutive segments meet at their shared vertex
        if best is None or (i, j) < best:
            best = (i, j)
    if best is None:
        return float(coords[0, 0]), float(coords[0, 1])
    meet = shapely.intersection(segs[best[0]], segs[best[1]])
    p = shapely.get_coordinates(meet)[0]
    return float(p[0]), float(p[1])


def find_length_mismatches(
    geodesic: Sequence[float], stated: Sequence[float | None], *, ratio: float = LENGTH_RATIO
) -> list[int]:
    """Indices where ``stated`` is more than ``ratio`` times ``geodesic`` or less than its
    ``1/ratio`` (None = no stated length: nothing to compare)."""
    out = []
    for i, (g, s) in enumerate(zip(geodesic, stated, strict=True)):
        if s is None or (isinstance(s, float) and math.isnan(s)):
            continue
        if g <= 0.0:
            if s > 0.0:
                out.append(i)
        elif s > ratio * g or s < g / ratio:
            out.append(i)
    return out


def find_long_segments(
    lines: Sequence[LineString], *, long_km: float = LONG_KM
) -> list[tuple[int, int, float, Point, Point]]:
    """Segments longer than ``long_km``: ``(line, segment, km, start, end)``."""
    geoms = np.asarray(lines, dtype=object)
    if len(geoms) == 0:
        return []
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    same = np.flatnonzero(idx[:-1] == idx[1:])

    _, _, dist = GEOD.inv(xy[same, 0], xy[same, 1], xy[same + 1, 0], xy[same + 1, 1])
    km = np.asarray(dist) / 1000.0
    first = np.searchsorted(idx, np.arange(len(geoms)))
    out = []
    for k in np.flatnonzero(km > long_km).tolist():
        s = int(same[k])
        line = int(idx[s])
        out.append((line, s - int(first[line]), float(km[k]),
                    (float(xy[s, 0]), float(xy[s, 1])),
                    (float(xy[s + 1, 0]), float(xy[s + 1, 1]))))
    return out


# ----------------------------------------------------------------------- one layer
def check_lines(
    lines: Sequence[LineString],
    *,
    length_km: Sequence[float | None] | None = None,
    ids: Sequence[int] | None = None,
    snap_m: float = SNAP_M,
    near_m: float = NEAR_M,
    ratio: float = LENGTH_RATIO,
    long_km: float = LONG_KM,
) -> TopologyReport:
    """Run the five checks on one layer.

    Parameters
    ----------
    lines : sequence of LineString
        The layer's lines, lon/lat (the parts of a multi-line feature as separate lines).
    length_km : sequence of float or None, optional
        Stated length of each FEATURE (a feature's parts share it), None where the layer
        states none. Without it the length check finds nothing.
    ids : sequence of int, optional
        Feature number of each line (default ``1..n``); the parts of one feature share it.
    snap_m, near_m, ratio, long_km
        See :data:`SNAP_M`, :data:`NEAR_M`, :data:`LENGTH_RATIO`, :data:`LONG_KM`.

    Returns
    -------
    TopologyReport

    Examples
    --------
    Two roads crossing without a shared vertex, a third stopping 50 m short of one:

    >>> from shapely.geometry import LineString
    >>> r = check_lines([LineString([(0, 0), (0.02, 0)]), LineString([(0.01, -0.01), (0.01, 0.01)]),
    ...                  LineString([(0.015, 0.02), (0.015, 0.00045)])])
    >>> r.counts()["crossings"], r.counts()["near_miss_dead_ends"]
    (1, 1)
    """
    lines = list(lines)
    feature = list(ids) if ids is not None else list(range(1, len(lines) + 1))
    if len(feature) != len(lines):
        raise ValueError("ids must give one feature number per line")
    ends_dead = dead_ends(lines, snap_m=snap_m)
    misses = tuple(
        NearMiss(
            feature=feature[m.line],
            end="start" if m.end == 0 else "end",
            lon=float(shapely.get_coordinates(lines[m.line])[-m.end][0]),
            lat=float(shapely.get_coordinates(lines[m.line])[-m.end][1]),
            other=feature[m.target],
            other_lon=m.point[0],
            other_lat=m.point[1],
            distance_m=m.distance_m,
        )
        for m in find_near_misses(lines, snap_m=snap_m, near_m=near_m)
    )
    crossings = tuple(
        Crossing(feature[i], feature[j], p[0], p[1], kind)
        for i, j, p, kind in find_crossings(lines, snap_m=snap_m)
    )
    selfs = tuple(SelfIntersection(feature[i], p[0], p[1])
                  for i, p in find_self_intersections(lines))
    mismatches: tuple[LengthMismatch, ...] = ()
    if length_km is not None:
        geo = _geodesic_by_feature(lines, feature)
        order = list(geo)
        stated_of = dict(zip(feature, length_km, strict=True))
        found = find_length_mismatches([geo[f] for f in order],
                                       [stated_of[f] for f in order], ratio=ratio)
        mismatches = tuple(sorted(
            (LengthMismatch(order[k], float(stated_of[order[k]]), geo[order[k]])  # type: ignore[arg-type]
             for k in found),
            key=lambda m: (-abs(m.length_km - m.geodesic_km), m.feature),
        ))
    longs = tuple(sorted(
        (LongSegment(feature[i], s, km, a[0], a[1], b[0], b[1])
         for i, s, km, a, b in find_long_segments(lines, long_km=long_km)),
        key=lambda s: (-s.km, s.feature, s.segment),
    ))
    return TopologyReport(
        features=len(set(feature)),
        dead_ends=len(ends_dead),
        near_misses=misses,
        crossings=crossings,
        self_intersections=selfs,
        length_mismatches=mismatches,
        long_segments=longs,
        thresholds={"snap_m": snap_m, "near_m": near_m, "ratio": ratio, "long_km": long_km},
    )


def _geodesic_by_feature(lines: Sequence[LineString], feature: Sequence[int]) -> dict[int, float]:
    xy, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    km = _geodesic_km_flat(xy, idx, len(lines))
    out: dict[int, float] = {}
    for f, k in zip(feature, km.tolist(), strict=True):
        out[f] = out.get(f, 0.0) + k
    return out


def check_features(features: Sequence[LineFeature], **options: Any) -> TopologyReport:
    """:func:`check_lines` on validated features (:func:`networks.io.read_line_layer`):
    every part of a multi-line feature is a line, all named by the feature's number."""
    lines: list[LineString] = []
    ids: list[int] = []
    stated: list[float | None] = []
    for f in features:
        lines.extend(f.parts)
        ids.extend([f.index] * len(f.parts))
        stated.extend([f.length_km] * len(f.parts))
    return check_lines(lines, length_km=stated, ids=ids, **options)


def check_config(config: NetworkConfig, **options: Any) -> dict[str, TopologyReport]:
    """:func:`check_features` on the road, rail and pipeline layers a scenario names.

    Extra lines (``extra_lines``) are not checked: they join the network at the nearest
    point within the link tolerance by design (:func:`networks.snapping.add_lines`).

    Raises
    ------
    InputErrors
        Whatever :func:`networks.io.read_line_layer` finds wrong in a layer.
    """
    snap = {"snap_m": config.snap_m, **options}
    out = {}
    for mode in MODES:
        path = getattr(config, mode)
        if path:
            out[mode] = check_features(read_line_layer(path, layer=mode, mode=mode), **snap)
    return out


# ------------------------------------------------------------------------ printing
_LABELS = {
    "near_miss_dead_ends": "dead ends within {near_m:g} m of another line, not joined",
    "crossings": "line pairs crossing away from a shared end (bridge or missed junction)",
    "overlaps": "line pairs sharing a stretch (drawn twice)",
    "self_intersections": "lines crossing themselves",
    "length_mismatches": "length_km over {ratio:g}x or under 1/{ratio:g} of the geometry",
    "long_segments": "straight segments over {long_km:g} km",
}


def format_reports(
    reports: Mapping[str, TopologyReport], *, sources: Mapping[str, str] | None = None,
    examples: int = 5,
) -> list[str]:
    """Lines of text for a person: per layer, the counts and the worst ``examples`` of
    each finding, with feature numbers and coordinates to look up."""
    out: list[str] = []
    for mode, r in reports.items():
        src = f" ({sources[mode]})" if sources and mode in sources else ""
        out.append(f"[{mode}]{src}: {r.features:,} features, {r.dead_ends:,} dead ends")
        counts = r.counts()
        for key, label in _LABELS.items():
            out.append(f"  {counts[key]:>7,}  {label.format(**r.thresholds)}")
        for m in r.near_misses[:examples]:
            out.append(f"    feature {m.feature} {m.end} ({m.lon:.5f}, {m.lat:.5f}) is "
                       f"{m.distance_m:.0f} m from feature {m.other} at "
                       f"({m.other_lon:.5f}, {m.other_lat:.5f})")
        for c in r.crossings[:examples]:
            how = "cross" if c.kind == "cross" else "overlap"
            out.append(f"    features {c.feature} and {c.other} {how} at ({c.lon:.5f}, "
                       f"{c.lat:.5f}) without a junction")
        for s in r.self_intersections[:examples]:
            out.append(f"    feature {s.feature} crosses itself at ({s.lon:.5f}, {s.lat:.5f})")
        for x in r.length_mismatches[:examples]:
            out.append(f"    feature {x.feature}: length_km {x.length_km:,.3f} for "
                       f"{x.geodesic_km:,.3f} km of geometry")
        for g in r.long_segments[:examples]:
            out.append(f"    feature {g.feature} segment {g.segment}: {g.km:,.1f} km straight "
                       f"from ({g.lon0:.3f}, {g.lat0:.3f}) to ({g.lon1:.3f}, {g.lat1:.3f})")
    return out
