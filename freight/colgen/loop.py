"""Solve a :class:`~freight.problem.Problem` exactly by column generation over chains.

The model is the path form of a multicommodity min-cost flow with side rules:

- one variable ``x[f,c] >= 0`` per flow ``f`` and chain ``c`` (tonnes/year);
- ``demand_<flow>``: the chains of a flow carry all its tonnes;
- ``cap_<mode>_<u>_<v>`` / ``terminal_<place>``: tonnes over a directed edge / lifts at a
  terminal within its capacity (finite capacities only);
- a chain costs its generalised cost per tonne, plus ``penalty_cny_per_t`` when the flow is
  eligible, the rule is soft and the chain is not compliant; under the hard rule an eligible
  flow's chains are compliant ones only (:func:`freight.rule.rules_for`).

There are far too many chains to list, so the restricted master
(:mod:`freight.colgen.master`) holds a few, and exact pricing
(:mod:`freight.colgen.pricing`) finds, at the master's duals, the chains whose reduced cost
is negative -- by shortest paths, so over *all* chains. The loop::

    master <- each flow's cheapest chain, and a chain using no capacity (seeds)
    phase 1, unless the start is feasible: minimise unserved tonnes, pricing with the duals
        alone; a positive optimum with nothing to price proves the rule infeasible
    phase 2, unserved tonnes fixed at 0:
        repeat:
            solve the master -> x, duals sigma (demand rows), pi <= 0 (capacity rows)
            rows <- capacity rows x overloads that the master does not hold yet
            cols <- chains with c - sigma_f - sum_r pi_r a_r < 0, at most max_new
            if no rows and no cols: stop -- x is optimal over every chain and every row
            add rows and cols to the master

**The stopping proof.** When exact pricing finds no chain with negative reduced cost, the
master's duals are feasible for the dual of the model over all chains, so the master's
optimum is a lower bound on the full model's optimum; when the master's solution also
respects every capacity (no row left out is overloaded), it is feasible for the full model,
so it is its optimum. Every accelerator below keeps this end test (each module says why):

- :mod:`~freight.colgen.settle`: flows whose cheapest chain touches no capacity never enter;
- :mod:`~freight.colgen.lazy_rows`: rows enter only once overloaded;
- :mod:`~freight.colgen.pruning`: idle columns and loose rows leave the master;
- :mod:`~freight.colgen.smoothing`: price first at smoothed duals;
- :mod:`~freight.colgen.fast_pricing`: price general chains first among a few;
- :mod:`~freight.colgen.workers`: price in two processes;
- :mod:`~freight.colgen.prefetch`: build fast pricing's road trees in a helper process;
- :mod:`~freight.colgen.interior_point`: re-solve large changes by interior point;
- :mod:`networks.gc_pause`: no garbage-collector pass over a large solve's objects.

Each round adds, of the columns that price out, each flow's most negative one and at most
``max_new`` of those, most negative first: a small master re-solves fast, and the loop still
ends only when nothing prices out at the master's duals. A round that adds no row and
lowers the objective by less than ``tail_gain`` of it starts the *tail*: new columns by
warm primal simplex, no smoothing, no row deletion.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from freight import tolerances as tol
from freight.colgen import fast_pricing, prefetch
from freight.colgen.lazy_rows import overloaded, overloaded_by
from freight.colgen.master import Master, MasterResult
from freight.colgen.options import SolveOptions, cores
from freight.colgen.pricing import Priced, Pricer
from freight.colgen.pruning import Pruner
from freight.colgen.result import infeasible, limit_status, lp_status, optimum, unsolved
from freight.colgen.seeds import free_start, seed, warm_columns
from freight.colgen.settle import settle
from freight.colgen.smoothing import Smoothing, lagrangian
from freight.colgen.workers import Pricing
from freight.expanded_graph import Column, MultimodalGraph
from freight.problem import Problem, Solution, Status
from freight.rule import check_flows, rules_for
from networks.gc_pause import paused_gc

_log = logging.getLogger(__name__)


def solve(
    problem: Problem,
    *,
    warm: Solution | None = None,
    graph: MultimodalGraph | None = None,
    export_lp: str | Path | None = None,
    options: SolveOptions | None = None,
    workers: int | None = None,
) -> Solution:
    """Minimise the yearly generalised cost of all flows under the problem's policy.

    Parameters
    ----------
    problem : Problem
        Network, flows, costs, policy, solver.
    warm : Solution, optional
        A previous solution whose chains, final capacity rows and basis seed the master
        (the policy-on run when solving with the policy off): the master starts in the
        tail.
    graph : MultimodalGraph, optional
        The expanded graph, when already built for the same network and costs.
    export_lp : str, optional
        Write the final master to this path (MPS, or LP when it ends in ``.lp``).
    options : SolveOptions, optional
        Limits and accelerators (:class:`~freight.colgen.options.SolveOptions`; its
        defaults when not given).
    workers : int, optional
        ``options.workers``, for callers that only say how many processes a solve may
        use (1 inside a process that may not start others).

    Returns
    -------
    Solution
        ``Status.OPTIMAL`` with assignments, bindings and a reason for every flow;
        ``Status.ITERATION_LIMIT`` / ``Status.TIME_LIMIT`` when a limit stops it first,
        ``Status.ERROR`` when the LP solver fails (no assignments: only an optimum is a
        result); ``Status.INFEASIBLE`` when the rule cannot hold, the message naming the
        flows short of capacity and the capacities in the way.
    """
    opts = options if options is not None else SolveOptions()
    if workers is not None:
        opts = replace(opts, workers=workers)
    pause = paused_gc() if opts.pausing_gc(len(problem.flows)) else contextlib.nullcontext()
    with pause:
        return _ColumnGeneration(problem, graph, warm, export_lp, opts).run()


def select_columns(master: Master, priced: Priced, limit: int) -> list[Column]:
    """The priced columns not in the master yet: each flow's most negative one, then at
    most ``limit`` of those, most negative first."""
    best: dict[str, tuple[float, Column]] = {}
    for c, rc in priced.columns:
        if c.signature in master.seen:
            continue
        if c.flow_id not in best or rc < best[c.flow_id][0]:
            best[c.flow_id] = (rc, c)
    ranked = sorted(best.values(), key=lambda t: t[0])
    return [c for _, c in ranked[:limit]]


def reduced_costs(cols: list[Column], res: MasterResult) -> list[float]:
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
        out.append(rc if rc < -tol.REDUCED_COST_REL * max(1.0, abs(c.cost_cny_per_t)) else 0.0)
    return out


class _ColumnGeneration:
    """One solve: the master, the pricing and the counts, from the start to the result.

    Read :meth:`run`: :meth:`_phase1` (a feasible master, or the proof there is none),
    :meth:`_phase2` (rounds of :meth:`_round` until nothing prices out and nothing is
    overloaded), :meth:`_result`.
    """

    def __init__(
        self,
        problem: Problem,
        graph: MultimodalGraph | None,
        warm: Solution | None,
        export_lp: str | Path | None,
        opts: SolveOptions,
    ) -> None:
        self.t0 = time.perf_counter()
        self.problem, self.warm, self.export_lp, self.opts = problem, warm, export_lp, opts
        self.graph = g = graph if graph is not None else MultimodalGraph(
            problem.network, problem.costs
        )
        if opts.prefetching(len(problem.flows), cores()):
            # the terminals' road trees (for fast pricing), then the flows' road-only
            # starts, are built in a helper process beside the checks
            prefetch.start(Pricer.for_problem(g, problem, {}, options=opts))
        self.checks = check_flows(problem, g)
        self.rules = rules_for(problem, self.checks)
        self.pricer = Pricer.for_problem(g, problem, self.rules, options=opts)
        self.pricing = Pricing(self.pricer)
        self.iterations = self.stalled = self.exact_rounds = 0
        self.bound = -np.inf  # best Lagrangian bound from an exact pricing
        self._start()

    def _start(self) -> None:
        """The flows of the master, and its first columns and rows (:mod:`seeds`)."""
        problem, g, pricer, warm, opts = self.problem, self.graph, self.pricer, self.warm, self.opts
        cheapest = pricer.cheapest(problem.flows)
        self.seeds = {f.id: seed(pricer, cheapest[f.id]) for f in problem.flows}
        if opts.settling(exporting=self.export_lp is not None):
            self.settled, self.rest = settle(problem.flows, self.seeds)
        else:
            self.settled, self.rest = [], list(problem.flows)
        done = {c.flow_id for c in self.settled}
        self.master = master = Master(
            {f.id: f.tonnes for f in self.rest},
            g.rows,
            solver=problem.solver,
            lazy_rows=opts.lazy_rows,
            options=opts,
        )
        self.pruner = Pruner(master, opts)
        master.add_columns([c for f in self.rest if (c := self.seeds[f.id]) is not None])
        # a capacity-free chain for every flow that may take one: a feasible start
        free = free_start(pricer, [f for f in self.rest if self.rules[f.id].general])
        self.free = {fid: pricer.ruled(c) for fid, c in free.items()}
        master.add_columns(list(self.free.values()))
        if warm is not None:
            master.add_columns([c for c in warm_columns(warm, pricer, g) if c.flow_id not in done])
        # lazy rows: first those the flows' cheapest chains overload together
        seeds = [self.seeds[f.id] for f in self.rest]
        master.activate(overloaded_by(seeds, master.demands, g.rows))
        if warm is not None and warm.rows:  # the rows the warm run's master ended with
            by_name = {row.name: r for r, row in enumerate(g.rows)}
            master.activate([by_name[n] for n in warm.rows if n in by_name])
        # a warm start begins near its optimum, in the tail: after the first solve, new
        # columns go in by warm primal simplex and pricing is not smoothed ...
        master.warm_columns = warm is not None
        # ... and its first phase-2 solve starts from the warm run's basis, if one here
        master.start_basis = warm.basis if warm is not None else None

    def run(self) -> Solution:
        """Phase 1, then phase 2, then the result (see the module docstring)."""
        stopped = self._phase1()
        if stopped is not None:
            return stopped
        res, proved = self._phase2()
        return self._result(res, proved)

    # ------------------------------------------------------------------ the steps
    def _out_of_time(self) -> bool:
        limit = self.opts.time_limit_s
        return limit is not None and time.perf_counter() - self.t0 > limit

    def _at_limit(self) -> bool:
        return self.iterations >= self.opts.max_iterations or self._out_of_time()

    def _solve_master(self, phase: int) -> MasterResult:
        self.iterations += 1
        return self.master.solve(phase=phase)

    def _phase1(self) -> Solution | None:
        """Make the master feasible (unserved tonnes 0), or prove it cannot be: None to go
        on, else the solve's end (infeasible, a limit, an LP failure).

        Phase 1 calls the master feasible when its unserved tonnes are at most
        :data:`~freight.tolerances.PHASE1_UNSERVED_SHARE` of all tonnes; phase 2 (unserved
        fixed at 0) has the last word (:meth:`_phase2_infeasible`), so the two never
        disagree silently."""
        master, g = self.master, self.graph
        tol_t = tol.PHASE1_UNSERVED_SHARE * max(1.0, sum(f.tonnes for f in self.problem.flows))
        starts = [self.free.get(f.id, self.seeds[f.id]) for f in self.rest]
        if all(c is not None for c in starts) and not overloaded_by(
            starts, master.demands, g.rows
        ):
            return None  # every flow on its start is feasible: phase 1 would end at 0
        res = self._solve_master(1)
        proved = False  # phase 1 ends proving feasibility or infeasibility, or at a limit
        while res.optimal:
            if res.objective <= tol_t:
                over = overloaded(master, res)
                if not over:
                    proved = True
                    break  # feasible
                master.activate(over)
            else:
                priced = self.pricing.price(
                    res.pi, res.sigma, phase=1, flows=self.rest, skip=master.seen
                )
                if master.add_columns([c for c, _ in priced.columns]) == 0:
                    self.stalled += bool(priced.skipped)
                    proved = True
                    break  # nothing prices out: the master with its rows is infeasible
            if self._at_limit():
                break
            res = self._solve_master(1)
        if not res.optimal and res.status != "Infeasible":
            return unsolved(lp_status(res.status), f"master (phase 1): {res.status}",
                            self.iterations)  # fmt: skip
        if res.optimal and not proved:
            return unsolved(limit_status(self._out_of_time()), "phase 1 (feasibility)",
                            self.iterations)  # fmt: skip
        if not res.optimal or res.objective > tol_t:
            if self.export_lp:  # the phase-1 master shows what cannot hold
                master.export_lp(str(self.export_lp))
            return infeasible(self.problem, g, master, res, self.checks, self.iterations, self.t0)
        return None

    def _phase2(self) -> tuple[MasterResult, bool]:
        """Minimise cost until nothing prices out and nothing is overloaded: the last
        master result, and whether that proved the optimum (else a limit stopped it)."""
        master, pricer = self.master, self.pricer
        self.opts = opts = self.opts.decide(
            master_flows=len(self.rest),
            cores=cores(),
            fast_possible=lambda: fast_pricing.attach(pricer),
        )
        self.smoothing = Smoothing(float(opts.smoothing or 0.0))
        if (opts.workers or 1) >= 2:  # it starts while the master solves
            self.pricing.start_worker()
        try:
            res = self._solve_master(2)
            while res.optimal:
                self._log_master(res)
                # rows left out that this solution overloads enter with this round's columns
                over = overloaded(master, res)
                cols = self._round(res, over)
                if not cols and not over:
                    return res, True
                if self._at_limit():
                    return res, False
                # rows go only before the tail: there one coming back costs an interior point
                self.pruner.prune(master, rows=not master.warm_columns)
                master.activate(over)
                master.add_columns(cols)
                last = res.objective
                res = self._solve_master(2)
                self._tail(res, last, over)
        finally:
            self.pricing.stop()
        return res, False

    def _round(self, res: MasterResult, over: list[int]) -> list[Column]:
        """The columns of one round at the master's duals: at smoothed duals first, then
        fast pricing, then exact pricing, each only when the one before found nothing."""
        master, opts = self.master, self.opts
        fast = bool(opts.fast_pricing)
        assert opts.max_new is not None
        cols: list[Column] = []
        point = self.smoothing.point(res, tail=master.warm_columns)
        if point is not None:
            # a mispricing (nothing new there) falls through to pricing at the master's
            # own duals, which alone may end the loop
            priced = self._price(*point, fast=fast)
            # with fast pricing a score, not a bound: the stability centre is a heuristic
            self.smoothing.observe(*point, self._lagrangian(*point, priced))
            # only those that price out at the master's own duals can enter its basis
            chosen = select_columns(master, priced, opts.max_new)
            rcs = reduced_costs(chosen, res)
            cols = [c for c, rc in zip(chosen, rcs, strict=True) if rc < 0.0]
        for exact in [False, True] if fast else [True]:
            if cols:
                break
            priced = self._price(res.pi, res.sigma, fast=not exact)
            value = self._lagrangian(res.pi, res.sigma, priced)
            if exact:
                self.exact_rounds += 1
                self.bound = max(self.bound, value)
            self.smoothing.observe(res.pi, dict(res.sigma), value)
            cols = select_columns(master, priced, opts.max_new)
            # a negative reduced cost on a column already in the master: numerical noise
            self.stalled += exact and priced.skipped > 0 and not cols
        self._log_round(res, cols, over)
        return cols

    def _price(self, pi: np.ndarray, sigma: dict[str, float], *, fast: bool) -> Priced:
        master = self.master
        return self.pricing.price(
            pi, sigma, phase=2, flows=self.rest, limit=self.opts.max_new,
            skip=master.seen, skip_log=master.seen_log, fast=fast,
        )  # fmt: skip

    def _lagrangian(self, pi: np.ndarray, sigma: dict[str, float], priced: Priced) -> float:
        tonnes = {f.id: f.tonnes for f in self.rest}
        return lagrangian(pi, sigma, priced.low, tonnes, self.master.caps)

    def _tail(self, res: MasterResult, last: float, over: list[int]) -> None:
        """The objective stalls -- a degenerate tail, columns pricing out at the vertex
        duals but changing little: from here new columns go in by warm primal simplex and
        pricing is not smoothed. A round that added rows may raise the objective, which
        says nothing about a tail."""
        gain = self.opts.tail_gain * max(1.0, abs(res.objective))
        if res.optimal and not over and last - res.objective <= gain:
            if not self.master.warm_columns:
                _log.info("objective stalls: warm primal simplex, no smoothing from here")
            self.master.warm_columns = True

    def _result(self, res: MasterResult, proved: bool) -> Solution:
        """The solution the last phase-2 master result gives (see :mod:`result`)."""
        master = self.master
        if not res.optimal and res.status == "Infeasible":
            # phase 1 found the master feasible within its tolerance, phase 2 (no unserved
            # tonnes at all) does not: the rule cannot hold -- by a few tonnes, maybe
            return self._phase2_infeasible()
        if not res.optimal:
            return unsolved(lp_status(res.status), f"master: {res.status}", self.iterations)
        if not proved:
            return unsolved(limit_status(self._out_of_time()), "phase 2 (cost)",
                            self.iterations)  # fmt: skip
        if self.export_lp:
            master.export_lp(str(self.export_lp))
        counts = {
            "stalled": float(self.stalled),
            "settled": float(len(self.settled)),
            "dropped": float(self.pruner.columns_dropped),
            "rows_dropped": float(self.pruner.rows_dropped),
            "rows_back": float(self.pruner.rows_back(master)),
            "exact_pricings": float(self.exact_rounds),
            "fast_pricing": float(bool(self.opts.fast_pricing)),
        }
        return optimum(self.problem, self.graph, master, res, self.settled, self.checks,
                       self.iterations, self.t0, counts)  # fmt: skip

    def _phase2_infeasible(self) -> Solution:
        """Phase 2 found the master infeasible: phase 1 again on the same master names the
        flows short and the capacities in the way (``Status.INFEASIBLE``)."""
        res = self._solve_master(1)
        if self.export_lp:
            self.master.export_lp(str(self.export_lp))
        if not res.optimal:
            return unsolved(Status.ERROR, f"master (phase 1 after phase 2): {res.status}",
                            self.iterations)  # fmt: skip
        return infeasible(self.problem, self.graph, self.master, res, self.checks,
                          self.iterations, self.t0)  # fmt: skip

    # ------------------------------------------------------------------ the log
    def _log_master(self, res: MasterResult) -> None:
        _log.info(
            "master %d: %.6e, %d columns (%d dropped so far), %d rows (%d dropped so far)",
            self.iterations,
            res.objective,
            len(self.master.columns),
            self.pruner.columns_dropped,
            len(self.master.cap_rows),
            self.pruner.rows_dropped,
        )

    def _log_round(self, res: MasterResult, cols: list[Column], over: list[int]) -> None:
        if not _log.isEnabledFor(logging.INFO):
            return
        rcs = reduced_costs(cols, res)
        tonnes = {f.id: f.tonnes for f in self.rest}
        _log.info(
            "priced %d, rows added %d, bound %.6e, most negative %.3g CNY/t, sum t*rc %.3g",
            len(cols),
            len(over),
            self.bound,
            min(rcs, default=0.0),
            sum(rc * tonnes[c.flow_id] for rc, c in zip(rcs, cols, strict=True)),
        )
