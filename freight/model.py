"""The linear programs in PuLP, the model of record, and the one module that imports PuLP.

- :class:`MasterModel`: the restricted master of the column generation
  (:class:`freight.colgen.master.Master`) as a PuLP problem whose every row and column is
  named for what it stands for, so an exported ``.lp``/``.mps`` file reads like the model
  and CBC can solve it::

    min   sum_{f,c} cost_c x[f,c]                      (phase 2)
          sum_f unserved[f]                            (phase 1)
    s.t.  demand_<flow>:            sum_c x[f,c] + unserved[f] = tonnes_f
          cap_<mode>_<u>_<v>:       sum x[f,c] * uses(c, edge u->v)  <= capacity_t
          terminal_<place>:         sum x[f,c] * lifts(c, place)     <= capacity_t
          x >= 0, unserved >= 0   (unserved fixed at 0 in phase 2)

  Columns are ``chain_<flow>_<k>`` and ``unserved_<flow>``. The model grows in place
  while only columns are added, and is rebuilt from the master once rows entered (which
  give old columns new coefficients) or columns or rows left it (:attr:`MasterModel.stale`).
  With HiGHS the master is solved by a persistent ``highspy`` model fed the same numbers
  (:mod:`freight.colgen.highs`), and this one is built only for an export.
- :class:`SmallLP`: a small LP built row by row (the calibration's).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulp

if TYPE_CHECKING:
    from freight.colgen.master import Master


class MasterModel:
    """The PuLP problem of a :class:`~freight.colgen.master.Master` (see the module
    docstring), brought up to date by :meth:`build`."""

    def __init__(self) -> None:
        self.stale = True  # rebuild from the master at the next build
        self.prob = pulp.LpProblem("freight_master", pulp.LpMinimize)
        self.x: list[pulp.LpVariable] = []  # chain columns, in the master's order
        self.unserved: dict[str, pulp.LpVariable] = {}  # by flow id
        self.demand_cons: list[pulp.LpConstraint] = []  # in the master's flow order
        self.cap_cons: dict[int, pulp.LpConstraint] = {}  # graph row -> constraint
        self._obj1 = pulp.LpAffineExpression()
        self._obj2 = pulp.LpAffineExpression()
        self._built = 0  # columns already in the PuLP model

    def build(self, master: Master, *, phase: int) -> pulp.LpProblem:
        """Bring the PuLP model up to date: new columns, new capacity rows, the phase's
        objective and the bounds of the unserved tonnes (free in phase 1, 0 in phase 2).
        When :attr:`stale`, the model is rebuilt from the columns in the master (capacity
        rows in the master's order, also those no column uses any more)."""
        if self.stale:
            self._new(master)
        prob = self.prob
        keys, ids = master.flow_keys, master.column_ids
        for k in range(self._built, len(master.columns)):
            c = master.columns[k]
            v = prob.add_variable(f"chain_{keys[c.flow_id]}_{ids[k]}", lowBound=0)
            self.x.append(v)
            self.demand_cons[master.flow_pos[c.flow_id]].expr[v] = 1.0
            self._obj2[v] = c.cost_cny_per_t
            for r, cnt in c.rows.items():
                con = self.cap_cons.get(r)
                if con is None:
                    if master.cap_pos[r] < 0:
                        continue  # a lazy row not in the master
                    con = self._cap_con(master, r)
                con.expr[v] = float(cnt)
        self._built = len(master.columns)
        for u in self.unserved.values():
            u.upBound = None if phase == 1 else 0.0
        prob.objective = self._obj1 if phase == 1 else self._obj2
        return prob

    def _cap_con(self, master: Master, r: int) -> pulp.LpConstraint:
        row = master.rows[r]
        con = pulp.LpConstraint(
            pulp.LpAffineExpression(), pulp.LpConstraintLE, row.name, row.capacity_t
        )
        self.prob.addConstraint(con, row.name)
        self.cap_cons[r] = con
        return con

    def _new(self, master: Master) -> None:
        """A fresh, empty PuLP model (demand rows, unserved columns, every capacity row
        of the master); :meth:`build` then adds the columns."""
        self.prob = pulp.LpProblem("freight_master", pulp.LpMinimize)
        self.x = []
        keys = master.flow_keys
        self.unserved = {
            f: self.prob.add_variable(f"unserved_{keys[f]}", lowBound=0)
            for f in master.flow_ids
        }
        self.demand_cons = []
        for f in master.flow_ids:
            name = f"demand_{keys[f]}"
            con = pulp.LpConstraint(
                pulp.LpAffineExpression([(self.unserved[f], 1.0)]),
                pulp.LpConstraintEQ,
                name,
                master.demands[f],
            )
            self.prob.addConstraint(con, name)
            self.demand_cons.append(con)
        self.cap_cons = {}
        for r in master.cap_rows:
            self._cap_con(master, r)
        self._obj1 = pulp.LpAffineExpression([(v, 1.0) for v in self.unserved.values()])
        self._obj2 = pulp.LpAffineExpression()
        self._built = 0
        self.stale = False

    def solve_cbc(self) -> str:
        """Solve the model as built with CBC; its status name (PuLP's)."""
        self.prob.solve(_cbc())
        return str(pulp.LpStatus[self.prob.status])

    def objective(self) -> float:
        """The objective at the values of the last solve."""
        return float(pulp.value(self.prob.objective) or 0.0)

    def write(self, path: str) -> None:
        """Write the model as an MPS file, or an LP file when ``path`` ends in ``.lp``."""
        if str(path).endswith(".lp"):
            self.prob.writeLP(str(path))
        else:
            self.prob.writeMPS(str(path))


def _cbc() -> pulp.LpSolver:
    coin = pulp.COIN_CMD(msg=False)
    if coin.available():
        return coin
    with warnings.catch_warnings():  # the bundled CBC: deprecated for PuLP 4 only
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False)


def quiet_highs() -> Any:
    """A ``highspy`` model that writes nothing to stdout, made without touching any
    process-wide state.

    HiGHS writes its banner to stdout (C level) the first time a model with its output on
    logs anything, once per process; ``highspy.Highs()`` sets up its Python callbacks in
    its constructor, which logs, before any option can be set. So the model is made from
    the base class that wrapper adds its callbacks to (``highspy._Highs``, exported by
    highspy beside ``Highs``; it takes every call made here), with ``output_flag`` off
    before anything else.
    """
    import highspy

    h = highspy._Highs()  # type: ignore[attr-defined]  # noqa: SLF001 -- see the docstring
    h.setOptionValue("output_flag", False)
    return h


class _QuietHiGHS(pulp.HiGHS):  # type: ignore[misc,name-defined]
    """PuLP's HiGHS interface on a :func:`quiet_highs` model (PuLP's own makes a
    ``highspy.Highs()``, whose construction writes HiGHS's banner to stdout)."""

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 -- PuLP's
        lp.solverModel = quiet_highs()
        for key, value in self.optionsDict.items():
            lp.solverModel.setOptionValue(key, value)


# --- a small LP, for the calibration --------------------------------------------------------


@dataclass
class SmallLPResult:
    """A solved :class:`SmallLP`: status, objective, values by variable, duals by row."""

    optimal: bool
    status: str
    objective: float
    values: dict[str, float]
    duals: dict[str, float]


class SmallLP:
    """A linear program built row by row in PuLP and solved by HiGHS (CBC when asked, or
    when PuLP's HiGHS is not available): the model of record is the PuLP problem.

    Variables and rows are named by the caller (ASCII names, unique); ``le`` adds
    ``sum coef * var <= rhs``. ``solve(objective)`` minimises a linear objective over the
    rows added so far; it may be called again after adding rows or changing the objective.
    """

    def __init__(self, name: str, *, solver: str = "highs") -> None:
        self.problem = pulp.LpProblem(name, pulp.LpMinimize)
        self.vars: dict[str, pulp.LpVariable] = {}
        self.rows: dict[str, pulp.LpConstraint] = {}
        self.solver = solver

    def var(self, name: str, low: float | None = None, up: float | None = None) -> None:
        self.vars[name] = self.problem.add_variable(name, lowBound=low, upBound=up)

    def le(self, name: str, coefs: dict[str, float], rhs: float) -> None:
        expr = pulp.lpSum(c * self.vars[v] for v, c in coefs.items() if c != 0.0)
        con = pulp.LpConstraint(expr, pulp.LpConstraintLE, name, rhs)
        self.rows[name] = con
        self.problem += con

    def set_rhs(self, name: str, rhs: float) -> None:
        """Change the right-hand side of row ``name``."""
        self.rows[name].changeRHS(rhs)

    def solve(self, objective: dict[str, float]) -> SmallLPResult:
        self.problem.setObjective(
            pulp.lpSum(c * self.vars[v] for v, c in objective.items() if c != 0.0)
        )
        solver: pulp.LpSolver
        if self.solver == "highs" and pulp.HiGHS(msg=False).available():
            solver = _QuietHiGHS(msg=False)
        else:
            solver = _cbc()
        self.problem.solve(solver)
        status = pulp.LpStatus[self.problem.status]
        optimal = status == "Optimal"
        values = {n: float(v.varValue or 0.0) for n, v in self.vars.items()}
        duals = {n: float(c.pi or 0.0) for n, c in self.rows.items()} if optimal else {}
        obj = float(pulp.value(self.problem.objective) or 0.0) if optimal else math.nan
        return SmallLPResult(optimal, status, obj, values, duals)
