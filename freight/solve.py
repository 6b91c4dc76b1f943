"""Solve a :class:`Problem` exactly by column generation over chains.

Formulation (the path form of a multicommodity min-cost flow with side rules):

- one variable ``x[f,c] >= 0`` per flow ``f`` and chain ``c`` (tonnes/year);
- ``demand_<flow>``: the chains of a flow carry all its tonnes;
- ``cap_<mode>_<u>_<v>`` / ``terminal_<place>``: tonnes over a directed edge / lifts at a
  terminal within its capacity (only finite capacities);
- a chain costs its generalised cost per tonne, plus ``penalty_cny_per_t`` when the flow is
  eligible, the rule is soft and the chain is not compliant; under the hard rule an eligible
  flow's chains are compliant ones only.

**Settled flows.** A flow whose cheapest chain under its rule (capacities ignored: zero
duals) uses no finite capacity -- no capacitated edge, no capacitated terminal -- is
settled outside the LP: all its tonnes go on that chain, at that cost. This is exact.
(i) Objective: take any feasible solution of the whole model; the settled flow's part
costs at least ``t_f c*_f`` (``c*_f`` being its cheapest chain), and the other flows' part
is feasible for the model without it (removing a flow's tonnes only frees capacity), so
costs at least that model's optimum; and that optimum plus ``t_f c*_f`` is attained, since
the settled chain takes no capacity from anyone. (ii) Duals: the duals of the model without
the settled flows, with ``sigma_f = c*_f`` for each settled flow, are optimal for the whole
model: the only new dual constraints are the settled flows' chains, whose reduced costs
``cost_c - c*_f - sum_r pi_r a_rc`` are ``>= cost_c - c*_f >= 0`` as ``pi <= 0``, and the
new primal columns are basic at reduced cost 0 on rows with no capacity. So a settled flow
never needs pricing again, whatever the final duals: its demand row involves it alone.
Flows whose cheapest chain touches a capacity go to the master.

The restricted master starts from each remaining flow's cheapest chain and, when its rule
allows any chain, a chain using no capacity at all (the shortest road-only one when roads
have no capacities, else the cheapest capacity-free one). When every remaining flow fully
on one of these (capacity-free when it has one) respects every capacity, phase 1 is
skipped (it would end at 0).

**Lazy capacity rows.** A capacity row enters the master only once a master solution
overloads it (first: those the flows' cheapest chains overload together); rows enter with
the next round's columns. The master is then a relaxation of the one with every row, so its
optimum, once it respects every capacity and nothing prices out, is the optimum; the rows
left out have dual 0 (at province: ~2,300 of 11,700 rows used by columns). A warm start
(``warm``) takes in at once the rows its solution's master ended with
(:attr:`Solution.rows`): more rows than needed change nothing but the master's size.

**Row management** (``drop_rows_after``). Rows also leave: a capacity row whose slack has
been basic with more than ``_ROW_SLACK`` of its capacity left for ``drop_rows_after``
consecutive master solves is deleted (twice as many each time it came back; not in the
tail, where a row coming back costs an interior point instead of a warm re-solve). A basic
slack has dual 0, so the same basis stays optimal without the row: same solution, same
duals. A deleted row is a lazy row again, back when a solution overloads it, so the end
test above is unchanged and the optimum exact. At province, with the rule: 1,892
deletions and 945 returns over the run, 1,348 capacity rows in the final master instead
of 2,269, HiGHS 35 s instead of 52-58 s in driver runs of the same hour, for the same
optimum (benchmarks/README.md).

**Fast pricing** (``fast``, by default for masters of ``_LARGE_FLOWS`` flows or more):
general chains are priced first among road-main-road chains and the capacity-free start
only (:meth:`Pricer.candidates`), exactly only when that finds nothing; the loop ends only
on an exact pricing that finds nothing.

Pricing (:mod:`freight.pricing`) is exact, so when no chain
has negative reduced cost the master's optimum is the optimum over *all* chains. Phase 1
minimises unserved tonnes (cost 1 per tonne) and prices with the duals alone; a positive
phase-1 optimum proves the hard rule infeasible. Phase 2 minimises cost with the unserved
tonnes fixed at 0.

Each round adds, of the columns that price out, each flow's most negative one and at most
``max_new`` of those (most negative first): a small master re-solves fast, and the loop
still ends only when nothing prices out at the master's duals.
"""

from __future__ import annotations

import logging
import os
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
from networks._table import no_gc

__all__ = ["Baseline", "baseline", "solve", "solve_policy_off"]

_LARGE_FLOWS = 4000
"""Flows in the master from which ``solve`` prices general chains fast first and smooths
the duals (see its parameters ``fast`` and ``smoothing``)."""
_LARGE_SMOOTHING = 0.5
_TAIL_GAIN = 1e-5
"""A phase-2 round that adds no row and lowers the objective by less than this share starts
the tail: from there new columns go in by warm primal simplex and pricing is no longer
smoothed (province, benchmarks/README.md: 43-49 instead of 65 master solves with the same
optimum, against a threshold of 1e-7 with smoothing kept in the tail)."""

_ROW_SLACK = 0.05
"""Row management (``solve``'s ``drop_rows_after``): the share of its capacity (at least 1 t)
a capacity row must have left, its slack basic, to count a round towards its deletion
(province, benchmarks/README.md)."""

_log = logging.getLogger(__name__)


def _cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@no_gc()
def solve(
    problem: Problem,
    *,
    warm: Solution | None = None,
    graph: MultimodalGraph | None = None,
    export_lp: str | Path | None = None,
    max_iterations: int = 1000,
    time_limit: float | None = None,
    settle: bool | None = None,
    smoothing: float | None = None,
    max_new: int | None = None,
    drop_after: int = 3,
    drop_rows_after: int = 3,
    fast: bool | None = None,
    workers: int | None = None,
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
        Safety bound on master solves: reached before the optimum is proved, the solve
        returns ``Status.ITERATION_LIMIT`` (never an optimum it has not proved).
    time_limit : float, optional
        Seconds (wall clock) after which the next round is not started:
        ``Status.TIME_LIMIT``.
    settle : bool, optional
        Settle outside the LP every flow whose cheapest chain touches no finite capacity
        (see the module docstring); default: yes, unless ``export_lp`` asks for the LP of
        the whole model.
    smoothing : float, optional
        Wentges dual smoothing weight in ``[0, 1)`` of the stability centre (the duals
        with the best Lagrangian value so far): pricing first at a point between it and
        the master's duals, keeping only the columns that price out at the master's own
        duals. Exact either way: the loop ends only when nothing prices out at the
        master's own duals. Default: ``_LARGE_SMOOTHING`` when the master holds at least
        ``_LARGE_FLOWS`` flows, else 0 (measured: 0.5 took 22 instead of 12 master solves
        at ``large``, 2,000 flows; at ``province``, 8,000 flows, it reached after 20 master
        solves the objective that took 25 without; benchmarks/README.md). Off in the
        tail (see ``_TAIL_GAIN``).
    max_new : int, optional
        Columns added per round at most, the most negative first (each flow its best
        one); default ``max(500, flows in the master // 4)``.
    drop_after : int
        Column management (phase 2, HiGHS): a column non-basic at zero with a positive
        reduced cost (above 1e-6 per CNY/t of its cost) after this many consecutive master
        solves is deleted from the master; 0 keeps every column. Exact: deleting
        non-basic columns changes neither the master's optimum nor its duals, and a deleted
        column is an ordinary candidate of pricing, re-added if it prices out again, so the
        loop still ends only when no chain at all prices out at the master's duals.
    drop_rows_after : int
        Row management (phase 2, HiGHS): a capacity row whose slack is basic with more than
        ``_ROW_SLACK`` of its capacity left after this many consecutive master solves is
        deleted from the master, and after twice as many each time it came back; none is
        deleted in the tail (see ``_TAIL_GAIN``); 0 keeps every row that entered. Exact: a
        basic slack has dual 0, so deleting its row changes neither the master's optimum
        nor its duals, and a deleted row is an ordinary lazy row again, back as soon as a
        master solution overloads it -- the loop ends only when nothing prices out and
        nothing is overloaded.
    fast : bool, optional
        Phase 2 prices general chains fast first (:meth:`Pricer.candidates`: road ends of
        any length joined through the rail/pipeline layer, plus the flow's capacity-free
        start, :meth:`Pricer.free_start`; a road leg between two main legs is missed) and
        exactly only when that finds nothing -- so the loop still ends only on an exact
        pricing that finds nothing. Default: when the master holds at least ``_LARGE_FLOWS`` flows
        (building the terminals' road trees costs more than it saves on small runs:
        at ``large`` 4.9 s instead of 3.7 s; at ``province`` a pricing round fell from
        ~3.5 s to ~1.7 s).
    workers : int, optional
        Processes that price phase 2 under capacity duals: 2 forks one worker that prices
        about half of the commodities (:meth:`Pricer.start_worker`) while this process
        prices the rest and HiGHS is idle; 1 prices here alone. Exact either way. Default:
        2 with fast pricing on a machine with two or more cores available, else 1. Unless
        1 (or ``fast`` False), a problem of ``_LARGE_FLOWS`` flows or more on two or more
        cores also has the terminals' road trees (then the flows' road-only starts) built
        in a forked process while this one checks the flows
        (:meth:`Pricer.prefetch_terminal_trees`).

    Returns
    -------
    Solution
        ``Status.OPTIMAL`` with assignments, bindings and a reason for every flow;
        ``Status.ITERATION_LIMIT`` / ``Status.TIME_LIMIT`` when a limit stops it first,
        ``Status.ERROR`` when the LP solver fails (no assignments: only an optimum is a
        result); ``Status.INFEASIBLE`` when the rule cannot hold, the message naming the flows
        short of capacity and the capacities in the way.

    Notes
    -----
    Python's cyclic garbage collector is paused while it runs (so also in its forks): the
    loop makes no cyclic garbage, the master being freed by reference counting when it
    returns, but the columns and chains it allocates set off full collections, each
    walking every object of the process: 14 of them, 6.3 s, in the main process of a
    province run (measured with ``gc.callbacks``).
    """
    t0 = time.perf_counter()
    graph = graph if graph is not None else MultimodalGraph(problem.network, problem.costs)
    big = len(problem.flows) >= _LARGE_FLOWS
    if big and fast is not False and workers != 1 and _cores() >= 2:
        # the terminals' road trees (for fast pricing), then the flows' road-only starts,
        # are built in a fork beside the checks
        Pricer(graph, problem, {}).prefetch_terminal_trees()
    checks = check_flows(problem, graph)
    rules = rules_for(problem, checks)
    pricer = Pricer(graph, problem, rules)
    flows = {f.id: f for f in problem.flows}
    cheapest = pricer.cheapest(problem.flows)
    seeds = {f.id: _seed(pricer, cheapest[f.id]) for f in problem.flows}
    if settle is None:
        settle = export_lp is None  # an exported LP holds every flow
    settled = [c for c in seeds.values() if settle and c is not None and not c.rows]
    done = {c.flow_id for c in settled}
    rest = [f for f in problem.flows if f.id not in done]
    master = Master(
        {f.id: f.tonnes for f in rest}, graph.rows, solver=problem.solver, lazy_rows=True
    )
    master.add_columns([c for f in rest if (c := seeds[f.id]) is not None])
    # a capacity-free chain for every flow that may take one: a feasible start
    free = pricer.free_start([f for f in rest if rules[f.id].general])
    free_cols = {fid: pricer.ruled(c) for fid, c in free.items()}
    master.add_columns(list(free_cols.values()))
    if warm is not None:
        master.add_columns(
            [c for c in _warm_columns(warm, pricer, graph, problem) if c.flow_id not in done]
        )
    if max_new is None:
        max_new = max(500, len(rest) // 4)
    if smoothing is None:
        smoothing = _LARGE_SMOOTHING if len(rest) >= _LARGE_FLOWS else 0.0
    iterations = 0
    total_t = sum(f.tonnes for f in problem.flows)
    # phase 1 calls the master feasible when its unserved tonnes are at most this; phase 2
    # (unserved fixed at 0) has the last word: should it find the master infeasible, the
    # solve is infeasible (see _phase2_infeasible), so the two never disagree silently
    tol_t = _PHASE1_TOL * max(1.0, total_t)

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - t0 > time_limit

    stalled = 0
    # capacity rows enter the master when a solution overloads them (lazy rows); first
    # those the flows' cheapest chains overload together
    master.activate(_overloaded(master, graph, [seeds[f.id] for f in rest]))
    if warm is not None and warm.rows:  # the rows the warm run's master ended with
        by_name = {row.name: r for r, row in enumerate(graph.rows)}
        master.activate([by_name[n] for n in warm.rows if n in by_name])
    # a warm start begins near its optimum, in the tail (see _TAIL_GAIN): after the
    # first solve, new columns go in by warm primal simplex and pricing is not smoothed
    master.warm_columns = warm is not None
    # ... and its first phase-2 solve starts from the warm run's basis, if one here
    master.start_basis = warm.basis if warm is not None else None
    starts = [free_cols.get(f.id, seeds[f.id]) for f in rest]
    if all(c is not None for c in starts) and not _overloaded(master, graph, starts):
        res = None  # every flow on its start is feasible: phase 1 would end at 0
    else:
        res = master.solve(phase=1)
        iterations += 1
    proved = res is None  # phase 1 ends proving feasibility or infeasibility, or at a limit
    while res is not None and res.optimal:
        if res.objective <= tol_t:
            over = master.overloaded(res)
            if not over:
                proved = True
                break  # feasible
            master.activate(over)
        else:
            priced = pricer.price(res.pi, res.sigma, phase=1, flows=rest, skip=master._seen)
            if master.add_columns([c for c, _ in priced]) == 0:
                stalled += bool(pricer.skipped)
                proved = True
                break  # nothing prices out: the master with its rows is infeasible
        if iterations >= max_iterations or out_of_time():
            break
        res = master.solve(phase=1)
        iterations += 1
    if res is not None and not res.optimal and res.status != "Infeasible":
        return _unsolved(_lp_status(res.status), f"master (phase 1): {res.status}", iterations)
    if res is not None and res.optimal and not proved:
        return _unsolved(_limit(out_of_time()), "phase 1 (feasibility)", iterations)
    if res is not None and (not res.optimal or res.objective > tol_t):
        if export_lp:  # the phase-1 master shows what cannot hold
            master.export_lp(str(export_lp))
        return _infeasible(problem, graph, master, res, checks, iterations, t0)

    res = master.solve(phase=2)
    iterations += 1
    tonnes = {f.id: f.tonnes for f in rest}
    caps = np.array([r.capacity_t for r in graph.rows])
    center: tuple[np.ndarray, dict[str, float], float] | None = None
    bound = -np.inf  # best Lagrangian bound from an exact pricing
    if fast is None:
        fast = len(rest) >= _LARGE_FLOWS
    fast = fast and pricer.fast_possible()
    if workers is None:
        workers = 2 if fast and _cores() >= 2 else 1
    if workers >= 2:
        pricer.start_worker()
    exact_rounds = 0
    proved = False  # the loop ends proving the optimum, or at a limit
    try:
        while res.optimal:
            _log.info(
                "master %d: %.6e, %d columns (%d dropped so far), %d rows (%d dropped so far)",
                iterations,
                res.objective,
                len(master.columns),
                master.dropped,
                len(master.cap_rows),
                master.rows_dropped,
            )
            # rows left out that this solution overloads enter with this round's columns
            over = master.overloaded(res)
            cols: list[Column] = []
            # smoothing helps while the duals still travel; in the tail it offers columns
            # already in the master, or that no longer price out at its own duals
            alpha = 0.0 if master.warm_columns else smoothing
            if center is not None and alpha > 0.0:
                # Wentges smoothing: price at a point between the best dual so far (by its
                # Lagrangian value) and the master's duals; a mispricing (nothing new there)
                # falls through to pricing at the master's own duals, which alone may end
                pi_s = alpha * center[0] + (1.0 - alpha) * res.pi
                sigma_s = {
                    f: alpha * center[1].get(f, 0.0) + (1.0 - alpha) * v
                    for f, v in res.sigma.items()
                }
                priced = pricer.price(
                    pi_s,
                    sigma_s,
                    phase=2,
                    flows=rest,
                    limit=max_new,
                    skip=master._seen,
                    skip_log=master.seen_log,
                    fast=fast,
                )
                # with fast pricing a score, not a bound: the stability centre is a heuristic
                value = _lagrangian(pi_s, sigma_s, pricer.low, tonnes, caps)
                if value > center[2]:
                    center = (pi_s, sigma_s, value)
                # only those that price out at the master's own duals can enter its basis
                chosen = _select(master, priced, max_new)
                rcs = _reduced(chosen, res)
                cols = [c for c, rc in zip(chosen, rcs, strict=True) if rc < 0.0]
            # at the master's duals: fast pricing, then exact pricing when that finds nothing
            for exact in ([False, True] if fast else [True]):
                if cols:
                    break
                priced = pricer.price(
                    res.pi,
                    res.sigma,
                    phase=2,
                    flows=rest,
                    limit=max_new,
                    skip=master._seen,
                    skip_log=master.seen_log,
                    fast=not exact,
                )
                value = _lagrangian(res.pi, res.sigma, pricer.low, tonnes, caps)
                if exact:
                    exact_rounds += 1
                    bound = max(bound, value)
                if center is None or value > center[2]:
                    center = (res.pi, dict(res.sigma), value)
                cols = _select(master, priced, max_new)
                # a negative reduced cost on a column already in the master: numerical noise
                stalled += exact and pricer.skipped > 0 and not cols
            if _log.isEnabledFor(logging.INFO):
                rcs = _reduced(cols, res)
                _log.info(
                    "priced %d, rows added %d, bound %.6e, most negative %.3g CNY/t, sum t*rc %.3g",
                    len(cols),
                    len(over),
                    bound,
                    min(rcs, default=0.0),
                    sum(rc * tonnes[c.flow_id] for rc, c in zip(rcs, cols, strict=True)),
                )
            if not cols and not over:
                proved = True
                break
            if iterations >= max_iterations or out_of_time():
                break
            # rows go only before the tail: there one coming back costs an interior point
            row_rounds = 0 if master.warm_columns else drop_rows_after
            master.prune(col_rounds=drop_after, row_rounds=row_rounds, rel=_ROW_SLACK)
            master.activate(over)
            master.add_columns(cols)
            last = res.objective
            res = master.solve(phase=2)
            iterations += 1
            # the objective stalls -- a degenerate tail, columns pricing out at the vertex duals
            # but changing little: from here new columns go in by warm primal simplex (at
            # province 0.02-3 s a re-solve there, against 1-2 s by interior point, which now
            # and then fails over to a cold simplex of 6-8 s) and pricing is not smoothed; a
            # round that added rows may raise the objective, which says nothing about a tail
            stalls = last - res.objective <= _TAIL_GAIN * max(1.0, abs(res.objective))
            if res.optimal and not over and stalls:
                if not master.warm_columns:
                    _log.info("objective stalls: warm primal simplex, no smoothing from here")
                master.warm_columns = True
    finally:
        pricer.stop_worker()
    if not res.optimal and res.status == "Infeasible":
        # phase 1 found the master feasible within its tolerance, phase 2 (no unserved
        # tonnes at all) does not: the rule cannot hold -- by a few tonnes, maybe
        return _phase2_infeasible(problem, graph, master, checks, iterations, t0, export_lp)
    if not res.optimal:
        return _unsolved(_lp_status(res.status), f"master: {res.status}", iterations)
    if not proved:
        return _unsolved(_limit(out_of_time()), "phase 2 (cost)", iterations)
    if export_lp:
        master.export_lp(str(export_lp))
    assignments = [
        Assignment(c.flow_id, c.chain, x)
        for c, x in zip(master.columns, res.x, strict=True)
        if x > 1e-9 * max(1.0, flows[c.flow_id].tonnes)
    ]
    assignments += [Assignment(c.flow_id, c.chain, flows[c.flow_id].tonnes) for c in settled]
    objective = res.objective + sum(flows[c.flow_id].tonnes * c.cost_cny_per_t for c in settled)
    lost = _unassigned(problem, assignments)
    if lost:
        return _unsolved(Status.ERROR, f"tonnes lost between the LP and its result: {lost}",
                         iterations)  # fmt: skip
    bindings = _bindings(graph, master, res)
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
        "stalled": float(stalled),
        "settled": float(len(settled)),
        "dropped": float(master.dropped),
        "rows_dropped": float(master.rows_dropped),
        "rows_back": float(master.rows_back),
        "exact_pricings": float(exact_rounds),
        "fast_pricing": float(fast),
    }
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


def solve_policy_off(
    problem: Problem, on: Solution | None = None, *, graph: MultimodalGraph | None = None
) -> Solution:
    """The same problem with the rule switched off, warm-started from ``on``: the chains it
    used, the rest of its final master's chains, that master's capacity rows and its basis
    (:attr:`Solution.basis`: the first solve is a warm primal simplex), re-solved in the
    tail's way (province: 4 master solves, 7.8-9.7 s in the ninth step's benchmark runs,
    against 27 master solves and 83 s from the used chains alone; same optimum;
    benchmarks/README.md)."""
    return solve(replace(problem, policy=problem.policy.off()), warm=on, graph=graph)


_PHASE1_TOL = 1e-9
"""Phase 1 ends feasible when the unserved tonnes are at most this share of all tonnes
(0.04 t of the 37 Mt of the Liaocheng default). It was 1e-7: 沙曲二矿 at 2,299,999 t of
capacity for 2,300,000 t of flows was 1 t short, within it, and phase 2 then found the
master infeasible. Phase 2 decides in any case (:func:`_phase2_infeasible`)."""


def _limit(timed_out: bool) -> Status:
    return Status.TIME_LIMIT if timed_out else Status.ITERATION_LIMIT


def _lp_status(name: str) -> Status:
    """The solve's status for a master that ended other than optimal or infeasible."""
    low = name.lower()
    if "time" in low:
        return Status.TIME_LIMIT
    if "iteration" in low:
        return Status.ITERATION_LIMIT
    return Status.ERROR


def _unsolved(status: Status, what: str, iterations: int) -> Solution:
    """A solve that ended without an optimum: no assignments, nothing to write."""
    reason = {
        Status.ITERATION_LIMIT: f"stopped at the iteration limit in {what}, optimum not proved",
        Status.TIME_LIMIT: f"stopped at the time limit in {what}, optimum not proved",
    }.get(status, what)
    return Solution(status, float("nan"), (), (), {}, message=reason, iterations=iterations)


def _unassigned(problem: Problem, assignments: list[Assignment]) -> str:
    """Flows whose assigned tonnes do not add up to their tonnes (beyond 1e-6 of them):
    a result must account for every tonne."""
    got: dict[str, float] = {}
    for a in assignments:
        got[a.flow_id] = got.get(a.flow_id, 0.0) + a.tonnes
    bad = [
        f"{f.id} ({got.get(f.id, 0.0):,.6g} of {f.tonnes:,.6g} t)"
        for f in problem.flows
        if abs(got.get(f.id, 0.0) - f.tonnes) > 1e-6 * max(1.0, f.tonnes)
    ]
    return "; ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")


def _phase2_infeasible(
    problem: Problem,
    graph: MultimodalGraph,
    master: Master,
    checks: dict[str, FlowCheck],
    iterations: int,
    t0: float,
    export_lp: str | Path | None,
) -> Solution:
    """Phase 2 found the master infeasible: phase 1 again on the same master names the
    flows short and the capacities in the way (Status.INFEASIBLE)."""
    res = master.solve(phase=1)
    iterations += 1
    if export_lp:
        master.export_lp(str(export_lp))
    if not res.optimal:
        return _unsolved(Status.ERROR, f"master (phase 1 after phase 2): {res.status}",
                         iterations)  # fmt: skip
    return _infeasible(problem, graph, master, res, checks, iterations, t0)


def _t(tonnes: float) -> str:
    """Tonnes for a message, with the decimals they have (up to 6): a shortfall of 0.01 t
    is not "0 t", nor a capacity of 2,299,999.99 t "2,300,000 t"."""
    for digits in range(7):
        if abs(tonnes - round(tonnes, digits)) <= 1e-9 * max(1.0, abs(tonnes)):
            break
    return f"{tonnes:,.{digits}f}"


def _seed(pricer: Pricer, cheapest: dict[str, Column]) -> Column | None:
    """The flow's cheapest chain its rule allows, costed under the rule (a capacity-free
    one among equally cheap ones)."""
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


def _select(master: Master, priced: list[tuple[Column, float]], limit: int) -> list[Column]:
    """The priced columns not in the master yet: each flow's most negative one, then at
    most ``limit`` of those, most negative first."""
    best: dict[str, tuple[float, Column]] = {}
    for c, rc in priced:
        if c.signature in master._seen:
            continue
        if c.flow_id not in best or rc < best[c.flow_id][0]:
            best[c.flow_id] = (rc, c)
    ranked = sorted(best.values(), key=lambda t: t[0])
    return [c for _, c in ranked[:limit]]


def _reduced(cols: list[Column], res: MasterResult) -> list[float]:
    """Reduced costs of ``cols`` at the master's duals, 0 where within the pricing
    tolerance (row terms summed in each column's row order, as a loop would)."""
    if not cols:
        return []
    pim = np.minimum(res.pi, 0.0)
    lens = [len(c.rows) for c in cols]
    n = sum(lens)
    idx = np.fromiter((r for c in cols for r in c.rows), np.int64, n)
    k = np.fromiter((v for c in cols for v in c.rows.values()), float, n)
    owner = np.repeat(np.arange(len(cols)), lens)
    dual = np.bincount(owner, pim[idx] * k, minlength=len(cols))  # sequential sums
    out = []
    for c, d in zip(cols, dual.tolist(), strict=True):
        rc = c.cost_cny_per_t - res.sigma.get(c.flow_id, 0.0) - d
        out.append(rc if rc < -1e-9 * max(1.0, abs(c.cost_cny_per_t)) else 0.0)
    return out


def _lagrangian(
    pi: np.ndarray,
    sigma: dict[str, float],
    low: dict[str, float],
    tonnes: dict[str, float],
    caps: np.ndarray,
) -> float:
    """A lower bound on the optimum of the master's flows from duals ``(pi, sigma)``:
    ``sum_r pi_r cap_r + sum_f t_f (sigma_f + low_f)``, the Lagrangian relaxing the
    capacity rows, with ``low_f <= min(0, most negative reduced cost of f)`` from (exact)
    pricing at those duals (:attr:`Pricer.low`)."""
    pim = np.minimum(pi, 0.0)
    return float(
        pim @ caps
        + sum(t * (sigma.get(f, 0.0) + min(0.0, low.get(f, 0.0))) for f, t in tonnes.items())
    )


def _overloaded(
    master: Master, graph: MultimodalGraph, chains: list[Column | None]
) -> list[int]:
    """Graph rows over capacity when every flow of the master is fully on its chain."""
    used: dict[int, float] = {}
    for c in chains:
        if c is None:
            continue
        t = master.demands[c.flow_id]
        for r, k in c.rows.items():
            used[r] = used.get(r, 0.0) + k * t
    return [r for r, u in used.items() if u > graph.rows[r].capacity_t]


def _warm_columns(
    warm: Solution, pricer: Pricer, graph: MultimodalGraph, problem: Problem
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


def _used(master: Master, res: MasterResult) -> dict[int, float]:
    used: dict[int, float] = {}
    for c, x in zip(master.columns, res.x, strict=True):
        for r, k in c.rows.items():
            used[r] = used.get(r, 0.0) + k * x
    return used


def _bindings(graph: MultimodalGraph, master: Master, res: MasterResult) -> list[Binding]:
    """Capacity rows with (almost) no slack and a non-zero dual, by shadow price.

    A row merged into the binding row of its series (same capacity, same tonnes: see
    :meth:`MultimodalGraph._merge_series_rows`) is reported too, at the series' shadow price.
    """
    used = _used(master, res)
    series: dict[int, list[int]] = {}
    for r, keep in graph.merged.items():
        series.setdefault(keep, []).append(r)
    out = []
    for r, slack in res.slack.items():
        row = graph.rows[r]
        if abs(slack) > 1e-6 * max(1.0, row.capacity_t) or abs(res.pi[r]) <= 1e-7:
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
    short = {f: u for f, u in res.unserved.items() if u > 1e-9 * max(1.0, u)}
    tonnes = {f.id: f.tonnes for f in problem.flows}
    flow_txt = "; ".join(
        f"{f} ({_t(u)} of {tonnes[f]:,.0f} t unserved)" for f, u in sorted(short.items())
    )
    rows = [r for r in res.slack if abs(res.pi[r]) > 1e-9]
    used = _used(master, res)
    cap_txt = "; ".join(
        f"{graph.rows[r].name} ({graph.rows[r].label}: {_t(used.get(r, 0.0))} of "
        f"{_t(graph.rows[r].capacity_t)} t)"
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
