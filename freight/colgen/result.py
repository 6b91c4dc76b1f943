"""From the final master to a :class:`~freight.problem.Solution`.

Only a proved optimum carries assignments: it is checked to account for every tonne, and
comes with the capacities that bind (by shadow price) and the rule's reason for every
flow. A solve that stopped short of proving one (a limit, an LP failure) has no
assignments and a message saying where it stopped; an infeasible rule names the flows
short and the capacities in the way.
"""

from __future__ import annotations

import time

from freight import tolerances as tol
from freight.colgen.master import Master, MasterResult
from freight.expanded_graph import Column, MultimodalGraph
from freight.problem import Assignment, Binding, Problem, Solution, Status
from freight.rule import FlowCheck, flow_statuses


def limit_status(timed_out: bool) -> Status:
    """The status of a solve a limit stopped: time, or else iterations."""
    return Status.TIME_LIMIT if timed_out else Status.ITERATION_LIMIT


def lp_status(name: str) -> Status:
    """The solve's status for a master that ended other than optimal or infeasible."""
    low = name.lower()
    if "time" in low:
        return Status.TIME_LIMIT
    if "iteration" in low:
        return Status.ITERATION_LIMIT
    return Status.ERROR


def unsolved(status: Status, what: str, iterations: int) -> Solution:
    """A solve that ended without an optimum: no assignments, nothing to write."""
    reason = {
        Status.ITERATION_LIMIT: f"stopped at the iteration limit in {what}, optimum not proved",
        Status.TIME_LIMIT: f"stopped at the time limit in {what}, optimum not proved",
    }.get(status, what)
    return Solution(status, float("nan"), (), (), {}, message=reason, iterations=iterations)


def optimum(  # noqa: PLR0913 -- the parts of one solve it reports on
    problem: Problem,
    graph: MultimodalGraph,
    master: Master,
    res: MasterResult,
    settled: list[Column],
    checks: dict[str, FlowCheck],
    iterations: int,
    t0: float,
    counts: dict[str, float],
) -> Solution:
    """The proved optimum: the master's columns that carry tonnes and the settled flows'
    chains, the bindings and every flow's reason; its stats are the columns, the seconds
    since ``t0``, the cost, penalty and CO2, then ``counts`` (what the loop counted).
    ``Status.ERROR`` when the assignments do not account for every tonne."""
    flows = {f.id: f for f in problem.flows}
    assignments = [
        Assignment(c.flow_id, c.chain, x)
        for c, x in zip(master.columns, res.x, strict=True)
        if x > tol.USED_SHARE * max(1.0, flows[c.flow_id].tonnes)
    ]
    assignments += [Assignment(c.flow_id, c.chain, flows[c.flow_id].tonnes) for c in settled]
    objective = res.objective + sum(flows[c.flow_id].tonnes * c.cost_cny_per_t for c in settled)
    lost = unassigned(problem, assignments)
    if lost:
        return unsolved(Status.ERROR, f"tonnes lost between the LP and its result: {lost}",
                        iterations)  # fmt: skip
    bindings = binding_rows(graph, master, res)
    statuses = flow_statuses(problem, graph, checks, assignments, bindings)
    cost = sum(a.tonnes * a.chain.cost_cny_per_t for a in assignments)
    co2 = sum(a.tonnes * a.chain.co2_g_per_t for a in assignments) / 1e6
    stats = {
        "columns": float(len(master.columns)),
        "seconds": time.perf_counter() - t0,
        "cost_cny": cost,
        "penalty_cny": objective - cost,
        "co2_t": co2,
        "rows": float(len(res.slack)),
    } | counts
    return Solution(
        Status.OPTIMAL,
        objective,
        tuple(assignments),
        tuple(bindings),
        dict(statuses),
        message="",
        iterations=iterations,
        stats=stats,
        chains=tuple((c.flow_id, c.chain) for c in master.columns),
        rows=tuple(graph.rows[r].name for r in master.cap_rows),
        basis=master.basis(),
    )


def unassigned(problem: Problem, assignments: list[Assignment]) -> str:
    """Flows whose assigned tonnes do not add up to their tonnes (beyond
    :data:`~freight.tolerances.ACCOUNTED_SHARE` of them): a result must account for every
    tonne."""
    got: dict[str, float] = {}
    for a in assignments:
        got[a.flow_id] = got.get(a.flow_id, 0.0) + a.tonnes
    bad = [
        f"{f.id} ({got.get(f.id, 0.0):,.6g} of {f.tonnes:,.6g} t)"
        for f in problem.flows
        if abs(got.get(f.id, 0.0) - f.tonnes) > tol.ACCOUNTED_SHARE * max(1.0, f.tonnes)
    ]
    return "; ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")


def used(master: Master, res: MasterResult) -> dict[int, float]:
    """Tonnes on every graph row the master's columns use, at ``res``."""
    out: dict[int, float] = {}
    for c, x in zip(master.columns, res.x, strict=True):
        for r, k in c.rows.items():
            out[r] = out.get(r, 0.0) + k * x
    return out


def binding_rows(graph: MultimodalGraph, master: Master, res: MasterResult) -> list[Binding]:
    """Capacity rows with (almost) no slack and a non-zero dual, by shadow price.

    A row merged into the binding row of its series (same capacity, same tonnes: see
    :meth:`MultimodalGraph._merge_series_rows`) is reported too, at the series' shadow price.
    """
    tonnes = used(master, res)
    series: dict[int, list[int]] = {}
    for r, keep in graph.merged.items():
        series.setdefault(keep, []).append(r)
    out = []
    for r, slack in res.slack.items():
        row = graph.rows[r]
        if (
            abs(slack) > tol.BINDING_SLACK_SHARE * max(1.0, row.capacity_t)
            or abs(res.pi[r]) <= tol.BINDING_DUAL_CNY
        ):
            continue
        same = [m for m in series.get(r, []) if graph.rows[m].capacity_t == row.capacity_t]
        for k in [r, *same]:
            kr = graph.rows[k]
            ref = (kr.key[1], kr.key[2], kr.key[3]) if kr.kind == "edge" else (kr.key[1],)
            out.append(
                Binding(
                    kr.name,
                    kr.kind,
                    ref,
                    kr.label,
                    kr.capacity_t,
                    tonnes.get(r, 0.0),
                    float(-res.pi[r]),
                )
            )
    out.sort(key=lambda b: (-b.shadow_cny_per_t, b.name))
    return out


def tonnes_text(tonnes: float) -> str:
    """Tonnes for a message, with the decimals they have (up to 6): a shortfall of 0.01 t
    is not "0 t", nor a capacity of 2,299,999.99 t "2,300,000 t".

    Examples
    --------
    >>> tonnes_text(0.01), tonnes_text(2_299_999.99), tonnes_text(1e6)
    ('0.01', '2,299,999.99', '1,000,000')
    """
    for digits in range(7):
        if abs(tonnes - round(tonnes, digits)) <= 1e-9 * max(1.0, abs(tonnes)):
            break
    return f"{tonnes:,.{digits}f}"


def infeasible(
    problem: Problem,
    graph: MultimodalGraph,
    master: Master,
    res: MasterResult,
    checks: dict[str, FlowCheck],
    iterations: int,
    t0: float,
) -> Solution:
    """A ``Status.INFEASIBLE`` solution from a phase-1 master, naming the flows short and
    the capacities in the way."""
    short = {f: u for f, u in res.unserved.items() if u > tol.SHORT_T_REL * max(1.0, u)}
    tonnes = {f.id: f.tonnes for f in problem.flows}
    flow_txt = "; ".join(
        f"{f} ({tonnes_text(u)} of {tonnes[f]:,.0f} t unserved)" for f, u in sorted(short.items())
    )
    rows = [r for r in res.slack if abs(res.pi[r]) > tol.BLOCKING_DUAL]
    load = used(master, res)
    cap_txt = "; ".join(
        f"{graph.rows[r].name} ({graph.rows[r].label}: {tonnes_text(load.get(r, 0.0))} of "
        f"{tonnes_text(graph.rows[r].capacity_t)} t)"
        for r in sorted(rows, key=lambda r: res.pi[r])
    )
    no_chain = [f for f in short if not any(c.flow_id == f for c in master.columns)]
    rule = problem.policy.enforcement
    what = (
        "硬约束不可行 / the hard rule cannot hold"
        if rule == "hard"
        else f"运力不足 / the capacities cannot carry every flow (rule {rule})"
    )
    msg = (
        f"{what}: flows short: {flow_txt or res.status}. "
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
