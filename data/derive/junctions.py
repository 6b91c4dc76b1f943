"""Join the dead ends of a derived layer that lie within one grid cell of another line.

scgraph-data rounds every node to 0.001 deg (84-93 m east-west, 111 m north-south
between 33 and 41 N; 142-145 m across the diagonal). Of the contracted chains'
dead ends, many lie exactly one cell from another line without joining it: the
distances of road dead ends to the nearest other line peak at 80-90, 110-120 and
140-150 m, the cell's width, height and diagonal (``data/derive/README.md``). At the
source's precision such a dead end cannot be told apart from a junction, and a
network that misses the junction sends routes round it.

**Rule.** A dead end (an end point of a chain that no other chain shares) within
``near_m`` (150 m: one cell, diagonal included) of another chain of the same layer is
joined to it at the nearest point on that chain, rounded to the 0.001 deg grid: the
chain gets that point as a vertex (split there unless it is a vertex already) and a
straight connector runs from the dead end to it, unless the two coincide. Dead ends
are taken nearest first; one that an earlier join already reached is no longer a dead
end. Two kinds stay dead ends, and are counted: a one-segment stub whose junction
would be its own other end (it hangs off that line already; a second edge there would
duplicate the first), and a dead end whose junction rounding puts on a vertex of a
third chain (it would join that chain too) or on a dead end cut back (see below). A
dead end within half a cell of the line
(the junction rounds onto the dead end itself) joins it without a connector; where its
own chain is one segment running along that line from a shared end, the two coincide
and become one edge. A dead end that overshoots the line (its own last segment passes
within ``OVERSHOOT_M``, half a cell, of the junction) is cut back to the junction
rather than joined by a connector folding back along that segment; the shortened
segment keeps its share of the source's km. Chains that cross
without a shared vertex are left alone: most are grade-separated (a bridge), and the
geometry cannot tell the others apart.

Lengths: the split edge's length (the source's km) is shared between its pieces in
proportion to their geodesic lengths, so it is unchanged; a connector, which the
source does not have, gets its geodesic length; a cut-back edge keeps its share of its
km. After the joins the chains are contracted again, so every feature still runs between
points of degree other than 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from data.derive.osm_scgraph import _geod, contract_chains
from networks.snapping import nearest_on_polyline
from networks.topology import NEAR_M, SNAP_M, find_near_misses

Point = tuple[float, float]
Chain = list[Point]

#: A dead end whose own last segment passes this close to its junction overshoots the
#: line (metres): half a cell's height, the most rounding moves the junction.
OVERSHOOT_M = 60.0


@dataclass(frozen=True)
class Join:
    """One dead end joined to another chain."""

    dead_end: Point
    target: int  # index of the chain joined
    segment: int  # its segment holding the junction
    t: float  # position on that segment, 0..1
    point: Point  # the junction, on the grid
    distance_m: float  # dead end to the nearest point of the chain (before rounding)
    cut_back_from: Point | None = None  # overshoot: the dead end's neighbour, now joined
    # to the junction directly (the dead end and its last edge are dropped)


def plan_joins(
    chains: Sequence[Chain], *, near_m: float = NEAR_M, decimals: int = 3
) -> tuple[list[Join], list[tuple[Point, str]]]:
    """The joins the rule makes, and the dead ends it leaves although near a line.

    Parameters
    ----------
    chains
        The contracted chains of one layer, ``(lon, lat)`` points on the grid.
    near_m
        Join dead ends within this distance of another chain (metres).
    decimals
        The grid: junction points are rounded to this many decimals.

    Returns
    -------
    joins, left
        ``joins`` in the order they are made (nearest first); ``left``, the dead ends
        within ``near_m`` of a chain that the rule does not join, with the reason:
        ``"stub"`` (the junction would be the dead end's own neighbour: a one-segment
        stub off a line, within a cell of it, already joins it) or ``"third line"``
        (rounding would put the junction on a vertex of a third chain, or on a dead end
        an earlier join cut back).

    Examples
    --------
    A chain stopping one cell (111 m) short of another:

    >>> joins, left = plan_joins([[(0.0, 0.0), (0.0, 0.009)], [(-0.01, 0.01), (0.01, 0.01)]])
    >>> [(j.dead_end, j.target, j.point) for j in joins], left
    ([((0.0, 0.009), 1, (0.0, 0.01))], [])
    """
    from shapely import LineString

    lines = [LineString(c) for c in chains]
    vertices = {p for c in chains for p in c}
    touched: set[Point] = set()
    gone: set[Point] = set()  # dead ends cut back: no longer points of the layer
    joins: list[Join] = []
    left: list[tuple[Point, str]] = []
    for m in find_near_misses(lines, snap_m=SNAP_M, near_m=near_m):
        own = chains[m.line]
        p = own[0] if m.end == 0 else own[-1]
        if p in touched:  # an earlier join reached it: no longer a dead end
            continue
        neighbour = own[1] if m.end == 0 else own[-2]
        target = chains[m.target]
        q = (round(m.point[0], decimals), round(m.point[1], decimals))
        if q == neighbour:
            left.append((p, "stub"))  # the junction is the dead end's own neighbour
            continue
        if q in gone or (q != p and q in vertices and q not in set(target)):
            left.append((p, "third line"))
            continue
        _, _, off_km = nearest_on_polyline(np.array([neighbour, p]), q[0], q[1])
        overshoot = q != p and off_km * 1000.0 <= OVERSHOOT_M
        joins.append(Join(p, m.target, m.segment, m.t, q, m.distance_m,
                          neighbour if overshoot else None))
        touched.update((p, q))
        if overshoot:
            gone.add(p)
    return joins, left


def apply_joins(
    chains: Sequence[Chain],
    joins: Sequence[Join],
    stated: Mapping[frozenset[Point], float],
    *,
    geod=None,  # type: ignore[no-untyped-def]
) -> tuple[list[Chain], dict[frozenset[Point], float]]:
    """Make the joins and contract the chains again.

    Parameters
    ----------
    chains
        The chains :func:`plan_joins` was given.
    joins
        Its joins.
    stated
        The source's km of each edge, keyed by its two end points (edges missing here
        are measured geodesically when a chain's length is summed).
    geod
        A ``pyproj.Geod`` (WGS84 by default).

    Returns
    -------
    chains, stated
        The new chains (from :func:`data.derive.osm_scgraph.contract_chains`) and the
        edge km with the split edges' pieces and the connectors added.
    """
    g = geod or _geod()

    def km(a: Point, b: Point) -> float:
        return float(g.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0

    nbrs: dict[Point, set[Point]] = defaultdict(set)
    for c in chains:
        for a, b in zip(c, c[1:], strict=False):
            nbrs[a].add(b)
            nbrs[b].add(a)
    out = dict(stated)
    splits: dict[tuple[int, int], list[tuple[float, Point]]] = defaultdict(list)
    for j in joins:
        on_chain = set(chains[j.target])
        if j.point not in on_chain:
            splits[(j.target, j.segment)].append((j.t, j.point))
    for (c, k), pts in sorted(splits.items()):
        a, b = chains[c][k], chains[c][k + 1]
        path = [a] + [p for _, p in sorted(set(pts))] + [b]
        path = [p for i, p in enumerate(path) if i == 0 or p != path[i - 1]]
        whole = out.pop(frozenset((a, b)), None)
        nbrs[a].discard(b)
        nbrs[b].discard(a)
        pieces = [km(x, y) for x, y in zip(path, path[1:], strict=False)]
        total = sum(pieces)
        for (x, y), piece in zip(zip(path, path[1:], strict=False), pieces, strict=True):
            nbrs[x].add(y)
            nbrs[y].add(x)
            if whole is not None:
                share = piece / total if total > 0 else 1.0 / len(pieces)
                out[frozenset((x, y))] = whole * share
    for j in joins:
        if j.point == j.dead_end:
            continue
        if j.cut_back_from is not None:  # overshoot: neighbour -> junction, dead end dropped
            n, p, q = j.cut_back_from, j.dead_end, j.point
            whole = out.pop(frozenset((n, p)), None)
            nbrs[n].discard(p)
            nbrs[p].discard(n)
            if frozenset((n, q)) not in out and q not in nbrs[n]:
                nbrs[n].add(q)
                nbrs[q].add(n)
                full = km(n, p)
                out[frozenset((n, q))] = (
                    km(n, q) if whole is None or full <= 0 else whole * km(n, q) / full
                )
            continue
        nbrs[j.dead_end].add(j.point)
        nbrs[j.point].add(j.dead_end)
        out[frozenset((j.dead_end, j.point))] = km(j.dead_end, j.point)
    nbrs = {p: qs for p, qs in nbrs.items() if qs}
    ids = {p: i for i, p in enumerate(sorted(nbrs))}
    coords = {i: p for p, i in ids.items()}
    adjacency = {ids[p]: [ids[q] for q in qs] for p, qs in nbrs.items()}
    return contract_chains(adjacency, coords), out


def join_dead_ends(
    chains: Sequence[Chain],
    stated: Mapping[frozenset[Point], float],
    *,
    near_m: float = NEAR_M,
    decimals: int = 3,
    geod=None,  # type: ignore[no-untyped-def]
    max_rounds: int = 10,
) -> tuple[list[Chain], dict[frozenset[Point], float], list[Join], list[tuple[Point, str]]]:
    """:func:`plan_joins` then :func:`apply_joins`, again on the result until no join is
    left to make (a join can bring another dead end within reach, or take away the one
    that kept it from being joined).

    Returns
    -------
    chains, stated, joins, left
        The new chains and edge km, every join made (round after round), and the dead
        ends the last round left (see :func:`plan_joins`).

    Raises
    ------
    RuntimeError
        If joins are still found after ``max_rounds`` rounds.
    """
    out_chains = [list(c) for c in chains]
    out_stated = dict(stated)
    made: list[Join] = []
    for _ in range(max_rounds):
        joins, left = plan_joins(out_chains, near_m=near_m, decimals=decimals)
        if not joins:
            return out_chains, out_stated, made, left
        out_chains, out_stated = apply_joins(out_chains, joins, out_stated, geod=geod)
        made.extend(joins)
    raise RuntimeError(f"dead ends still being joined after {max_rounds} rounds")
