"""The restricted master's first columns.

- each flow's cheapest chain its rule allows, capacities ignored (:func:`seed`);
- when its rule allows any chain, a chain that uses no finite capacity at all
  (:func:`free_start`): the shortest road-only chain when roads have no capacities
  (:func:`road_only`), else the cheapest capacity-free one (:func:`capacity_free`) -- so
  the master is feasible from the start whenever the flows can all be carried, and phase 1
  is skipped when every flow on its start respects every capacity;
- a warm start's chains, under this problem's rules (:func:`warm_columns`).

The starts are kept on the graph (:mod:`freight.colgen.caches`), for the policy-off run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from freight.colgen.caches import ChainCache, RoadCache, collect_pending, keep_starts
from freight.colgen.pricing import NO_DUALS, Pricer
from freight.expanded_graph import Column, CostClass, MultimodalGraph
from freight.problem import Flow, Solution


def seed(pricer: Pricer, cheapest: dict[str, Column]) -> Column | None:
    """The flow's cheapest chain its rule allows (``cheapest``: its cheapest chain of each
    kind, :meth:`Pricer.cheapest`), costed under the rule (a capacity-free one among
    equally cheap ones)."""
    cols = []
    for kind in ("general", "compliant"):
        col = cheapest.get(kind)
        if col is None:
            continue
        rule = pricer.rules[col.flow_id]
        if (rule.general and kind == "general") or (rule.compliant and col.chain.compliant):
            cols.append(pricer.ruled(col))
    if not cols:
        return None
    return min(cols, key=lambda c: (c.cost_cny_per_t, bool(c.rows)))


def capacity_free(pricer: Pricer, flows: Sequence[Flow]) -> dict[str, Column]:
    """Each flow's cheapest chain using no finite capacity (penalty-free cost), for the
    flows that have one; kept on the graph by flow."""
    g = pricer.g
    memo = g.derived(ChainCache, pricer.max_access_km).capacity_free
    todo = [f for f in flows if f not in memo]
    by_comm: dict[CostClass, list[Flow]] = {}
    for f in todo:
        by_comm.setdefault(g.cost_class(f), []).append(f)
        memo[f] = None
    for commodity, group in by_comm.items():
        cost, _ = g.arc_costs(commodity)
        w = np.where(g.row >= 0, np.inf, cost)
        by_id = {f.id: f for f in group}
        for cand in pricer.general(group, w, NO_DUALS, penalty=False):
            memo[by_id[cand.flow.id]] = cand.build()
    return {f.id: c for f in flows if (c := memo[f]) is not None}


def free_start(pricer: Pricer, flows: Sequence[Flow]) -> dict[str, Column]:
    """A chain using no finite capacity for each flow that has one: the shortest
    road-only chain when no road arc has a capacity (:func:`road_only`), else
    :func:`capacity_free`. Costs without penalty."""
    g = pricer.g
    if np.any(g.row[g.road_edge] >= 0):
        return capacity_free(pricer, flows)
    collect_pending(g)  # a prefetch helper may be building the road-only starts
    roads = g.derived(RoadCache)
    if roads.road_only is None:
        roads.road_only = {}
    memo = roads.road_only
    if any(f not in memo for f in flows):
        keep_starts(g, road_only(pricer, [*pricer.flows, *flows]))
    return {f.id: c for f in flows if (c := memo[f]) is not None}


def road_only(pricer: Pricer, flows: Sequence[Flow]) -> dict[Flow, Column | None]:
    """The shortest road-only chain of each flow (None: none), by one km search per
    destination or origin for every commodity. Called with the problem's flows first, so
    the search's direction, and so the chain among equally short ones, does not depend on
    which flows ask."""
    g = pricer.g
    todo = list(dict.fromkeys(flows))
    out: dict[Flow, Column | None] = dict.fromkeys(todo)
    w = np.where(g.road_only_arcs(), g.km.sum(axis=1), np.inf)  # km: any commodity
    for cand in pricer.general(todo, w, NO_DUALS, penalty=False):
        out[cand.flow] = cand.build()
    return out


def warm_columns(
    warm: Solution, pricer: Pricer, graph: MultimodalGraph
) -> list[Column]:
    """The chains of ``warm`` (those it used, then the rest of its final master) as
    columns under this problem's rules."""
    out = []
    for fid, chain in [(a.flow_id, a.chain) for a in warm.assignments] + list(warm.chains):
        rule = pricer.rules.get(fid)
        if rule is None or (not rule.general and not chain.compliant):
            continue
        cost = chain.cost_cny_per_t + (0.0 if chain.compliant else rule.penalty_cny_per_t)
        out.append(Column(fid, chain, cost, graph.rows_of_chain(chain)))
    return out
