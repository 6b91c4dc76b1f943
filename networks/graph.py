"""Turn line features into an undirected graph (nearest-point joining: ``networks.snapping``).

Joining rule
------------
Two lines join only where an END point of one lies within ``snap_m`` metres (default
30 m) of an END point of another: end points are clustered (a point joins a cluster
when it is within ``snap_m`` of any member, so chains of close points merge) and each
cluster becomes one node at the position of its first member. Lines that merely cross,
or that touch another line's interior, do not join -- a road bridge over a railway is
not a junction. 30 m absorbs digitising noise in hand-drawn and OSM-derived layers
(the scgraph-data layers are rounded to 0.001 deg, so shared ends there coincide
exactly) while staying well under the length of any real link road.

Graph conventions are those of ``docs/CONTRACTS.md``: integer nodes with ``x``/``y``;
every edge has ``length_km``, ``geometry`` (oriented from the smaller node id to the
larger), ``name``, ``lines``, ``capacity_t``, ``freight``, ``commodities``; no parallel
edges (a second line between the same two nodes is split at an interior vertex, adding
a node); self-loops (a line whose two ends snap together) are dropped and counted in
``G.graph["dropped_loops"]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

from networks._table import KM_AT, EdgeTable, key_ids
from networks.gc_pause import paused_gc
from networks.io import (
    GEOD,
    PIPELINE_DEFAULT_COMMODITIES,
    LineFeature,
    _geodesic_km_flat,
    geodesic_km,
    point_km,
)

EARTH_RADIUS_M = 6_371_008.8
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQ = 111.320

#: Edge attributes every edge carries, with the defaults of an edge nothing is known about.
EDGE_DEFAULTS: dict[str, Any] = {
    "name": "",
    "lines": (),
    "capacity_t": math.inf,
    "freight": True,
    "commodities": None,
}


def new_node(G: nx.Graph, x: float, y: float) -> int:
    """Add a node at lon ``x``, lat ``y`` with a fresh integer id and return the id."""
    nid = int(G.graph.get("next_node", 0))
    if nid in G or nid == 0:
        nid = max((int(n) for n in G.nodes), default=-1) + 1
    G.add_node(nid, x=float(x), y=float(y))
    G.graph["next_node"] = nid + 1
    return nid


def add_edge(
    G: nx.Graph,
    u: int,
    v: int,
    coords: np.ndarray,
    *,
    length_km: float | None = None,
    **attrs: Any,
) -> list[tuple[int, int]]:
    """Add the line ``coords`` (oriented from ``u`` to ``v``) as an edge, avoiding parallels.

    When ``u`` and ``v`` are already joined, the line is split at its interior vertex
    nearest its middle (the midpoint is inserted when it has none), adding a node.

    Parameters
    ----------
    G : networkx.Graph
    u, v : int
        Existing, distinct nodes; ``coords[0]`` is at ``u`` and ``coords[-1]`` at ``v``.
    coords : numpy.ndarray
        ``(n, 2)`` lon/lat.
    length_km : float, optional
        Length to store; the geodesic length of ``coords`` when None.
    **attrs
        Other edge attributes; missing ones take :data:`EDGE_DEFAULTS`.

    Returns
    -------
    list of (int, int)
        The edges added.
    """
    coords = np.asarray(coords, dtype=float)
    if length_km is None:
        length_km = geodesic_km(coords)
    if u == v:
        raise ValueError("add_edge: u == v (self-loop)")
    marks = tuple(attrs.pop(KM_AT, ()) or ())  # along coords as given (from u)
    if G.has_edge(u, v):
        if len(coords) < 3:
            mid = (coords[0] + coords[-1]) / 2.0
            coords = np.vstack([coords[0], mid, coords[-1]])  # (no interior marks)
        seg = np.hypot(*np.diff(coords, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        k = int(np.clip(np.argmin(np.abs(cum[1:-1] - cum[-1] / 2.0)) + 1, 1, len(coords) - 2))
        w = new_node(G, coords[k, 0], coords[k, 1])
        a, b = coords[: k + 1], coords[k:]
        if marks:
            la = km_along(coords, length_km, marks, k, 0.0)
            lb = length_km - la
        else:
            la, lb = _split_length(length_km, a, b)
        ma, mb = split_marks(marks, k, k + 1, la)
        return add_edge(G, u, w, a, length_km=la, **_with_marks(attrs, ma)) + add_edge(
            G, w, v, b, length_km=lb, **_with_marks(attrs, mb)
        )
    if u > v:
        u, v, coords = v, u, coords[::-1]
        marks = flip_marks(marks, len(coords), float(length_km))
    if marks:
        attrs[KM_AT] = marks
    data = {**EDGE_DEFAULTS, **attrs}
    G.add_edge(u, v, length_km=float(length_km), geometry=shapely.linestrings(coords), **data)
    return [(u, v)]


def _with_marks(attrs: dict[str, Any], marks: tuple) -> dict[str, Any]:
    out = dict(attrs)
    if marks:
        out[KM_AT] = marks
    return out


def km_along(
    coords: np.ndarray, length_km: float, marks: Sequence[tuple[int, float]], seg: int, t: float
) -> float:
    """Km from ``coords[0]`` to the point at fraction ``t`` of segment ``seg`` of an edge.

    Between two marks (the ends count as marks at 0 and ``length_km``; the others are the
    edge's :data:`KM_AT`), km are spread in proportion to geodesic length: so a place
    splitting an edge merged from features given as 399, 3000 and 401 km gets the given
    km of the features it passes, not the merged total spread by map distance.
    """
    n = len(coords)
    pts = [(0, 0.0), *((int(i), float(k)) for i, k in marks), (n - 1, float(length_km))]
    p = 0
    while p + 2 < len(pts) and pts[p + 1][0] <= seg:
        p += 1
    (i0, k0), (i1, k1) = pts[p], pts[p + 1]
    q = coords[seg] + t * (coords[seg + 1] - coords[seg])
    before = geodesic_km(np.vstack([coords[i0 : seg + 1], q]))
    whole = geodesic_km(coords[i0 : i1 + 1])
    share = 0.5 if whole <= 0 else min(max(before / whole, 0.0), 1.0)
    return k0 + (k1 - k0) * share


def split_marks(
    marks: Sequence[tuple[int, float]], k_first: int, k_second: int, la: float
) -> tuple[tuple, tuple]:
    """The :data:`KM_AT` marks of the two parts of an edge split at a point: the first
    part holds vertices ``0 .. k_first - 1`` and the point, the second the point and
    vertices ``k_second ..``; ``la`` is the km of the first part."""
    first = tuple((i, k) for i, k in marks if 0 < i < k_first)
    second = tuple((i - k_second + 1, k - la) for i, k in marks if i >= k_second)
    return first, second


def flip_marks(marks: Sequence[tuple[int, float]], n: int, length_km: float) -> tuple:
    """The :data:`KM_AT` marks of an edge of ``n`` vertices with its geometry reversed."""
    return tuple((n - 1 - i, length_km - k) for i, k in reversed(marks))


def _split_length(
    length_km: float, a: np.ndarray, b: np.ndarray, *, ga: float | None = None,
    gb: float | None = None,
) -> tuple[float, float]:
    ga = geodesic_km(a) if ga is None else ga
    gb = geodesic_km(b) if gb is None else gb
    share = 0.5 if ga + gb <= 0 else ga / (ga + gb)
    la = length_km * share
    return la, length_km - la


def edge_coords_from(G: nx.Graph, u: int, v: int) -> np.ndarray:
    """Coordinates of edge ``(u, v)`` oriented from ``u`` to ``v``."""
    coords = shapely.get_coordinates(G.edges[u, v]["geometry"])
    return coords if u < v else coords[::-1]


def split_edge(G: nx.Graph, u: int, v: int, seg: int, t: float) -> int:
    """Split edge ``(u, v)`` at a point on it and return the node there.

    Parameters
    ----------
    G : networkx.Graph
    u, v : int
        The edge.
    seg : int
        Index of the segment of the stored geometry (oriented from the smaller node id)
        that holds the point.
    t : float
        Position of the point along that segment, 0 to 1.

    Returns
    -------
    int
        A new node (both halves keep the edge's attributes; their lengths are the
        edge's length split in proportion to the geodesic lengths of the two halves, so
        they sum to it), or ``u``/``v`` when the point is an end of the edge.
    """
    a, b = (u, v) if u < v else (v, u)
    data = G._adj[a][b]  # noqa: SLF001 -- networkx's adjacency, read without a view (speed)
    coords = shapely.get_coordinates(data["geometry"])
    n = len(coords)
    seg = min(max(int(seg), 0), n - 2)
    t = min(max(float(t), 0.0), 1.0)
    q = coords[seg] + t * (coords[seg + 1] - coords[seg])
    qx, qy = q.tolist()
    (x0, y0), (x1, y1) = coords[seg].tolist(), coords[seg + 1].tolist()
    if point_km(qx, qy, x0, y0) < 1e-3:
        q, k_first, k_second = coords[seg], seg, seg + 1
    elif point_km(qx, qy, x1, y1) < 1e-3:
        q, k_first, k_second = coords[seg + 1], seg + 1, seg + 2
    else:
        k_first, k_second = seg + 1, seg + 1
    first = np.vstack([coords[:k_first], q]) if k_first > 0 else None
    second = np.vstack([q, coords[k_second:]]) if k_second < n else None
    if first is None or len(first) < 2:
        return a
    if second is None or len(second) < 2:
        return a if geodesic_km(first) == 0.0 else b
    ga, gb = _geodesic_km_two(first, second)
    if ga == 0.0:
        return a
    if gb == 0.0:
        return b
    attrs = {k: val for k, val in data.items() if k not in ("length_km", "geometry", KM_AT)}
    marks = data.get(KM_AT) or ()
    if marks:  # the given km of the stretch the point is on, not the edge's map share
        la = km_along(coords, data["length_km"], marks, seg, t)
        lb = data["length_km"] - la
    else:
        la, lb = _split_length(data["length_km"], first, second, ga=ga, gb=gb)
    ma, mb = split_marks(marks, k_first, k_second, la)
    G.remove_edge(a, b)
    w = new_node(G, q[0], q[1])
    add_edge(G, a, w, first, length_km=la, **_with_marks(attrs, ma))
    add_edge(G, w, b, second, length_km=lb, **_with_marks(attrs, mb))
    return w


def _geodesic_km_two(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``geodesic_km(a), geodesic_km(b)`` in one call to the geodesic solver."""
    both = np.vstack([a[:-1], b[:-1]]), np.vstack([a[1:], b[1:]])
    _, _, dist = GEOD.inv(both[0][:, 0], both[0][:, 1], both[1][:, 0], both[1][:, 1])
    na = len(a) - 1
    return float(np.sum(dist[:na])) / 1000.0, float(np.sum(dist[na:])) / 1000.0


def _cluster_points(lonlat: np.ndarray, snap_m: float) -> np.ndarray:
    """Labels of clusters of points within ``snap_m`` metres (single linkage)."""
    from scipy.sparse import coo_matrix  # imported here: a cached network needs none of it
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    lat = np.radians(lonlat[:, 1])
    xy = np.column_stack(
        [np.radians(lonlat[:, 0]) * np.cos(lat) * EARTH_RADIUS_M, lat * EARTH_RADIUS_M]
    )
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(r=max(snap_m, 0.0), output_type="ndarray")
    if len(pairs) == 0:
        return np.arange(n)
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return labels


def build_graph(
    features: Sequence[LineFeature],
    *,
    mode: str,
    snap_m: float = 30.0,
    source: str = "",
) -> nx.Graph:
    """Build the graph of a line layer: lines join where their end points meet.

    Parameters
    ----------
    features : sequence of LineFeature
        From :func:`networks.io.read_line_layer`.
    mode : str
        ``"road"``, ``"rail"`` or ``"pipeline"``, stored in ``G.graph["mode"]``.
    snap_m : float
        End points closer than this many metres become one node.
    source : str
        Stored in ``G.graph["source"]``.

    Returns
    -------
    networkx.Graph
        Not simplified; see :func:`networks.simplification.simplify_graph`.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> from networks.io import LineFeature
    >>> f = [LineFeature(1, (LineString([(0, 0), (0.01, 0)]),)),
    ...      LineFeature(2, (LineString([(0.01, 0.0001), (0.02, 0)]),))]
    >>> build_graph(f, mode="road", snap_m=30).number_of_nodes()   # 11 m apart: joined
    3
    """
    with paused_gc():
        return graph_from_table(build_table(features, mode=mode, snap_m=snap_m, source=source))


def build_table(  # noqa: PLR0915 -- the graph built in one pass over the table
    features: Sequence[LineFeature],
    *,
    mode: str,
    snap_m: float = 30.0,
    source: str = "",
) -> EdgeTable:
    """The edges :func:`build_graph` makes, as arrays (see :mod:`networks._table`).

    Same rules as adding the lines one by one with :func:`add_edge`: lines in order,
    self-loops dropped, a second line between two joined nodes split at its interior vertex
    nearest its middle (a new node, ids counting up from the largest end-point node).
    """
    graph: dict[str, Any] = {"mode": mode, "crs": "EPSG:4326", "source": source,
                             "dropped_loops": 0}
    default_comm = PIPELINE_DEFAULT_COMMODITIES if mode == "pipeline" else None
    parts: list[LineString] = []
    owner_list: list[int] = []
    templates: list[dict[str, Any]] = []
    given: list[float] = []
    n_parts: list[int] = []
    for j, f in enumerate(features):
        parts.extend(f.parts)
        owner_list.extend([j] * len(f.parts))
        templates.append({
            "length_km": 0.0, "geometry": None, "name": f.name, "lines": (),
            "capacity_t": f.capacity_t, "freight": f.freight,
            "commodities": f.commodities if f.commodities is not None else default_comm,
        })
        given.append(math.nan if f.length_km is None else float(f.length_km))
        n_parts.append(len(f.parts))
    if not parts:
        return _empty_table(graph)
    npart = len(parts)
    owner = np.asarray(owner_list, dtype=np.int64)
    xy, pidx = shapely.get_coordinates(np.asarray(parts, dtype=object), return_index=True)
    counts = np.bincount(pidx, minlength=npart)
    stop = np.cumsum(counts)
    start = stop - counts
    lengths = _geodesic_km_flat(xy, pidx, npart)
    given_a = np.asarray(given, dtype=float)
    has_len = ~np.isnan(given_a[owner])
    if has_len.any():
        total = np.bincount(owner, weights=lengths, minlength=len(templates))
        tot = total[owner]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(tot > 0, lengths / np.where(tot > 0, tot, 1.0),
                             1.0 / np.asarray(n_parts, dtype=float)[owner])
        lengths = np.where(has_len, given_a[owner] * share, lengths)
    ends = np.empty((2 * npart, 2))
    ends[0::2] = xy[start]
    ends[1::2] = xy[stop - 1]
    labels = _cluster_points(ends, snap_m).astype(np.int64)
    uniq, first = np.unique(labels, return_index=True)
    rep_xy = np.empty((int(uniq[-1]) + 1, 2))
    rep_xy[uniq] = ends[first]
    label_order = uniq[np.argsort(first, kind="stable")]
    next_node = int(uniq[-1]) + 1
    u_all, v_all = labels[0::2], labels[1::2]
    loop = u_all == v_all
    graph["dropped_loops"] = int(loop.sum())
    xy = xy.copy()
    xy[start] = rep_xy[u_all]
    xy[stop - 1] = rep_xy[v_all]
    k_ok = np.flatnonzero(~loop)
    u, v = u_all[k_ok], v_all[k_ok]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pair = lo * (next_node + 1) + hi
    _, first_pair = np.unique(pair, return_index=True)
    dup = np.ones(len(k_ok), dtype=bool)
    dup[first_pair] = False
    # one row per edge: (part, sub-edge) sorts them in the order add_edge would add them
    e_part = k_ok[~dup]
    e_sub = np.zeros(len(e_part), dtype=np.int64)
    e_u, e_v = lo[~dup], hi[~dup]
    e_start, e_stop = start[e_part], stop[e_part]
    e_fwd = u[~dup] < v[~dup]
    e_len = lengths[e_part]
    new_xy: list[tuple[float, float]] = []
    extra_xy: list[np.ndarray] = []
    rows: list[tuple[int, int, int, int, int, bool, float]] = []
    base = len(xy)
    for k in k_ok[dup].tolist():
        a_, b_ = int(u_all[k]), int(v_all[k])
        coords = xy[start[k]:stop[k]]
        la_lb = _split_dup(coords, float(lengths[k]))
        w = next_node
        next_node += 1
        (ca, la), (cb, lb), q = la_lb
        new_xy.append(q)
        for sub, (p0, p1, c, ln) in enumerate(((a_, w, ca, la), (w, b_, cb, lb))):
            rows.append((k, sub, min(p0, p1), max(p0, p1), base, p0 < p1, ln))
            extra_xy.append(c)
            base += len(c)
    if rows:
        r_part = np.array([r[0] for r in rows], dtype=np.int64)
        r_sub = np.array([r[1] for r in rows], dtype=np.int64)
        r_len = np.array([len(c) for c in extra_xy], dtype=np.int64)
        r_start = np.array([r[4] for r in rows], dtype=np.int64)
        e_part = np.concatenate([e_part, r_part])
        e_sub = np.concatenate([e_sub, r_sub])
        e_u = np.concatenate([e_u, [r[2] for r in rows]]).astype(np.int64)
        e_v = np.concatenate([e_v, [r[3] for r in rows]]).astype(np.int64)
        e_start = np.concatenate([e_start, r_start])
        e_stop = np.concatenate([e_stop, r_start + r_len])
        e_fwd = np.concatenate([e_fwd, [r[5] for r in rows]]).astype(bool)
        e_len = np.concatenate([e_len, [r[6] for r in rows]])
        xy = np.vstack([xy, *extra_xy])
        order = np.lexsort((e_sub, e_part))
        e_part, e_u, e_v = e_part[order], e_u[order], e_v[order]
        e_start, e_stop, e_fwd, e_len = e_start[order], e_stop[order], e_fwd[order], e_len[order]
    graph["next_node"] = next_node
    # nodes: end-point clusters in order of first appearance, then the split nodes;
    # clusters left with no edge (only self-loops) are dropped
    used = np.zeros(next_node, dtype=bool)
    used[e_u] = True
    used[e_v] = True
    node_ids = [int(x) for x in label_order[used[label_order]]]
    node_xy = rep_xy[label_order[used[label_order]]]
    if new_xy:
        node_ids += list(range(int(uniq[-1]) + 1, next_node))
        node_xy = np.vstack([node_xy, np.asarray(new_xy, dtype=float)])
    feat = owner[e_part]
    fkey = key_ids([(t["name"], t["lines"], t["capacity_t"], t["freight"], t["commodities"])
                    for t in templates])
    return EdgeTable(
        graph=graph, node_ids=node_ids, node_xy=node_xy, u=e_u, v=e_v, xy=xy,
        start=e_start, stop=e_stop, fwd=e_fwd, length=e_len,
        src=[templates[j] for j in feat.tolist()], key=fkey[feat],
    )


def _empty_table(graph: dict[str, Any]) -> EdgeTable:
    z = np.zeros(0, dtype=np.int64)
    return EdgeTable(graph=graph, node_ids=[], node_xy=np.zeros((0, 2)), u=z, v=z,
                     xy=np.zeros((0, 2)), start=z, stop=z, fwd=np.zeros(0, dtype=bool),
                     length=np.zeros(0), src=[], key=z)


def _split_dup(
    coords: np.ndarray, length_km: float
) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float], tuple[float, float]]:
    """Split a line doubling an edge, as :func:`add_edge` does: halves, lengths, the point."""
    if len(coords) < 3:
        mid = (coords[0] + coords[-1]) / 2.0
        coords = np.vstack([coords[0], mid, coords[-1]])
    seg = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.clip(np.argmin(np.abs(cum[1:-1] - cum[-1] / 2.0)) + 1, 1, len(coords) - 2))
    a, b = coords[: k + 1], coords[k:]
    la, lb = _split_length(length_km, a, b)
    # a runs u -> w, b w -> v (w, the new node, has the largest id)
    return (a.copy(), la), (b.copy(), lb), (float(coords[k, 0]), float(coords[k, 1]))


def graph_from_table(t: EdgeTable) -> nx.Graph:
    """The networkx graph of an edge table, edges in table order (not contracted)."""
    G = nx.Graph()
    G.graph.update(t.graph)
    xy = t.node_xy.tolist()
    G.add_nodes_from((n, {"x": p[0], "y": p[1]}) for n, p in zip(t.node_ids, xy, strict=True))
    if len(t.u) == 0:
        return G
    n = t.stop - t.start
    which = np.repeat(np.arange(len(t.u)), n)
    pos = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    idx = np.where(t.fwd[which], t.start[which] + pos, t.stop[which] - 1 - pos)
    geoms = shapely.linestrings(t.xy[idx], indices=which)
    ebunch = []
    for k, (a, b) in enumerate(zip(t.u.tolist(), t.v.tolist(), strict=True)):
        d = dict(t.src[k])
        d["length_km"] = float(t.length[k])
        d["geometry"] = geoms[k]
        ebunch.append((a, b, d))
    G.add_edges_from(ebunch)
    return G


def total_km(G: nx.Graph, *, weight: str = "length_km") -> float:
    """Sum of edge lengths."""
    return float(sum(d for _, _, d in G.edges(data=weight)))
