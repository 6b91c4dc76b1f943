"""The restricted master LP of the column generation, built with PuLP (the only pulp user).

    min   sum_{f,c} cost_c x[f,c]                      (phase 2)
          sum_f unserved[f]                            (phase 1)
    s.t.  demand_<flow>:            sum_c x[f,c] (+ unserved[f]) = tonnes_f
          cap_<mode>_<u>_<v>:       sum x[f,c] * uses(c, edge u->v)  <= capacity_t
          terminal_<place>:         sum x[f,c] * lifts(c, place)     <= capacity_t
          x >= 0, unserved >= 0

Capacity rows are added for every capacity used by a generated column. The master is
rebuilt at each solve (small at city size); :class:`Master` keeps the interface
(``add_columns`` / ``solve`` / ``duals``) narrow so a persistent highspy master can replace
it. Duals come from a basic (simplex) solution, so shadow prices are real vertex duals.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pulp

from freight.network_view import Column, Row, sanitize


@dataclass
class MasterResult:
    """What one solve of the master returns."""

    optimal: bool
    status: str
    objective: float
    x: list[float]  # by column index
    unserved: dict[str, float]
    sigma: dict[str, float]  # dual of demand rows, by flow id
    pi: np.ndarray  # dual of every graph row (0 for rows not in the master), <= 0
    slack: dict[int, float] = field(default_factory=dict)  # by row index, rows in master


class Master:
    """Restricted master over chain columns.

    Parameters
    ----------
    demands : dict
        Tonnes per year by flow id.
    rows : list of Row
        All capacity rows of the graph (only those used by columns enter the LP).
    solver : {"highs", "cbc"}
        HiGHS in memory (simplex) or CBC through PuLP.
    """

    def __init__(self, demands: dict[str, float], rows: list[Row], *, solver: str = "highs"):
        self.demands = dict(demands)
        self.rows = rows
        self.solver = solver
        self.columns: list[Column] = []
        self._seen: set[tuple] = set()
        self._names: dict[str, str] = {}
        for fid in demands:  # LP-safe, unique names for the demand rows
            base, i = sanitize(fid), 1
            name = base
            while name in self._names.values():
                i += 1
                name = f"{base}_{i}"
            self._names[fid] = name
        self._last: pulp.LpProblem | None = None
        self._cons: dict[str, pulp.LpConstraint] = {}
        self._x: list[pulp.LpVariable] = []
        self._u: dict[str, pulp.LpVariable] = {}

    def add_columns(self, columns: list[Column]) -> int:
        """Add columns not already present; return how many were new."""
        n = 0
        for c in columns:
            if c.signature in self._seen:
                continue
            self._seen.add(c.signature)
            self.columns.append(c)
            n += 1
        return n

    def _solver(self) -> pulp.LpSolver:
        if self.solver == "cbc":
            coin = pulp.COIN_CMD(msg=False)
            if coin.available():
                return coin
            with warnings.catch_warnings():  # the bundled CBC: deprecated for PuLP 4 only
                warnings.simplefilter("ignore", DeprecationWarning)
                return pulp.PULP_CBC_CMD(msg=False)
        _highs_banner_to_stderr()
        return pulp.HiGHS(msg=False, solver="simplex")

    def build(self, *, phase: int) -> pulp.LpProblem:
        """The PuLP model of the current master."""
        prob = pulp.LpProblem("freight_master", pulp.LpMinimize)
        x = [
            prob.add_variable(f"chain_{self._names[c.flow_id]}_{k}", lowBound=0)
            for k, c in enumerate(self.columns)
        ]
        u = {}
        expr = pulp.LpAffineExpression  # built from (variable, coefficient) pairs: fast
        if phase == 1:
            u = {
                f: prob.add_variable(f"unserved_{self._names[f]}", lowBound=0) for f in self.demands
            }
            prob += expr([(v, 1.0) for v in u.values()])
        else:
            prob += expr([(x[k], c.cost_cny_per_t) for k, c in enumerate(self.columns)])
        by_flow: dict[str, list] = {f: [] for f in self.demands}
        by_row: dict[int, list] = {}
        for k, c in enumerate(self.columns):
            by_flow[c.flow_id].append((x[k], 1.0))
            for r, cnt in c.rows.items():
                by_row.setdefault(r, []).append((x[k], float(cnt)))
        cons: dict[str, pulp.LpConstraint] = {}
        for f, t in self.demands.items():
            terms = by_flow[f] + ([(u[f], 1.0)] if phase == 1 else [])
            name = f"demand_{self._names[f]}"
            cons[name] = expr(terms) == t
            prob += (cons[name], name)
        for r in sorted(by_row):
            name = self.rows[r].name
            cons[name] = expr(by_row[r]) <= self.rows[r].capacity_t
            prob += (cons[name], name)
        self._last = prob
        self._cons, self._x, self._u = cons, x, u
        return prob

    def solve(self, *, phase: int) -> MasterResult:
        """Solve the master of ``phase`` (1: feasibility, 2: cost) and read its duals."""
        prob = self.build(phase=phase)
        prob.solve(self._solver())
        status = pulp.LpStatus[prob.status]
        optimal = status == "Optimal"
        cons = self._cons
        sigma = {}
        for f in self.demands:
            c = cons.get(f"demand_{self._names[f]}")
            sigma[f] = float(c.pi or 0.0) if c is not None else 0.0
        pi = np.zeros(len(self.rows))
        slack = {}
        for r, row in enumerate(self.rows):
            c = cons.get(row.name)
            if c is not None:
                pi[r] = min(float(c.pi or 0.0), 0.0)
                slack[r] = float(c.slack or 0.0)
        xs = [float(v.varValue or 0.0) for v in self._x]
        unserved = {}
        if phase == 1:
            unserved = {f: float(v.varValue or 0.0) for f, v in self._u.items()}
        obj = float(pulp.value(prob.objective) or 0.0)
        return MasterResult(optimal, status, obj, xs, unserved, sigma, pi, slack)

    def export_lp(self, path: str, *, phase: int = 2) -> None:
        """Write the (final) master as MPS (``.mps``) or LP (``.lp``) file."""
        prob = self._last if self._last is not None else self.build(phase=phase)
        if str(path).endswith(".lp"):
            prob.writeLP(str(path))
        else:
            prob.writeMPS(str(path))


_BANNER_DONE = False


def _highs_banner_to_stderr() -> None:
    """HiGHS prints its banner to stdout (C level) when the first ``Highs`` is made,
    whatever ``msg`` says; make that first one with stdout pointed at stderr, so the
    command's stdout holds only its own output (tables, JSON)."""
    global _BANNER_DONE
    if _BANNER_DONE:
        return
    _BANNER_DONE = True
    try:
        import highspy
    except ImportError:  # PuLP reports the missing solver itself
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        return
    try:
        os.dup2(2, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)

