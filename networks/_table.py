"""Graphs as arrays while they are built: an edge table, its contraction, one networkx graph.

Building a graph edge by edge in networkx (and a shapely LineString per edge, twice: once
for the raw edges, once for the contracted ones) costs seconds on a 65k-feature layer. Here
the raw edges stay in numpy arrays -- one flat coordinate array, an index range and an
orientation per edge -- the degree-2 chains are found on plain integer lists, every
geometry of the contracted graph is made by ONE :func:`shapely.linestrings` call, and the
networkx graph is built once at the end.

The result is the graph the edge-by-edge code (:func:`networks.graph.add_edge` for every
line, then :func:`networks.simplification.simplify_graph`) gives, down to the order of
nodes, of each node's neighbours and of the attributes: the same node ids, the same
chains walked from the same ends in the same order, lengths summed in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import shapely

#: Attributes that must be equal on both sides of a node for it to be contracted.
MERGE_ATTRS: tuple[str, ...] = ("name", "lines", "capacity_t", "freight", "commodities")

#: Optional edge attribute: where along its geometry an edge's ``length_km`` is not spread
#: in proportion to geodesic length -- an edge merged from features whose given
#: ``length_km`` differ in km per geodesic km. A tuple of ``(vertex index, km from the
#: geometry's first vertex)`` at the interior vertices where the rate changes; between two
#: of them (and the ends, at 0 and ``length_km``) km are spread by geodesic length.
#: Absent (or empty): one rate along the whole edge. See :func:`networks.graph.km_along`.
KM_AT = "km_at"

#: A merged edge gets :data:`KM_AT` marks only when spreading its km by geodesic length
#: would put a joint of its features further than this from the km the features give
#: (1 m: the precision the shipped layers give ``length_km`` in).
MARK_TOL_KM = 1e-3


@dataclass
class EdgeTable:
    """An undirected simple graph held in arrays.

    Attributes
    ----------
    graph : dict
        Graph attributes.
    node_ids : list of int
        Nodes in insertion order.
    node_xy : numpy.ndarray
        ``(n, 2)`` lon/lat of each node, in ``node_ids`` order.
    node_attrs : list of dict, optional
        Full attribute dicts of the nodes (when they carry more than ``x``/``y``).
    u, v : numpy.ndarray
        Edge ends (node ids), edges in insertion order.
    xy : numpy.ndarray
        ``(m, 2)`` coordinates of all edges, back to back.
    start, stop : numpy.ndarray
        Edge ``i``'s coordinates are ``xy[start[i]:stop[i]]``...
    fwd : numpy.ndarray
        ... read forwards (True) or backwards to run from the smaller node id to the larger.
    length : numpy.ndarray
        ``length_km`` (or the chosen weight) of each edge.
    src : list of dict
        Per edge, the attribute dict it is made from (``weight`` and ``geometry`` are
        replaced); edges of one feature may share one dict.
    key : numpy.ndarray
        Per edge, an integer that is equal for two edges iff their merge attributes are.
    adjacency : tuple of (ptr, nbr, eid), optional
        Neighbour order of each node (CSR over node positions); by default the order in
        which the edges were inserted.
    """

    graph: dict[str, Any]
    node_ids: list[int]
    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    xy: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    fwd: np.ndarray
    length: np.ndarray
    src: list[dict[str, Any]]
    key: np.ndarray
    node_attrs: list[dict[str, Any]] | None = None
    adjacency: tuple[list[int], list[int], list[int]] | None = None
    weight: str = "length_km"
    isolated: list[int] = field(default_factory=list)


def key_ids(values: Sequence[tuple[Any, ...]]) -> np.ndarray:
    """An integer per tuple, equal for equal tuples."""
    ids: dict[tuple[Any, ...], int] = {}
    return np.fromiter((ids.setdefault(t, len(ids)) for t in values), dtype=np.int64,
                       count=len(values))


def table_from_graph(
    G: nx.Graph, *, attrs: Sequence[str] = MERGE_ATTRS, weight: str = "length_km"
) -> EdgeTable:
    """The edge table of a networkx graph (geometry oriented as the contract says)."""
    node_ids = list(G.nodes)
    pos = {n: i for i, n in enumerate(node_ids)}
    node_xy = np.array([(d.get("x", math.nan), d.get("y", math.nan))
                        for _, d in G.nodes(data=True)], dtype=float).reshape(-1, 2)
    edges = list(G.edges(data=True))
    index = {}
    for i, (a, b, _) in enumerate(edges):
        index[(a, b)] = i
        index[(b, a)] = i
    ptr, nbr, eid = [0], [], []
    for n in node_ids:
        for m in G.adj[n]:
            nbr.append(pos[m])
            eid.append(index[(n, m)])
        ptr.append(len(nbr))
    geoms = np.array([d["geometry"] for _, _, d in edges], dtype=object)
    if len(edges):
        xy, owner = shapely.get_coordinates(geoms, return_index=True)
        counts = np.bincount(owner, minlength=len(edges))
    else:
        xy, counts = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    stop = np.cumsum(counts)
    return EdgeTable(
        graph=dict(G.graph),
        node_ids=node_ids,
        node_xy=node_xy,
        node_attrs=[dict(d) for _, d in G.nodes(data=True)],
        u=np.array([a for a, _, _ in edges], dtype=object),
        v=np.array([b for _, b, _ in edges], dtype=object),
        xy=xy,
        start=stop - counts,
        stop=stop,
        fwd=np.ones(len(edges), dtype=bool),
        length=np.array([d[weight] for _, _, d in edges], dtype=object),
        src=[d for _, _, d in edges],
        # an edge whose km are not spread evenly (KM_AT) keeps to itself: its own key
        key=key_ids([tuple(d.get(a) for a in attrs) + ((i,) if d.get(KM_AT) else ())
                     for i, (_, _, d) in enumerate(edges)]),
        adjacency=(ptr, nbr, eid),
        weight=weight,
        isolated=[n for n in node_ids if G.degree(n) == 0],
    )


def _csr(t: EdgeTable) -> tuple[list[int], list[int], list[int]]:
    """Neighbour lists (CSR over node positions) in edge insertion order."""
    if t.adjacency is not None:
        return t.adjacency
    n = len(t.node_ids)
    pos = {nid: i for i, nid in enumerate(t.node_ids)}
    pu = np.fromiter((pos[x] for x in t.u.tolist()), dtype=np.int64, count=len(t.u))
    pv = np.fromiter((pos[x] for x in t.v.tolist()), dtype=np.int64, count=len(t.v))
    m = len(pu)
    ends = np.concatenate([pu, pv])
    other = np.concatenate([pv, pu])
    eid = np.concatenate([np.arange(m), np.arange(m)])
    order = np.lexsort((eid, ends))
    counts = np.bincount(ends, minlength=n)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    return ptr.tolist(), other[order].tolist(), eid[order].tolist()


def contract(t: EdgeTable, *, keep: Collection[int] = ()) -> nx.Graph:  # noqa: C901,PLR0912,PLR0915 -- one pass contracting degree-2 chains, kept whole for its order
    """Contract degree-2 chains (see :func:`networks.simplification.simplify_graph`).

    Returns
    -------
    networkx.Graph
        Built once, with every geometry made in one vectorised call.
    """
    ptr, nbr, eid = _csr(t)
    ids = t.node_ids
    n = len(ids)
    deg = np.diff(np.asarray(ptr, dtype=np.int64)) if n else np.zeros(0, dtype=np.int64)
    # ends: degree not 2, kept, or the two edges differ in their merge attributes
    is_end = deg != 2
    two = np.flatnonzero(~is_end)
    if len(two):
        p = np.asarray(ptr, dtype=np.int64)[two]
        e = np.asarray(eid, dtype=np.int64)
        is_end[two] = t.key[e[p]] != t.key[e[p + 1]]
    if keep:
        keep_set = set(keep)
        is_end |= np.fromiter((x in keep_set for x in ids), dtype=bool, count=n)
    # the same set, built in node order, so it is walked in the same order
    ends: set[int] = set(np.asarray(ids, dtype=object)[is_end].tolist())
    end_pos = is_end.tolist()
    seen = [False] * len(t.src)
    paths: list[tuple[list[int], list[int]]] = []  # (node positions, edge ids)
    pos_of = {nid: i for i, nid in enumerate(ids)}

    def walk(s: int, slot: int) -> tuple[list[int], list[int]]:
        first = nbr[slot]
        e0 = eid[slot]
        nodes, edges = [s, first], [e0]
        seen[e0] = True
        prev, cur = s, first
        while not end_pos[cur] and cur != s:
            a = ptr[cur]
            if nbr[a] != prev:
                nxt, e = nbr[a], eid[a]
            else:
                nxt, e = nbr[a + 1], eid[a + 1]
            if seen[e]:  # pure cycle closing on itself
                break
            seen[e] = True
            nodes.append(nxt)
            edges.append(e)
            prev, cur = cur, nxt
        return nodes, edges

    for s_id in ends:
        s = pos_of[s_id]
        for slot in range(ptr[s], ptr[s + 1]):
            if not seen[eid[slot]]:
                paths.append(walk(s, slot))
    # what is left are cycles of degree-2 nodes with equal attributes: open each at a node
    # (in networkx's edge order: nodes in order, each edge from its first-listed end)
    if not all(seen):
        done = [False] * n
        for s in range(n):
            for slot in range(ptr[s], ptr[s + 1]):
                if done[nbr[slot]]:
                    continue
                if not seen[eid[slot]]:
                    end_pos[s] = True
                    paths.append(walk(s, slot))
            done[s] = True
    paths.sort(key=lambda p: len(p[0]))

    # Cut each chain where it would double an edge or close a loop. The single edges sort
    # first and are never cut: they go in as they are, the chains after them one by one.
    length = t.length.tolist()
    n_single = 0
    while n_single < len(paths) and len(paths[n_single][0]) == 2:
        n_single += 1
    out_a = [p[0][0] for p in paths[:n_single]]
    out_b = [p[0][1] for p in paths[:n_single]]
    out_src = [p[1][0] for p in paths[:n_single]]
    out_len = [length[e] for e in out_src]
    out_marks: dict[int, tuple] = {}  # output edge -> KM_AT marks, in traversal order
    geo: list[float] = []  # geodesic km of every edge, computed at the first merge
    piece_e = list(out_src)
    piece_p = list(out_a)  # node position the piece is traversed from
    piece_q = list(out_b)
    piece_first = [True] * n_single
    piece_final = list(range(n_single))
    have: set[tuple[int, int]] = set()
    if n_single < len(paths):
        have = {(x, y) if x < y else (y, x) for x, y in zip(out_a, out_b, strict=True)}
    for nodes, edges in paths[n_single:]:
        a, b = nodes[0], nodes[-1]
        last = len(nodes) - 1
        if a == b:
            cuts = [0, last // 3, (2 * last) // 3, last]
        elif last >= 2 and (min(a, b), max(a, b)) in have:
            cuts = [0, last // 2, last]
        else:
            cuts = [0, last]
        for i, j in zip(cuts[:-1], cuts[1:], strict=True):
            x, y = nodes[i], nodes[j]
            have.add((min(x, y), max(x, y)))
            k = len(out_a)
            out_a.append(x)
            out_b.append(y)
            out_src.append(edges[i])
            if j - i == 1:
                out_len.append(length[edges[i]])
            else:
                total = 0.0
                for ei in edges[i:j]:
                    total += float(length[ei])
                out_len.append(total)
                if not geo:
                    geo = _geodesic_of_edges(t)
                marks = _merged_marks(t, edges[i:j], length, geo)
                if marks:
                    out_marks[k] = marks
            for r in range(i, j):
                piece_e.append(edges[r])
                piece_p.append(nodes[r])
                piece_q.append(nodes[r + 1])
                piece_first.append(r == i)
                piece_final.append(k)

    geoms = _chain_geometries(t, ids, piece_e, piece_p, piece_q, piece_first, piece_final,
                              out_a, out_b)
    H = nx.Graph()
    H.graph.update(t.graph)
    attrs = t.node_attrs
    for nid in t.isolated:
        H.add_node(nid, **(attrs[pos_of[nid]] if attrs else {}))
    ebunch = []
    weight = t.weight
    src = t.src
    n_vertices = shapely.get_num_coordinates(geoms) if out_marks else None
    for k, (x, y) in enumerate(zip(out_a, out_b, strict=True)):
        d = dict(src[out_src[k]])
        d[weight] = out_len[k]
        d["geometry"] = geoms[k]
        if k in out_marks:
            marks = out_marks[k]
            if ids[x] > ids[y]:  # the geometry runs from the smaller id: marks follow
                n_v = int(n_vertices[k])  # type: ignore[index]
                marks = tuple((n_v - 1 - a, out_len[k] - km) for a, km in reversed(marks))
            d[KM_AT] = marks
        ebunch.append((ids[x], ids[y], d))
    H.add_edges_from(ebunch)
    _set_node_attrs(H, t, pos_of)
    return H


def _geodesic_of_edges(t: EdgeTable) -> list[float]:
    """Geodesic km of every edge's geometry (as stored), in one vectorised call."""
    from networks.io import _geodesic_km_flat  # (io does not import this module)

    n = (t.stop - t.start).astype(np.int64)
    which = np.repeat(np.arange(len(n)), n)
    pos = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    coords = t.xy[np.asarray(t.start, dtype=np.int64)[which] + pos]
    return _geodesic_km_flat(coords, which, len(n)).tolist()  # type: ignore[no-any-return]


def _merged_marks(t: EdgeTable, edges: list[int], length: list[Any], geo: list[float]) -> tuple:
    """:data:`KM_AT` marks of an edge merged from ``edges`` (in traversal order): the
    vertex and km at every joint, when spreading the summed km by geodesic length would
    misplace a joint by more than :data:`MARK_TOL_KM`; else ``()``."""
    n = [int(t.stop[e] - t.start[e]) for e in edges]
    km = g = 0.0
    at = 0
    joints = []
    for e, n_e, g_e in zip(edges, n, [geo[e] for e in edges], strict=True):
        km += float(length[e])
        g += g_e
        at += n_e - 1
        joints.append((at, km, g))
    total_km, total_g = km, g
    joints.pop()  # the far end
    if total_g <= 0 or all(
        abs(k - total_km * gj / total_g) <= MARK_TOL_KM for _, k, gj in joints
    ):
        return ()
    return tuple((a, k) for a, k, _ in joints)


def _set_node_attrs(H: nx.Graph, t: EdgeTable, pos_of: dict[int, int]) -> None:
    nodes = H._node  # the node attribute dicts, filled in place  # noqa: SLF001 -- networkx's node storage, filled whole (speed)
    if t.node_attrs is not None:
        for nid, d in nodes.items():
            if not d:
                d.update(t.node_attrs[pos_of[nid]])
        return
    xy = t.node_xy.tolist()
    for nid, d in nodes.items():
        x, y = xy[pos_of[nid]]
        d["x"] = x
        d["y"] = y


def _chain_geometries(  # noqa: PLR0913 -- an edge's attributes
    t: EdgeTable, ids: list[int], piece_e: list[int], piece_p: list[int],
    piece_q: list[int], piece_first: list[bool], piece_final: list[int],
    out_a: list[int], out_b: list[int],
) -> np.ndarray:
    """One LineString per contracted edge: its pieces joined, smaller node id first."""
    if not out_a:
        return np.zeros(0, dtype=object)
    idarr = np.asarray(ids)
    pe = np.asarray(piece_e, dtype=np.int64)
    pp = idarr[np.asarray(piece_p, dtype=np.int64)]
    pq = idarr[np.asarray(piece_q, dtype=np.int64)]
    first = np.asarray(piece_first, dtype=bool)
    final = np.asarray(piece_final, dtype=np.int64)
    s = t.start[pe]
    n = t.stop[pe] - s
    # the stored geometry runs from the smaller id; the piece runs from p to q
    forward = (pp < pq) == t.fwd[pe]
    skip = (~first).astype(np.int64)
    keep_n = n - skip
    total = int(keep_n.sum())
    rep = np.repeat(np.arange(len(pe)), keep_n)
    begin = np.cumsum(keep_n) - keep_n
    pos = np.arange(total) - begin[rep] + skip[rep]
    idx = np.where(forward[rep], s[rep] + pos, s[rep] + n[rep] - 1 - pos)
    fe = final[rep]
    # whole edges whose first end is the larger id run backwards
    a = idarr[np.asarray(out_a, dtype=np.int64)]
    b = idarr[np.asarray(out_b, dtype=np.int64)]
    rev = a > b
    if rev.any():
        fcount = np.bincount(fe, minlength=len(out_a))
        fstart = np.cumsum(fcount) - fcount
        at = np.arange(total)
        within = at - fstart[fe]
        flip = rev[fe]
        at[flip] = (fstart[fe] + fcount[fe] - 1 - within)[flip]
        idx = idx[at]
    return shapely.linestrings(t.xy[idx], indices=fe)

