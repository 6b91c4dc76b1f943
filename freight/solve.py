"""Solve a :class:`Problem` exactly by column generation over chains.

Formulation (the path form of a multicommodity min-cost flow with side rules):

- one variable ``x[f,c] >= 0`` per flow ``f`` and chain ``c`` (tonnes/year);
- ``demand_<flow>``: the chains of a flow carry all its tonnes;
- ``cap_<mode>_<u>_<v>`` / ``terminal_<place>``: tonnes over a directed edge / lifts at a
  terminal within its capacity (only finite capacities);
- a chain costs its generalised cost per tonne, plus ``penalty_cny_per_t`` when the flow is
  eligible, the rule is soft and the chain is not compliant; under the hard rule an eligible
  flow's chains are compliant ones only.

The restricted master starts from every flow's cheapest chain(s) of each kind it may use.
Pricing (:mod:`freight.pricing`) is exact, so when no chain has negative reduced cost the
master's optimum is the optimum over *all* chains. Phase 1 minimises unserved tonnes (cost
1 per tonne) and prices with the duals alone; a positive phase-1 optimum proves the hard
rule infeasible. Phase 2 minimises cost with the unserved tonnes fixed at 0.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from freight.baseline import Baseline, baseline
from freight.explain import FlowCheck, check_flows, flow_statuses, rules_for
from freight.model import Master, MasterResult
from freight.network_view import Column, MultimodalGraph
from freight.pricing import Pricer
from freight.problem import Assignment, Binding, Problem, Solution, Status

__all__ = ["Baseline", "baseline", "solve", "solve_policy_off"]


def solve(
    problem: Problem,
    *,
    warm: Solution | None = None,
    graph: MultimodalGraph | None = None,
    export_lp: str | Path | None = None,
    max_iterations: int = 1000,
) -> Solution:
    """Minimise the yearly generalised cost of all flows under the problem's policy.

    Parameters
    ----------
    problem : Problem
        Network, flows, costs, policy, solver.
    warm : Solution, optional
        A previous solution whose chains seed the master (e.g. the policy-on run when
        solving with the policy off).
    graph : MultimodalGraph, optional
        The expanded graph, when already built for the same network and costs.
    export_lp : str, optional
        Write the final master to this path (MPS, or LP when it ends in ``.lp``).
    max_iterations : int
        Safety bound on master solves.

    Returns
    -------
    Solution
        ``Status.OPTIMAL`` with assignments, bindings and a reason for every flow;
        ``Status.INFEASIBLE`` when the hard rule cannot hold, the message naming the flows
        short of capacity and the capacities in the way.
    """
    t0 = time.perf_counter()
    graph = graph if graph is not None else MultimodalGraph(problem.network, problem.costs)
    checks = check_flows(problem, graph)
    rules = rules_for(problem, checks)
    pricer = Pricer(graph, problem, rules)
    flows = {f.id: f for f in problem.flows}
    master = Master({f.id: f.tonnes for f in problem.flows}, graph.rows, solver=problem.solver)
    zero = np.zeros(len(graph.rows))
    master.add_columns(pricer.candidates(zero, phase=2, flows=list(problem.flows)))
    if warm is not None:
        master.add_columns(_warm_columns(warm, pricer, graph, problem))
    iterations = 0
    total_t = sum(f.tonnes for f in problem.flows)
    tol_t = 1e-7 * max(1.0, total_t)

    res = master.solve(phase=1)
    iterations += 1
    stalled = 0
    while res.optimal and res.objective > tol_t and iterations < max_iterations:
        priced = pricer.price(res.pi, res.sigma, phase=1)
        new = master.add_columns([c for c, _ in priced])
        if new == 0:
            stalled += bool(priced)
            break
        res = master.solve(phase=1)
        iterations += 1
    if not res.optimal and res.status != "Infeasible":
        return Solution(
            Status.ERROR,
            float("nan"),
            (),
            (),
            {},
            message=f"master (phase 1): {res.status}",
            iterations=iterations,
        )
    if not res.optimal or res.objective > tol_t:
        if export_lp:  # the phase-1 master shows what cannot hold
            master.export_lp(str(export_lp))
        return _infeasible(problem, graph, master, res, checks, iterations, t0)

    res = master.solve(phase=2)
    iterations += 1
    while res.optimal and iterations < max_iterations:
        priced = pricer.price(res.pi, res.sigma, phase=2)
        new = master.add_columns([c for c, _ in priced])
        if new == 0:
            # a negative reduced cost on a column already in the master: numerical noise
            stalled += bool(priced)
            break
        res = master.solve(phase=2)
        iterations += 1
    if not res.optimal:
        return Solution(
            Status.ERROR,
            float("nan"),
            (),
            (),
            {},
            message=f"master: {res.status}",
            iterations=iterations,
        )
    if export_lp:
        master.export_lp(str(export_lp))
    assignments = [
        Assignment(c.flow_id, c.chain, x)
        for c, x in zip(master.columns, res.x, strict=True)
        if x > 1e-9 * max(1.0, flows[c.flow_id].tonnes)
    ]
    bindings = _bindings(graph, master, res)
    statuses = flow_statuses(problem, graph, checks, assignments, bindings)
    cost = sum(a.tonnes * a.chain.cost_cny_per_t for a in assignments)
    co2 = sum(a.tonnes * a.chain.co2_g_per_t for a in assignments) / 1e6
    stats = {
        "columns": float(len(master.columns)),
        "seconds": time.perf_counter() - t0,
        "cost_cny": cost,
        "penalty_cny": res.objective - cost,
        "co2_t": co2,
        "rows": float(len(res.slack)),
        "stalled": float(stalled),
    }
    return Solution(
        Status.OPTIMAL,
        res.objective,
        tuple(assignments),
        tuple(bindings),
        dict(statuses),
        message="",
        iterations=iterations,
        stats=stats,
    )


def solve_policy_off(
    problem: Problem, on: Solution | None = None, *, graph: MultimodalGraph | None = None
) -> Solution:
    """The same problem with the rule switched off, warm-started from ``on``'s chains."""
    return solve(replace(problem, policy=problem.policy.off()), warm=on, graph=graph)


def _warm_columns(
    warm: Solution, pricer: Pricer, graph: MultimodalGraph, problem: Problem
) -> list[Column]:
    out = []
    for a in warm.assignments:
        rule = pricer.rules.get(a.flow_id)
        if rule is None or (not rule.general and not a.chain.compliant):
            continue
        cost = a.chain.cost_cny_per_t + (0.0 if a.chain.compliant else rule.penalty_cny_per_t)
        out.append(Column(a.flow_id, a.chain, cost, graph.rows_of_chain(a.chain)))
    return out


def _used(master: Master, res: MasterResult) -> dict[int, float]:
    used: dict[int, float] = {}
    for c, x in zip(master.columns, res.x, strict=True):
        for r, k in c.rows.items():
            used[r] = used.get(r, 0.0) + k * x
    return used


def _bindings(graph: MultimodalGraph, master: Master, res: MasterResult) -> list[Binding]:
    """Capacity rows with (almost) no slack and a non-zero dual, by shadow price."""
    used = _used(master, res)
    out = []
    for r, slack in res.slack.items():
        row = graph.rows[r]
        if abs(slack) > 1e-6 * max(1.0, row.capacity_t) or abs(res.pi[r]) <= 1e-7:
            continue
        ref = (row.key[1], row.key[2], row.key[3]) if row.kind == "edge" else (row.key[1],)
        out.append(
            Binding(
                row.name,
                row.kind,
                ref,
                row.label,
                row.capacity_t,
                used.get(r, 0.0),
                float(-res.pi[r]),
            )
        )
    out.sort(key=lambda b: (-b.shadow_cny_per_t, b.name))
    return out


def _infeasible(
    problem: Problem,
    graph: MultimodalGraph,
    master: Master,
    res: MasterResult,
    checks: dict[str, FlowCheck],
    iterations: int,
    t0: float,
) -> Solution:
    """A Status.INFEASIBLE solution naming the flows short and the capacities in the way."""
    short = {f: u for f, u in res.unserved.items() if u > 1e-7 * max(1.0, u)}
    tonnes = {f.id: f.tonnes for f in problem.flows}
    flow_txt = "; ".join(
        f"{f} ({u:,.0f} of {tonnes[f]:,.0f} t unserved)" for f, u in sorted(short.items())
    )
    rows = [r for r in res.slack if abs(res.pi[r]) > 1e-9]
    used = _used(master, res)
    cap_txt = "; ".join(
        f"{graph.rows[r].name} ({graph.rows[r].label}: {used.get(r, 0.0):,.0f} of "
        f"{graph.rows[r].capacity_t:,.0f} t)"
        for r in sorted(rows, key=lambda r: res.pi[r])
    )
    no_chain = [f for f in short if not any(c.flow_id == f for c in master.columns)]
    msg = (
        f"硬约束不可行 / the hard rule cannot hold: flows short: {flow_txt or res.status}. "
        f"Capacities in the way: {cap_txt or 'none (no chain at all)'}"
    )
    if no_chain:
        msg += f". No usable chain at all for: {', '.join(sorted(no_chain))}"
    stats: dict = {
        "columns": float(len(master.columns)),
        "seconds": time.perf_counter() - t0,
        "unserved_t": float(sum(short.values())),
        # for InfeasibleError(flows=..., constraints=...) in freight.run
        "short_flows": sorted(short),
        "blocking": [graph.rows[r].name for r in rows],
    }
    statuses = flow_statuses(problem, graph, checks, [], [])
    return Solution(
        Status.INFEASIBLE,
        float("nan"),
        (),
        (),
        dict(statuses),
        message=msg,
        iterations=iterations,
        stats=stats,
    )
