"""Turn line features into an undirected graph; find and split at the nearest point on a line.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, box

from networks.io import (
    PIPELINE_DEFAULT_COMMODITIES,
    LineFeature,
    geodesic_km,
    geodesic_km_many,
    point_km,
    validate_line_frame,
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
    if G.has_edge(u, v):
        if len(coords) < 3:
            mid = (coords[0] + coords[-1]) / 2.0
            coords = np.vstack([coords[0], mid, coords[-1]])
        seg = np.hypot(*np.diff(coords, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        k = int(np.clip(np.argmin(np.abs(cum[1:-1] - cum[-1] / 2.0)) + 1, 1, len(coords) - 2))
        w = new_node(G, coords[k, 0], coords[k, 1])
        a, b = coords[: k + 1], coords[k:]
        la, lb = _split_length(length_km, a, b)
        return add_edge(G, u, w, a, length_km=la, **attrs) + add_edge(
            G, w, v, b, length_km=lb, **attrs
        )
    if u > v:
        u, v, coords = v, u, coords[::-1]
    data = {**EDGE_DEFAULTS, **attrs}
    G.add_edge(u, v, length_km=float(length_km), geometry=LineString(coords), **data)
    return [(u, v)]


def _split_length(length_km: float, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    ga, gb = geodesic_km(a), geodesic_km(b)
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
    data = G.edges[a, b]
    coords = shapely.get_coordinates(data["geometry"])
    n = len(coords)
    seg = int(np.clip(seg, 0, n - 2))
    t = float(np.clip(t, 0.0, 1.0))
    q = coords[seg] + t * (coords[seg + 1] - coords[seg])
    if point_km(q[0], q[1], *coords[seg]) < 1e-3:
        q, k_first, k_second = coords[seg], seg, seg + 1
    elif point_km(q[0], q[1], *coords[seg + 1]) < 1e-3:
        q, k_first, k_second = coords[seg + 1], seg + 1, seg + 2
    else:
        k_first, k_second = seg + 1, seg + 1
    first = np.vstack([coords[:k_first], q]) if k_first > 0 else None
    second = np.vstack([q, coords[k_second:]]) if k_second < n else None
    if first is None or len(first) < 2 or geodesic_km(first) == 0.0:
        return a
    if second is None or len(second) < 2 or geodesic_km(second) == 0.0:
        return b
    attrs = {k: val for k, val in data.items() if k not in ("length_km", "geometry")}
    la, lb = _split_length(data["length_km"], first, second)
    G.remove_edge(a, b)
    w = new_node(G, q[0], q[1])
    add_edge(G, a, w, first, length_km=la, **attrs)
    add_edge(G, w, b, second, length_km=lb, **attrs)
    return w


def _cluster_points(lonlat: np.ndarray, snap_m: float) -> np.ndarray:
    """Labels of clusters of points within ``snap_m`` metres (single linkage)."""
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
    G = nx.Graph(mode=mode, crs="EPSG:4326", source=source, dropped_loops=0)
    parts: list[LineString] = []
    owners: list[LineFeature] = []
    for f in features:
        for p in f.parts:
            parts.append(p)
            owners.append(f)
    if not parts:
        return G
    lengths = geodesic_km_many(parts)
    owner_total: dict[int, float] = {}
    for f, length in zip(owners, lengths, strict=True):
        owner_total[id(f)] = owner_total.get(id(f), 0.0) + float(length)
    coords_list = [shapely.get_coordinates(p) for p in parts]
    arr = np.asarray(parts, dtype=object)
    ends = np.empty((2 * len(parts), 2))
    ends[0::2] = shapely.get_coordinates(shapely.get_point(arr, 0))
    ends[1::2] = shapely.get_coordinates(shapely.get_point(arr, -1))
    labels = _cluster_points(ends, snap_m)
    rep: dict[int, np.ndarray] = {}
    for i, lab in enumerate(labels):
        if int(lab) not in rep:
            rep[int(lab)] = ends[i]
    for lab, xy in rep.items():
        G.add_node(lab, x=float(xy[0]), y=float(xy[1]))
    G.graph["next_node"] = max(rep) + 1
    default_comm = PIPELINE_DEFAULT_COMMODITIES if mode == "pipeline" else None
    for k, (coords, f) in enumerate(zip(coords_list, owners, strict=True)):
        u, v = int(labels[2 * k]), int(labels[2 * k + 1])
        if u == v:
            G.graph["dropped_loops"] += 1
            continue
        coords = coords.copy()
        coords[0], coords[-1] = rep[u], rep[v]
        length = float(lengths[k])
        if f.length_km is not None:
            total = owner_total[id(f)]
            share = length / total if total > 0 else 1.0 / len(f.parts)
            length = f.length_km * share
        add_edge(
            G, u, v, coords, length_km=length, name=f.name, lines=(),
            capacity_t=f.capacity_t, freight=f.freight,
            commodities=f.commodities if f.commodities is not None else default_comm,
        )
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    return G


def local_xy(lonlat: np.ndarray, lat0: float) -> np.ndarray:
    """Lon/lat to km on a plane tangent at latitude ``lat0`` (good to ~1% within 100 km)."""
    lonlat = np.asarray(lonlat, dtype=float)
    return np.column_stack(
        [lonlat[..., 0] * KM_PER_DEG_LON_EQ * math.cos(math.radians(lat0)),
         lonlat[..., 1] * KM_PER_DEG_LAT]
    )


def nearest_on_polyline(coords: np.ndarray, lon: float, lat: float) -> tuple[int, float, float]:
    """Nearest point of a lon/lat polyline to a point: ``(segment, t, planar km)``."""
    xy = local_xy(coords, lat)
    p = local_xy(np.array([[lon, lat]]), lat)[0]
    a, b = xy[:-1], xy[1:]
    ab = b - a
    denom = np.einsum("ij,ij->i", ab, ab)
    t = np.where(denom > 0, np.einsum("ij,ij->i", p - a, ab) / np.where(denom > 0, denom, 1), 0)
    t = np.clip(t, 0.0, 1.0)
    q = a + ab * t[:, None]
    d = np.hypot(q[:, 0] - p[0], q[:, 1] - p[1])
    k = int(np.argmin(d))
    return k, float(t[k]), float(d[k])


@dataclass(frozen=True)
class Hit:
    """Where a point is nearest to the network: on edge ``(u, v)``, segment ``seg`` at ``t``."""

    u: int
    v: int
    seg: int
    t: float
    lon: float
    lat: float
    offset_km: float


class EdgeLocator:
    """Find the nearest point ON a line of a graph, and split edges there.

    An STRtree over the edges' geometries answers queries; edges split through
    :meth:`split` are tracked so later queries see the pieces.

    Parameters
    ----------
    G : networkx.Graph
    edge_filter : callable, optional
        ``edge_filter(u, v, data) -> bool``: only edges for which it is true are candidates
        (e.g. rail edges that carry freight).
    """

    def __init__(self, G: nx.Graph, *, edge_filter: Any = None) -> None:
        self.G = G
        edges = [
            (u, v) for u, v, d in G.edges(data=True) if edge_filter is None or edge_filter(u, v, d)
        ]
        self._geoms = np.array([G.edges[e]["geometry"] for e in edges], dtype=object)
        self._tree = shapely.STRtree(self._geoms)
        self._pieces: dict[int, list[tuple[int, int]]] = {
            k: [(min(e), max(e))] for k, e in enumerate(edges)
        }
        self._owner: dict[tuple[int, int], int] = {(min(e), max(e)): k for k, e in enumerate(edges)}

    def nearest(self, lon: float, lat: float, *, max_km: float) -> Hit | None:
        """The nearest point on a candidate edge within ``max_km``, or None."""
        dlat = max_km / KM_PER_DEG_LAT
        dlon = max_km / (KM_PER_DEG_LON_EQ * max(math.cos(math.radians(lat)), 0.05))
        cand = self._tree.query(box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        if len(cand) == 0:
            return None
        pt = shapely.Point(lon, lat)
        # Distances in raw degrees; a line cannot be nearer on the ground than
        # cos(lat) times its degree distance, so prune those that cannot win.
        deg = shapely.distance(pt, self._geoms[cand])
        keep = cand[deg * math.cos(math.radians(lat)) <= deg.min() + 1e-12]
        best: tuple[float, int, int, int, float] | None = None
        for k in keep:
            for a, b in self._pieces[int(k)]:
                coords = shapely.get_coordinates(self.G.edges[a, b]["geometry"])
                seg, t, d = nearest_on_polyline(coords, lon, lat)
                if best is None or d < best[0]:
                    best = (d, a, b, seg, t)
        if best is None:
            return None
        _, a, b, seg, t = best
        coords = shapely.get_coordinates(self.G.edges[a, b]["geometry"])
        q = coords[seg] + t * (coords[seg + 1] - coords[seg])
        off = point_km(lon, lat, q[0], q[1])
        if off > max_km:
            return None
        return Hit(a, b, seg, t, float(q[0]), float(q[1]), off)

    def split(self, hit: Hit) -> int:
        """Split the edge of ``hit`` at its point (see :func:`split_edge`); return the node."""
        k = self._owner.pop((hit.u, hit.v))
        w = split_edge(self.G, hit.u, hit.v, hit.seg, hit.t)
        pieces = self._pieces[k]
        pieces.remove((hit.u, hit.v))
        if w in (hit.u, hit.v):
            pieces.append((hit.u, hit.v))
            self._owner[(hit.u, hit.v)] = k
        else:
            for e in ((min(hit.u, w), max(hit.u, w)), (min(w, hit.v), max(w, hit.v))):
                pieces.append(e)
                self._owner[e] = k
        return w

    def link(self, lon: float, lat: float, *, max_km: float) -> tuple[int, float] | None:
        """Join a point to the graph: ``(node, offset_km)``, splitting an edge; None if far."""
        hit = self.nearest(lon, lat, max_km=max_km)
        if hit is None:
            return None
        return self.split(hit), hit.offset_km


def add_lines(
    G: nx.Graph,
    gdf: Any,
    *,
    tolerance_km: float,
    snap_m: float = 30.0,
    file: str = "extra lines",
) -> nx.Graph:
    """Add more line features (e.g. a planned siding) to a graph, IN PLACE.

    Each new line's end points join the existing graph at the nearest point on a line
    (the edge is split there) when within ``tolerance_km``; otherwise the new lines join
    only each other, by shared end points (within ``snap_m``).

    Parameters
    ----------
    G : networkx.Graph
        Modified in place (copy first when it came from a cache you want to keep).
    gdf : geopandas.GeoDataFrame
        Line features with the optional properties of a line layer.
    tolerance_km : float
    snap_m : float
    file : str
        Names the source in error messages.

    Returns
    -------
    networkx.Graph
        ``G``.
    """
    mode = str(G.graph.get("mode", "road"))
    features = validate_line_frame(gdf, file=file, mode=mode)
    H = build_graph(features, mode=mode, snap_m=snap_m)
    locator = EdgeLocator(G)
    offset = max((int(n) for n in G.nodes), default=-1) + 1
    mapping: dict[int, int] = {}
    for n, d in H.nodes(data=True):
        hit = None
        # every end point joins, also one shared by two new lines (the planned siding
        # and 聊泰 both end at 聊城东: that point must join 邯济, not only each other)
        if H.degree(n) >= 1 and G.number_of_edges() > 0:
            hit = locator.nearest(d["x"], d["y"], max_km=tolerance_km)
        if hit is not None:
            mapping[n] = locator.split(hit)
        else:
            mapping[n] = offset + int(n)
            G.add_node(mapping[n], x=d["x"], y=d["y"])
    G.graph["next_node"] = max(int(n) for n in G.nodes) + 1
    for u, v, d in H.edges(data=True):
        a, b = mapping[u], mapping[v]
        coords = shapely.get_coordinates(d["geometry"])
        coords = coords if u < v else coords[::-1]
        coords = coords.copy()
        coords[0] = (G.nodes[a]["x"], G.nodes[a]["y"])
        coords[-1] = (G.nodes[b]["x"], G.nodes[b]["y"])
        attrs = {k: val for k, val in d.items() if k not in ("geometry", "length_km")}
        if a != b:
            add_edge(G, a, b, coords, length_km=_relength(d, coords), **attrs)
    return G


def _relength(data: dict[str, Any], coords: np.ndarray) -> float:
    """The edge's length scaled by how much moving its ends changed its geodesic length."""
    before = geodesic_km(shapely.get_coordinates(data["geometry"]))
    after = geodesic_km(coords)
    return float(data["length_km"]) * (after / before) if before > 0 else after


def total_km(G: nx.Graph, *, weight: str = "length_km") -> float:
    """Sum of edge lengths."""
    return float(sum(d for _, _, d in G.edges(data=weight)))


def iter_edge_geoms(G: nx.Graph) -> Iterable[LineString]:
    """Edge geometries of ``G``."""
    return (d for _, _, d in G.edges(data="geometry"))
