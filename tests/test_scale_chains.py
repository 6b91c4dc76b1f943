"""Chains rebuilt from predecessor arrays.

``MultimodalGraph.path_nodes`` / ``arcs_between`` rebuild a shortest path's arcs for the
whole path at once, and ``chain_from_arcs`` slices legs from per-arc arrays;
both must give what the arc-by-arc rebuild gave (legs, lifts, rows and their order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from freight.expanded_graph import EDGE, SINK, SOURCE, TRANSFER, MultimodalGraph, is_compliant
from freight.problem import MODES, Leg
from tests.generated import generated_problem


def _problem(tmp_path: Path, enforcement: str = "soft"):  # type: ignore[no-untyped-def]
    prob = generated_problem("small", tmp_path, 2, enforcement)
    return prob, MultimodalGraph(prob.network, prob.costs)


def _slow_arcs(mat, arc_of, pred, source, target):  # type: ignore[no-untyped-def]
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    out = []
    for a, b in zip(nodes[:-1], nodes[1:], strict=True):
        lo, hi = mat.indptr[a], mat.indptr[a + 1]
        out.append(int(arc_of[lo + mat.indices[lo:hi].tolist().index(b)]))
    return out


def _slow_chain(g: MultimodalGraph, arcs: list[int]):  # type: ignore[no-untyped-def]
    """The arc-by-arc rebuild ``chain_from_arcs`` replaced (legs, lifts, rows)."""
    legs, lifts, rows = [], [], {}
    mode, nodes, leg_km = "", [], 0.0
    for a in arcs:
        k = g.kind[a]
        if g.row[a] >= 0:
            rows[int(g.row[a])] = rows.get(int(g.row[a]), 0) + 1
        if k == SOURCE:
            mode = MODES[g.arc_mode[a]]
            nodes = [g.node_graph[g.head[a]]]
            leg_km = float(g.km[a].sum())
            if mode != "road":
                lifts.append(g.place_ids[g.place[a]])
        elif k == EDGE:
            nodes.append(g.node_graph[g.head[a]])
            leg_km += float(g.km[a].sum())
        elif k == TRANSFER:
            leg_km += float(g.km[a, g.tail_mode[a]])
            legs.append(Leg(mode, tuple(nodes), leg_km))
            lifts.append(g.place_ids[g.place[a]])
            mode = MODES[g.head_mode[a]]
            nodes = [g.node_graph[g.head[a]]]
            leg_km = float(g.km[a, g.head_mode[a]])
        else:
            assert k == SINK
            leg_km += float(g.km[a].sum())
            legs.append(Leg(mode, tuple(nodes), leg_km))
            if mode != "road":
                lifts.append(g.place_ids[g.place[a]])
    return tuple(legs), tuple(lifts), rows


def test_path_and_chain_rebuild_match_arc_by_arc(tmp_path: Path) -> None:
    prob, g = _problem(tmp_path)
    cost, _ = g.arc_costs(prob.flows[0].commodity)
    mat, arc_of = g.csr(cost, np.ones(len(cost), dtype=bool))
    checked = 0
    same = [f for f in prob.flows if f.commodity == prob.flows[0].commodity]
    for f in same[:40]:
        s, t = g.src(f.origin), g.snk(f.destination)
        dist, pred = dijkstra(mat, indices=s, return_predecessors=True)
        if not np.isfinite(dist[t]):
            continue
        arcs = g.path_arcs(mat, arc_of, pred, s, t)
        assert arcs == _slow_arcs(mat, arc_of, pred, s, t)
        chain, rows = g.chain_from_arcs(arcs, f.commodity, max_access_km=30.0)
        legs, lifts, slow_rows = _slow_chain(g, arcs)
        assert chain.legs == legs and chain.lifts == lifts
        assert list(rows.items()) == list(slow_rows.items())  # same rows, same order
        assert chain.compliant == is_compliant(legs, 30.0)
        assert chain.cost_cny_per_t == pytest.approx(float(cost[arcs].sum()), rel=1e-12)
        checked += 1
    assert checked > 10
