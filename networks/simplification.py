"""Contract chains of degree-2 nodes into single edges, keeping geometry and length.

A node is kept when its degree is not 2, when the two edges at it differ in any of the
merge attributes (a change of name, capacity, freight status, commodities or matched
lines is information), or when the caller asks to keep it. Every other node is removed
and its two edges become one: geometry concatenated (oriented from the smaller node id
to the larger), ``length_km`` summed. Where a chain would become a second edge between
two nodes already joined, or a loop, one or two of its interior nodes are kept so the
graph stays simple (no parallel edges, no self-loops).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

#: Attributes that must be equal on both sides of a node for it to be contracted.
MERGE_ATTRS: tuple[str, ...] = ("name", "lines", "capacity_t", "freight", "commodities")


def _key(d: dict[str, Any], attrs: Sequence[str]) -> tuple[Any, ...]:
    return tuple(d.get(a) for a in attrs)


def simplify_graph(
    G: nx.Graph,
    *,
    attrs: Sequence[str] = MERGE_ATTRS,
    weight: str = "length_km",
    keep: Collection[int] = (),
) -> nx.Graph:
    """Return a copy of ``G`` with degree-2 chains contracted.

    Parameters
    ----------
    G : networkx.Graph
        Graph with ``geometry`` and ``weight`` on every edge.
    attrs : sequence of str
        Edge attributes that must match for two edges to merge.
    weight : str
        The length attribute, summed along a chain.
    keep : collection of int
        Nodes never removed.

    Returns
    -------
    networkx.Graph

    Examples
    --------
    >>> import networkx as nx
    >>> from shapely.geometry import LineString
    >>> G = nx.Graph()
    >>> for n in range(3):
    ...     G.add_node(n, x=float(n), y=0.0)
    >>> G.add_edge(0, 1, length_km=1.0, geometry=LineString([(0, 0), (1, 0)]))
    >>> G.add_edge(1, 2, length_km=2.0, geometry=LineString([(1, 0), (2, 0)]))
    >>> H = simplify_graph(G, attrs=())
    >>> list(H.edges(data="length_km"))
    [(0, 2, 3.0)]
    """
    keep = set(keep)
    ends: set[int] = set()
    for n in G.nodes:
        if G.degree(n) != 2 or n in keep:
            ends.add(n)
            continue
        a, b = (G.edges[n, m] for m in G.neighbors(n))
        if _key(a, attrs) != _key(b, attrs):
            ends.add(n)
    paths: list[list[int]] = []
    seen: set[tuple[int, int]] = set()

    def walk(start: int, first: int) -> list[int]:
        path = [start, first]
        seen.add((min(start, first), max(start, first)))
        prev, cur = start, first
        while cur not in ends and cur != start:
            nxt = next(m for m in G.neighbors(cur) if m != prev)
            if (min(cur, nxt), max(cur, nxt)) in seen:  # pure cycle closing on itself
                break
            seen.add((min(cur, nxt), max(cur, nxt)))
            path.append(nxt)
            prev, cur = cur, nxt
        return path

    for s in ends:
        for m in G.neighbors(s):
            if (min(s, m), max(s, m)) not in seen:
                paths.append(walk(s, m))
    # What is left are cycles of degree-2 nodes with equal attributes: open each at a node.
    for u, v in G.edges:
        if (min(u, v), max(u, v)) not in seen:
            ends.add(u)
            paths.append(walk(u, v))

    H = nx.Graph()
    H.graph.update(G.graph)
    H.add_nodes_from((n, G.nodes[n]) for n in G.nodes if G.degree(n) == 0)
    paths.sort(key=len)
    for path in paths:
        cuts = _cuts(H, path)
        for i, j in zip(cuts[:-1], cuts[1:], strict=True):
            _add_merged(G, H, path[i : j + 1], weight)
    return H


def _cuts(H: nx.Graph, path: list[int]) -> list[int]:
    """Indices in ``path`` where the chain is cut into edges (first and last at least)."""
    a, b = path[0], path[-1]
    last = len(path) - 1
    if a == b:  # a loop back to its start: keep two interior nodes (last >= 3 here)
        return [0, last // 3, (2 * last) // 3, last]
    if H.has_edge(a, b) and last >= 2:
        return [0, last // 2, last]
    return [0, last]


def _add_merged(G: nx.Graph, H: nx.Graph, path: list[int], weight: str) -> None:
    a, b = path[0], path[-1]
    for n in (a, b):
        if n not in H:
            H.add_node(n, **G.nodes[n])
    if len(path) == 2:
        H.add_edge(a, b, **G.edges[a, b])
        return
    parts: list[np.ndarray] = []
    length = 0.0
    for u, v in zip(path[:-1], path[1:], strict=True):
        d = G.edges[u, v]
        c = shapely.get_coordinates(d["geometry"])
        parts.append(c if u < v else c[::-1])
        length += float(d[weight])
    coords = np.vstack([parts[0]] + [p[1:] for p in parts[1:]])
    if a > b:
        coords = coords[::-1]
    data = dict(G.edges[path[0], path[1]])
    data[weight] = length
    data["geometry"] = LineString(coords)
    H.add_edge(a, b, **data)
