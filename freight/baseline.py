"""The "before" picture: every flow entirely on its baseline mode, capacities ignored.

- ``road``: the shortest road path (cheapest = shortest km, the road rate being uniform).
- ``rail`` / ``pipeline``: the cheapest chain *road? - <mode> - road?* (one leg of the mode,
  joined to the ends by sidings or by road legs of any length) whose line haul is that
  mode, i.e. whose rail/pipeline leg is at least as long as each road leg. When no such
  chain exists the cheapest chain with a leg of the mode is used, and failing that, road;
  the flows that fell back are listed in :attr:`Baseline.fallbacks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse.csgraph import dijkstra

from freight.expanded_graph import EDGE, MODE_INDEX, SINK, SOURCE, TRANSFER, MultimodalGraph
from freight.problem import Assignment, Flow, Problem
from networks import base_network


@dataclass(frozen=True)
class Baseline:
    """The baseline assignment of every flow."""

    assignments: tuple[Assignment, ...]
    fallbacks: dict[str, str] = field(default_factory=dict)  # flow id -> what was used


def baseline(problem: Problem, graph: MultimodalGraph | None = None) -> Baseline:
    """Each flow on its baseline mode (see the module docstring), on the base network:
    without the scenario's planned added lines (:func:`networks.base_network`), so
    scenarios that only add infrastructure share one "before". ``graph`` is used when the
    network has no planned lines (else a graph of the base network is built)."""
    base = base_network(problem.network)
    if base is not problem.network:
        problem, graph = replace(problem, network=base), None
    g = graph if graph is not None else MultimodalGraph(problem.network, problem.costs)
    km = g.km.sum(axis=1)
    mask = g.road_only_arcs()
    fwd, fwd_arc = g.csr(km, mask)
    rev, rev_arc = g.csr(km, mask, reverse=True)
    out: dict[str, Assignment] = {}
    fallbacks: dict[str, str] = {}
    # one search per origin (flows taken by origin) and per destination, not per flow;
    # road-only flows from the destinations' reverse trees when there are fewer of them
    by_dest = len({f.destination for f in problem.flows}) < len({f.origin for f in problem.flows})
    rev_trees: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    fwd_tree: tuple[str, np.ndarray, np.ndarray] | None = None

    def rev_tree(dest: str) -> tuple[np.ndarray, np.ndarray]:
        if dest not in rev_trees:
            rev_trees[dest] = dijkstra(rev, indices=g.snk(dest), return_predecessors=True)
        return rev_trees[dest]

    for f in sorted(problem.flows, key=lambda f: f.origin):
        s, t = g.src(f.origin), g.snk(f.destination)
        arcs = None
        if f.baseline_mode in ("rail", "pipeline") or not by_dest:
            if fwd_tree is None or fwd_tree[0] != f.origin:
                fwd_tree = (f.origin, *dijkstra(fwd, indices=s, return_predecessors=True))
            _, d_o, p_o = fwd_tree
        if f.baseline_mode in ("rail", "pipeline"):
            d_d, p_d = rev_tree(f.destination)
            arcs, exact = _mode_chain(
                g, f, f.baseline_mode, (fwd, fwd_arc, d_o, p_o), (rev, rev_arc, d_d, p_d)
            )
            if arcs is None:
                fallbacks[f.id] = "road"
            elif not exact:
                fallbacks[f.id] = f"cheapest chain with a {f.baseline_mode} leg"
        if arcs is None:
            if by_dest:
                d_d, p_d = rev_tree(f.destination)
                if not np.isfinite(d_d[s]):
                    fallbacks[f.id] = "none"
                    continue
                arcs = g.path_arcs(rev, rev_arc, p_d, t, s)[::-1]
            else:
                if not np.isfinite(d_o[t]):
                    fallbacks[f.id] = "none"
                    continue
                arcs = g.path_arcs(fwd, fwd_arc, p_o, s, t)
        chain, _ = g.chain_from_arcs(
            arcs, g.cost_class(f), max_access_km=problem.policy.max_access_km
        )
        out[f.id] = Assignment(f.id, chain, f.tonnes)
    assignments = tuple(out[f.id] for f in problem.flows if f.id in out)
    return Baseline(assignments, fallbacks)


def _mode_chain(
    g: MultimodalGraph, f: Flow, mode: str, fwd: tuple, rev: tuple
) -> tuple[list[int] | None, bool]:
    cost, _ = g.arc_costs(g.cost_class(f))
    mi = MODE_INDEX[mode]
    r_road = g.costs.generalised_cny_per_tkm("road", f.commodity)
    e_road = g.costs.of("road", f.commodity).cny_per_t
    r_mode = g.costs.generalised_cny_per_tkm(mode, f.commodity)
    fmat, farc, d_o, p_o = fwd
    rmat, rarc, d_d, p_d = rev
    s, t = g.src(f.origin), g.snk(f.destination)
    ok = np.isfinite(cost)
    # entries: (cost, road km, mode node, mode offset km, arcs builder)
    ent, ext = [], []
    for a in np.flatnonzero(ok & (g.tail == s) & (g.kind == SOURCE) & (g.arc_mode == mi)):
        ent.append((cost[a], 0.0, int(g.head[a]), g.km[a, mi], lambda a=a: [int(a)]))
    for a in np.flatnonzero(ok & (g.kind == TRANSFER) & (g.tail_mode == 0) & (g.head_mode == mi)):
        dk = d_o[g.tail[a]]
        if np.isfinite(dk):
            ent.append(
                (
                    r_road * dk + e_road + cost[a],
                    dk + g.km[a, 0],
                    int(g.head[a]),
                    g.km[a, mi],
                    lambda a=a: g.path_arcs(fmat, farc, p_o, s, int(g.tail[a])) + [int(a)],
                )
            )
    for a in np.flatnonzero(ok & (g.head == t) & (g.kind == SINK) & (g.arc_mode == mi)):
        ext.append((cost[a], 0.0, int(g.tail[a]), g.km[a, mi], lambda a=a: [int(a)]))
    for a in np.flatnonzero(ok & (g.kind == TRANSFER) & (g.head_mode == 0) & (g.tail_mode == mi)):
        dk = d_d[g.head[a]]
        if np.isfinite(dk):
            ext.append(
                (
                    cost[a] + r_road * dk,
                    dk + g.km[a, 0],
                    int(g.tail[a]),
                    g.km[a, mi],
                    lambda a=a: [int(a)] + g.path_arcs(rmat, rarc, p_d, t, int(g.head[a]))[::-1],
                )
            )
    if not ent or not ext:
        return None, False
    main = ok & (g.kind == EDGE) & (g.arc_mode == mi)
    mat, arc_of = g.csr(g.km.sum(axis=1), main)
    starts = sorted({e[2] for e in ent})
    dist, pred = dijkstra(mat, indices=starts, return_predecessors=True)
    row = {n: i for i, n in enumerate(starts)}
    best: tuple | None = None
    for exact in (True, False):
        for e in ent:
            for x in ext:
                dkm = dist[row[e[2]], x[2]]
                if not np.isfinite(dkm):
                    continue
                leg = e[3] + dkm + x[3]
                if exact and leg < max(e[1], x[1]):
                    continue
                total = e[0] + r_mode * dkm + x[0]
                if best is None or total < best[0]:
                    best = (total, e, x)
        if best is not None:
            _, e, x = best
            mid = g.path_arcs(mat, arc_of, pred[row[e[2]]], e[2], x[2])
            return e[4]() + mid + x[4](), exact
    return None, False
