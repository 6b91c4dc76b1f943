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

import networkx as nx

from networks._table import MERGE_ATTRS, contract, table_from_graph
from networks.gc_pause import paused_gc

__all__ = ["MERGE_ATTRS", "simplify_graph"]


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
    with paused_gc():
        return contract(table_from_graph(G, attrs=attrs, weight=weight), keep=keep)
