"""Nearest point ON a line, and splitting the line there: how places, stations and new lines
join a graph (PEERS: snapping to the nearest vertex instead is what users complain of).

:class:`EdgeLocator` answers "where is this point nearest to the network" with an STRtree
over the edges and splits edges at that point, keeping lengths (the two halves share the
edge's ``length_km`` in proportion to their geodesic lengths). Added lines (a planned
siding) are joined by :func:`networks.sidings.add_lines`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

from networks.graph import (
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON_EQ,
    split_edge,
)
from networks.io import (
    point_km,
)

_KM_PER_DEG = np.array([KM_PER_DEG_LON_EQ, KM_PER_DEG_LAT])


def local_xy(lonlat: np.ndarray, lat0: float) -> np.ndarray:
    """Lon/lat to km on a plane tangent at latitude ``lat0`` (good to ~1% within 100 km)."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    out = lonlat * _KM_PER_DEG
    out[:, 0] *= math.cos(math.radians(lat0))
    return out


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
        edges: list[tuple[int, int]] = []
        geoms: list[LineString] = []
        for u, v, d in G.edges(data=True):
            if edge_filter is None or edge_filter(u, v, d):
                edges.append((u, v) if u < v else (v, u))
                geoms.append(d["geometry"])
        self._geoms = np.array(geoms, dtype=object)
        self._tree = shapely.STRtree(self._geoms)
        self._pieces: dict[int, list[tuple[int, int]]] = {k: [e] for k, e in enumerate(edges)}
        self._owner: dict[tuple[int, int], int] = {e: k for k, e in enumerate(edges)}

    def nearest(self, lon: float, lat: float, *, max_km: float) -> Hit | None:
        """The nearest point on a candidate edge within ``max_km``, or None."""
        dlat = max_km / KM_PER_DEG_LAT
        dlon = max_km / (KM_PER_DEG_LON_EQ * max(math.cos(math.radians(lat)), 0.05))
        cand = self._tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        if len(cand) == 0:
            return None
        pt = shapely.Point(lon, lat)
        # Distances in raw degrees; a line cannot be nearer on the ground than
        # cos(lat) times its degree distance, so prune those that cannot win.
        deg = shapely.distance(pt, self._geoms[cand])
        keep = cand[deg * math.cos(math.radians(lat)) <= deg.min() + 1e-12]
        return self._nearest_on(keep, lon, lat, max_km)

    def candidates(
        self, lons: Sequence[float], lats: Sequence[float], *, max_km: float
    ) -> list[np.ndarray]:
        """For many points at once, the edges :meth:`nearest` would look at.

        They depend only on the graph the locator was made for (splits do not change
        them), so a batch of points can be queried in one call and then linked one by one
        with :meth:`link_from`, exactly as :meth:`link` would, point after point.
        """
        n = len(lons)
        if n == 0:
            return []
        lon = np.asarray(lons, dtype=float)
        lat = np.asarray(lats, dtype=float)
        cos = np.array([math.cos(math.radians(y)) for y in lat.tolist()])
        dlat = max_km / KM_PER_DEG_LAT
        dlon = np.array([max_km / (KM_PER_DEG_LON_EQ * max(c, 0.05)) for c in cos.tolist()])
        boxes = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        who, cand = self._tree.query(boxes)
        order = np.argsort(who, kind="stable")  # by point, each point's edges in tree order
        who, cand = who[order], cand[order]
        deg = shapely.distance(shapely.points(lon, lat)[who], self._geoms[cand])
        bounds = np.searchsorted(who, np.arange(n + 1))
        out: list[np.ndarray] = []
        for i in range(n):
            lo, hi = bounds[i], bounds[i + 1]
            if lo == hi:
                out.append(cand[lo:hi])
                continue
            d = deg[lo:hi]
            out.append(cand[lo:hi][d * float(cos[i]) <= d.min() + 1e-12])
        return out

    def link_from(
        self, keep: np.ndarray, lon: float, lat: float, *, max_km: float
    ) -> tuple[int, float] | None:
        """:meth:`link` for a point whose :meth:`candidates` are ``keep``."""
        if len(keep) == 0:
            return None
        hit = self._nearest_on(keep, lon, lat, max_km)
        if hit is None:
            return None
        return self.split(hit), hit.offset_km

    def _nearest_on(self, keep: np.ndarray, lon: float, lat: float, max_km: float
                    ) -> Hit | None:
        adj = self.G._adj  # noqa: SLF001 -- networkx's adjacency, read without a view (speed)
        pieces = [e for k in keep.tolist() for e in self._pieces[k]]
        if not pieces:
            return None
        geoms = [adj[a][b]["geometry"] for a, b in pieces]
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        # every segment of every piece at once, in the order pieces and segments were
        # tried one by one before (the first of equal distances wins)
        xy = local_xy(coords, lat)
        p = np.array([lon * KM_PER_DEG_LON_EQ * math.cos(math.radians(lat)),
                      lat * KM_PER_DEG_LAT])
        if len(pieces) == 1:
            a, b = xy[:-1], xy[1:]
        else:
            same = which[:-1] == which[1:]
            seg_piece = which[:-1][same]
            a, b = xy[:-1][same], xy[1:][same]
        ab = b - a
        denom = np.einsum("ij,ij->i", ab, ab)
        t = np.zeros(len(denom))
        np.divide(np.einsum("ij,ij->i", p - a, ab), denom, out=t, where=denom > 0)
        np.maximum(t, 0.0, out=t)
        np.minimum(t, 1.0, out=t)
        q = a + ab * t[:, None]
        d = np.hypot(q[:, 0] - p[0], q[:, 1] - p[1])
        k = int(np.argmin(d))
        if len(pieces) == 1:
            best, seg = 0, k
        else:
            best = int(seg_piece[k])
            seg = k - int(np.searchsorted(seg_piece, best))
        ua, ub = pieces[best]
        at = k + best  # each piece before it has one more vertex than segments
        tk = float(t[k])
        c0, c1 = coords[at], coords[at + 1]
        qx, qy = (c0 + tk * (c1 - c0)).tolist()
        off = point_km(lon, lat, qx, qy)
        if off > max_km:
            return None
        return Hit(ua, ub, seg, tk, qx, qy, off)

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
