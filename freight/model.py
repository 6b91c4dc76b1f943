"""The restricted master LP of the column generation: PuLP model, persistent HiGHS solver.

    min   sum_{f,c} cost_c x[f,c]                      (phase 2)
          sum_f unserved[f]                            (phase 1)
    s.t.  demand_<flow>:            sum_c x[f,c] + unserved[f] = tonnes_f
          cap_<mode>_<u>_<v>:       sum x[f,c] * uses(c, edge u->v)  <= capacity_t
          terminal_<place>:         sum x[f,c] * lifts(c, place)     <= capacity_t
          x >= 0, unserved >= 0   (unserved fixed at 0 in phase 2)

Capacity rows are added for every capacity used by a generated column -- or, with
``lazy_rows``, only once the master's solution would overload them (row generation: the
restricted master drops capacities that do not bind; :meth:`Master.overloaded` finds those
to add, with the coefficients of the columns already in). With lazy rows the master is a
relaxation of the one with every row, so an optimum of it that respects every capacity is
an optimum of the whole, and the rows left out have dual 0. Rows may also leave
(:meth:`Master.drop_slack`: a row whose slack stays basic, with capacity to spare) and come
back the same way; columns leave by :meth:`Master.drop_idle`.

PuLP is the modelling layer: every column is an ``LpVariable`` (``chain_<flow>_<k>``,
``unserved_<flow>``), every row a named ``LpConstraint`` (``demand_<flow>``,
``cap_<mode>_<u>_<v>``, ``terminal_<id>``). With ``solver="cbc"`` the PuLP model grows
incrementally while only columns are added, is rebuilt from the master's columns and rows
once lazy rows entered (which give old columns new coefficients), and is solved through
PuLP at every solve. With HiGHS it is built only when asked for, from the master as it
stands: :meth:`Master.export_lp` writes the LP the solver saw, :meth:`Master.sync_pulp`
writes a solution's values onto it.

With HiGHS the solver persists instead of being rebuilt per solve (PuLP's HiGHS interface
builds a fresh model coefficient by coefficient at every ``solve()``): one
``highspy.Highs`` model is fed the same numbers as numpy arrays, only the new columns and
rows at each solve, keeps its basis and re-solves warm (primal simplex after columns are
added, the previous basis staying primal feasible) -- except when many columns arrive at
once (1,000 or more and a twentieth of the model; not once :attr:`Master.warm_columns` is
set, when the objective stalls or for a warm-started run), or rows that cut the last
solution off arrive in a large model: then interior point from scratch, with presolve, and
crossover to a basis, which the next warm solves start from. A master may also start from
another master's basis given by name (:meth:`Master.basis`, :attr:`Master.start_basis`),
as the policy-off run does from the rule's. Duals come from that basic solution, so shadow
prices are vertex duals; values are written back to the PuLP objects on demand
(:meth:`Master.sync_pulp`).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import sys
import time
import warnings
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from freight.network_view import Column, Row, lp_key

_log = logging.getLogger(__name__)


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


@dataclass
class _Solved:
    """A HiGHS solve as read back once: its basis, the basis statuses of all columns and
    rows (lists: each read of ``basis.col_status`` converts the whole vector), the
    solution."""

    basis: Any
    cols: list
    rows: list
    solution: Any


class Master:
    """Restricted master over chain columns.

    Parameters
    ----------
    demands : dict
        Tonnes per year by flow id.
    rows : list of Row
        All capacity rows of the graph (only those used by columns enter the LP).
    solver : {"highs", "cbc"}
        HiGHS kept alive between solves (simplex, warm), or CBC through PuLP.
    lazy_rows : bool
        Capacity rows enter only through :meth:`activate` (default: with the first
        column that uses them).
    """

    _built: int  # columns already in the PuLP model (set by _new_pulp)

    def __init__(
        self,
        demands: dict[str, float],
        rows: list[Row],
        *,
        solver: str = "highs",
        lazy_rows: bool = False,
    ):
        self.demands = dict(demands)
        self.rows = rows
        self.solver = solver
        self.lazy_rows = lazy_rows
        self._caps = np.array([r.capacity_t for r in rows])
        self.warm_columns = False  # HiGHS: new columns by warm primal simplex, however many
        self.start_basis: dict[str, dict] | None = None  # see basis(); HiGHS, first solve
        self.columns: list[Column] = []  # the columns in the master, in LP order
        self._ids: list[int] = []  # a stable id per column (its PuLP name), by position
        # each column's graph rows and coefficients as arrays, by position (for usage)
        self._col_rows: list[np.ndarray] = []
        self._col_k: list[np.ndarray] = []
        self._next_id = 0
        self._idle = np.zeros(0, dtype=np.int64)  # rounds non-basic above the threshold
        self._loose = np.zeros(0, dtype=np.int64)  # by capacity row: rounds with slack
        self._row_drops = np.zeros(len(rows), dtype=np.int64)  # by graph row: deletions
        self.rows_dropped = 0  # capacity row deletions so far
        self.rows_back = 0  # deleted capacity rows that entered again
        self.pool: dict[tuple, Column] = {}  # columns dropped from the master, by signature
        self.dropped = 0  # column deletions so far
        self._seen: set[tuple] = set()
        # every change to _seen in order, for the run: (True, signature) added, (False,
        # signature) dropped -- a pricing worker keeps its copy of _seen from it
        self.seen_log: list[tuple[bool, tuple]] = []
        self._names: dict[str, str] = {}
        used: set[str] = set()
        for fid in demands:  # LP-safe, unique names for the demand rows
            base, i = lp_key(fid), 1
            name = base
            while name in used:
                i += 1
                name = f"{base}_{i}"
            used.add(name)
            self._names[fid] = name
        self.flow_ids = list(self.demands)
        self._flow_pos = {f: i for i, f in enumerate(self.flow_ids)}
        self.phase = 1
        # capacity rows in the master, in order of appearance (master row = n_flows + i)
        self.cap_rows: list[int] = []
        self._cap_pos = np.full(len(rows), -1, dtype=np.int64)
        self._highs: _HighsMaster | None = None
        # the PuLP model: with CBC, grown in place at every solve; with HiGHS, built only
        # when asked for (export_lp, sync_pulp) -- 7,890 demand rows alone took PuLP 0.2 s
        # in the rule's solve and 1.9 s in the off run's at province (sampling profile) --
        # and rebuilt when asked again after columns were dropped or lazy rows entered
        self._pulp_stale = True
        if solver == "cbc":
            self._new_pulp()

    # ------------------------------------------------------------------ columns
    def add_columns(self, columns: list[Column]) -> int:
        """Add columns not already present; return how many were new. A dropped column
        (in :attr:`pool`) may come back."""
        n = 0
        for c in columns:
            if c.signature in self._seen:
                continue
            self._seen.add(c.signature)
            self.seen_log.append((True, c.signature))
            self.pool.pop(c.signature, None)
            self.columns.append(c)
            self._ids.append(self._next_id)
            self._col_rows.append(np.fromiter(c.rows.keys(), np.int64, len(c.rows)))
            self._col_k.append(np.fromiter(c.rows.values(), float, len(c.rows)))
            self._next_id += 1
            if not self.lazy_rows:
                self._take_rows(c.rows)  # capacity rows in order of first use
            n += 1
        if n:
            self._idle = np.concatenate([self._idle, np.zeros(n, dtype=np.int64)])
        return n

    def activate(self, rows: list[int]) -> int:
        """Add capacity rows (graph row indices) not in the master yet, with the
        coefficients of the columns already in it; returns how many were new."""
        n = self._take_rows(rows)
        if n:
            self._pulp_stale = True  # old PuLP columns gain coefficients: rebuild on demand
        return n

    def _take_rows(self, rows: Iterable[int]) -> int:
        """Append the rows not in the master yet to :attr:`cap_rows`; how many were new."""
        n = 0
        for r in rows:
            if self._cap_pos[r] < 0:
                self._cap_pos[r] = len(self.cap_rows)
                self.cap_rows.append(r)
                n += 1
        if n:
            self._loose = np.concatenate([self._loose, np.zeros(n, dtype=np.int64)])
            self.rows_back += int(np.count_nonzero(self._row_drops[self.cap_rows[-n:]]))
        return n

    def basis(self) -> dict[str, dict] | None:
        """The basis of the last (HiGHS) solve by name, for a warm start of another master
        over the same rows (:attr:`start_basis`): ``cols`` by column signature, ``demand``
        by flow id, ``cap`` by capacity row name (HiGHS basis status codes); None when
        there is none."""
        h = self._highs
        if h is None:
            return None
        b = h.h.getBasis()
        if not b.valid:
            return None
        n = h.n_flows
        col = [int(x) for x in b.col_status[n : n + h.n_cols]]
        row = [int(x) for x in b.row_status]
        return {
            "cols": {c.signature: k for c, k in zip(self.columns, col, strict=True)},
            "demand": dict(zip(self.flow_ids, row[:n], strict=True)),
            "cap": {self.rows[r].name: k for r, k in zip(self.cap_rows, row[n:], strict=True)},
        }

    def usage(self, x: list[float]) -> np.ndarray:
        """Tonnes on every graph row (in the master or not) for column values ``x``."""
        xs = np.asarray(x, dtype=float)
        pos = np.flatnonzero(xs > 0.0).tolist()
        if not pos:
            return np.zeros(len(self.rows))
        idx = np.concatenate([self._col_rows[j] for j in pos])
        k = np.concatenate([self._col_k[j] for j in pos])
        lens = [len(self._col_rows[j]) for j in pos]
        return np.bincount(idx, np.repeat(xs[pos], lens) * k, minlength=len(self.rows))

    def overloaded(self, res: MasterResult, *, rel: float = 1e-9) -> list[int]:
        """Graph rows not in the master that ``res`` loads above their capacity (beyond
        ``rel`` of it, at least 1e-6 t), most overloaded first."""
        used = self.usage(res.x)
        caps = self._caps
        over = used - caps - np.maximum(rel * caps, 1e-6)
        hit = np.flatnonzero((over > 0) & (self._cap_pos < 0))
        return [int(r) for r in hit[np.argsort(-over[hit] / caps[hit])]]

    def drop_idle(self, *, rounds: int, threshold: float = 1e-6) -> int:
        """Column management after a (HiGHS) solve: count, per column, the consecutive
        solves it has been non-basic at zero with reduced cost above ``threshold`` (relative
        to ``max(1, cost)``); delete those at ``rounds`` from the LP, keep them in
        :attr:`pool` and forget their signatures so pricing can bring them back. Deleting
        non-basic columns keeps the basis optimal: same objective, same duals. Returns how
        many were deleted."""
        return self.prune(col_rounds=rounds, threshold=threshold)[0]

    def drop_slack(self, *, rounds: int, rel: float) -> int:
        """Row management after a (HiGHS) solve: count, per capacity row, the consecutive
        solves its slack has been basic with more than ``rel`` of the capacity (at least
        1 t) left; delete those at ``rounds`` from the LP. A basic slack has dual 0, and
        deleting its row keeps the basis optimal: same solution, same duals. A row that a
        later solution overloads comes back through :meth:`overloaded` and
        :meth:`activate`, as any lazy row, so a master optimum that overloads nothing is
        still an optimum with every row. Returns how many were deleted."""
        return self.prune(row_rounds=rounds, rel=rel)[1]

    def prune(
        self,
        *,
        col_rounds: int = 0,
        threshold: float = 1e-6,
        row_rounds: int = 0,
        rel: float = 0.0,
    ) -> tuple[int, int]:
        """:meth:`drop_idle` (``col_rounds``, ``threshold``) and :meth:`drop_slack`
        (``row_rounds``, ``rel``) from the same solve (a deletion clears HiGHS's status, so
        both read the solve first); 0 rounds deletes none. (columns, rows) deleted."""
        h = self._highs
        col_rounds = col_rounds if self.columns else 0
        row_rounds = row_rounds if self.cap_rows else 0
        if h is None or (col_rounds <= 0 and row_rounds <= 0):
            return 0, 0
        solved = h.solved()
        if solved is None:
            return 0, 0
        cols = rows = np.zeros(0, dtype=np.int64)
        if col_rounds > 0:
            self._idle = np.where(h.idle(threshold, solved), self._idle + 1, 0)
            cols = np.flatnonzero(self._idle >= col_rounds)
        if row_rounds > 0:
            self._loose = np.where(h.loose(rel, solved), self._loose + 1, 0)
            # a row that came back waits twice as long each time before it goes again
            factor = _ROW_RETURN_FACTOR ** self._row_drops[np.asarray(self.cap_rows, np.int64)]
            rows = np.flatnonzero(self._loose >= row_rounds * factor)
        if len(cols) == 0 and len(rows) == 0:
            return 0, 0
        h.delete(cols, rows, solved)
        self._forget_columns(cols)
        self._forget_rows(rows)
        self._pulp_stale = True
        return len(cols), len(rows)

    def _forget_columns(self, gone: np.ndarray) -> None:
        """The master's side of deleting columns (by position) from the LP."""
        if len(gone) == 0:
            return
        keep = np.ones(len(self.columns), dtype=bool)
        keep[gone] = False
        for k in gone.tolist():
            c = self.columns[k]
            self._seen.discard(c.signature)
            self.seen_log.append((False, c.signature))
            self.pool[c.signature] = c
        kept = keep.tolist()
        self.columns = list(itertools.compress(self.columns, kept))
        self._ids = list(itertools.compress(self._ids, kept))
        self._col_rows = list(itertools.compress(self._col_rows, kept))
        self._col_k = list(itertools.compress(self._col_k, kept))
        self._idle = self._idle[keep]
        self.dropped += len(gone)

    def _forget_rows(self, gone: np.ndarray) -> None:
        """The master's side of deleting capacity rows (by position) from the LP."""
        if len(gone) == 0:
            return
        keep = np.ones(len(self.cap_rows), dtype=bool)
        keep[gone] = False
        cap = np.asarray(self.cap_rows, dtype=np.int64)
        self._cap_pos[cap[gone]] = -1
        self._row_drops[cap[gone]] += 1
        self.cap_rows = cap[keep].tolist()
        self._cap_pos[cap[keep]] = np.arange(len(self.cap_rows))
        self._loose = self._loose[keep]
        self.rows_dropped += len(gone)

    def build(self, *, phase: int) -> pulp.LpProblem:
        """Bring the PuLP model up to date: new columns, new capacity rows, the phase's
        objective and the bounds of the unserved tonnes (free in phase 1, 0 in phase 2).
        After columns were dropped, the PuLP model is rebuilt from the columns in the master
        (capacity rows in the master's order, also those no column uses any more)."""
        if self._pulp_stale:
            self._new_pulp()
        prob = self.prob
        new = range(self._built, len(self.columns))
        for k in new:
            c = self.columns[k]
            v = prob.add_variable(f"chain_{self._names[c.flow_id]}_{self._ids[k]}", lowBound=0)
            self._x.append(v)
            self._demand_cons[self._flow_pos[c.flow_id]].expr[v] = 1.0
            self._obj2[v] = c.cost_cny_per_t
            for r, cnt in c.rows.items():
                con = self._cap_cons.get(r)
                if con is None:
                    if self._cap_pos[r] < 0:
                        continue  # a lazy row not in the master
                    con = self._cap_con(r)
                con.expr[v] = float(cnt)
        self._built = len(self.columns)
        for u in self._u.values():
            u.upBound = None if phase == 1 else 0.0
        prob.objective = self._obj1 if phase == 1 else self._obj2
        self.phase = phase
        return prob

    def _cap_con(self, r: int) -> pulp.LpConstraint:
        row = self.rows[r]
        con = pulp.LpConstraint(
            pulp.LpAffineExpression(), pulp.LpConstraintLE, row.name, row.capacity_t
        )
        self.prob.addConstraint(con, row.name)
        self._cap_cons[r] = con
        return con

    def _new_pulp(self) -> None:
        """A fresh, empty PuLP model (demand rows, unserved columns, every capacity row
        of the master); :meth:`build` then adds the columns."""
        self.prob = pulp.LpProblem("freight_master", pulp.LpMinimize)
        self._x: list[pulp.LpVariable] = []
        self._u = {
            f: self.prob.add_variable(f"unserved_{self._names[f]}", lowBound=0)
            for f in self.flow_ids
        }
        self._demand_cons: list[pulp.LpConstraint] = []
        for f in self.flow_ids:
            name = f"demand_{self._names[f]}"
            con = pulp.LpConstraint(
                pulp.LpAffineExpression([(self._u[f], 1.0)]),
                pulp.LpConstraintEQ,
                name,
                self.demands[f],
            )
            self.prob.addConstraint(con, name)
            self._demand_cons.append(con)
        self._cap_cons: dict[int, pulp.LpConstraint] = {}  # graph row -> constraint
        for r in self.cap_rows:
            self._cap_con(r)
        self._obj1 = pulp.LpAffineExpression([(v, 1.0) for v in self._u.values()])
        self._obj2 = pulp.LpAffineExpression()
        self._built = 0  # columns already in the PuLP model
        self._pulp_stale = False

    # ------------------------------------------------------------------ solving
    def solve(self, *, phase: int) -> MasterResult:
        """Solve the master of ``phase`` (1: feasibility, 2: cost) and read its duals."""
        self.phase = phase
        if self.solver == "cbc":
            self.build(phase=phase)
            return self._solve_pulp(phase)
        if self._highs is None:
            _highs_banner_to_stderr()
            self._highs = _HighsMaster(self)
        h = self._highs
        self._load(phase)
        h.run()
        return h.result(phase)

    def _load(self, phase: int) -> None:
        """Pass the new rows and columns, and the phase's costs and bounds, to HiGHS."""
        assert self._highs is not None
        self._highs.update(phase)

    def _solve_pulp(self, phase: int) -> MasterResult:
        prob = self.prob
        prob.solve(_cbc())
        status = pulp.LpStatus[prob.status]
        sigma = {
            f: float(c.pi or 0.0) for f, c in zip(self.flow_ids, self._demand_cons, strict=True)
        }
        pi = np.zeros(len(self.rows))
        slack = {}
        for r, c in self._cap_cons.items():
            pi[r] = min(float(c.pi or 0.0), 0.0)
            slack[r] = float(c.slack or 0.0)
        xs = [float(v.varValue or 0.0) for v in self._x]
        unserved = {}
        if phase == 1:
            unserved = {f: float(v.varValue or 0.0) for f, v in self._u.items()}
        obj = float(pulp.value(prob.objective) or 0.0)
        return MasterResult(status == "Optimal", status, obj, xs, unserved, sigma, pi, slack)

    def sync_pulp(self, res: MasterResult) -> None:
        """Write a HiGHS result back onto the PuLP objects (values, duals, slacks)."""
        self.build(phase=self.phase)
        for v, x in zip(self._x, res.x, strict=True):
            v.varValue = x
        for f, v in self._u.items():
            v.varValue = res.unserved.get(f, 0.0)
        for f, c in zip(self.flow_ids, self._demand_cons, strict=True):
            c.pi = res.sigma.get(f, 0.0)
        for r, c in self._cap_cons.items():
            c.pi = float(res.pi[r])
            c.slack = res.slack.get(r, 0.0)

    def export_lp(self, path: str, *, phase: int | None = None) -> None:
        """Write the master as last solved (or built for ``phase``) as an MPS (``.mps``)
        or LP (``.lp``) file, and beside it ``<path>.names.csv``: every row and column
        name with what it stands for (``name, kind, id, label``), since a name holds an
        ASCII key of its id (:func:`freight.network_view.lp_key`), not the id itself."""
        from freight.spreadsheet import write_csv

        prob = self.build(phase=self.phase if phase is None else phase)
        if str(path).endswith(".lp"):
            prob.writeLP(str(path))
        else:
            prob.writeMPS(str(path))
        write_csv(f"{path}.names.csv", ["name", "kind", "id", "label"], self.names())

    def names(self) -> list[dict[str, str]]:
        """The label table of the PuLP model's names: demand rows and unserved columns by
        flow, capacity rows by edge or terminal, chain columns by flow and chain."""
        out = []
        for f in self.flow_ids:
            out.append({"name": f"demand_{self._names[f]}", "kind": "demand", "id": f,
                        "label": f"flow {f}: all its tonnes"})  # fmt: skip
            out.append({"name": f"unserved_{self._names[f]}", "kind": "unserved", "id": f,
                        "label": f"flow {f}: tonnes not carried (phase 1)"})  # fmt: skip
        for r in self.cap_rows:
            row = self.rows[r]
            ref = row.key[1] if row.kind == "terminal" else "_".join(map(str, row.key[1:]))
            out.append({"name": row.name, "kind": row.kind, "id": ref, "label": row.label})
        for k, c in enumerate(self.columns):
            legs = " + ".join(f"{leg.mode} {leg.km:,.1f} km" for leg in c.chain.legs)
            via = f" via {', '.join(c.chain.lifts)}" if c.chain.lifts else ""
            out.append({"name": f"chain_{self._names[c.flow_id]}_{self._ids[k]}",
                        "kind": "chain", "id": c.flow_id, "label": f"{legs}{via}"})  # fmt: skip
        return out


class _HighsMaster:
    """One ``highspy.Highs`` holding the master between solves, fed with numpy arrays."""

    def __init__(self, master: Master) -> None:
        import highspy

        self.hs = highspy
        # a weak reference: the master owns this model, and without a cycle between the two
        # both go as soon as the master does (``solve`` runs with the cyclic collector paused)
        self.m = weakref.proxy(master)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", "simplex")
        self.h = h
        n = len(master.flow_ids)
        t = np.array([master.demands[f] for f in master.flow_ids], dtype=float)
        self.bound_scale = _bound_scale(t)
        h.setOptionValue("user_bound_scale", self.bound_scale)
        if n:
            h.addRows(n, t, t, 0, np.zeros(n, np.int32), np.zeros(0, np.int32), np.zeros(0))
            # unserved[f]: column f, one entry in demand row f
            h.addCols(
                n,
                np.ones(n),
                np.zeros(n),
                np.full(n, highspy.kHighsInf),
                n,
                np.arange(n, dtype=np.int32),
                np.arange(n, dtype=np.int32),
                np.ones(n),
            )
        self.n_flows = n
        self.n_rows = 0  # capacity rows passed
        self.n_cols = 0  # chain columns passed (HiGHS column = n_flows + k)
        self.cost = np.zeros(0)  # phase-2 cost by chain column
        self.phase = 1
        self.fresh = True  # no basis yet
        self.ipm = False  # next solve by interior point + crossover
        self.rows_added = False  # rows with old columns in them since the last solve

    def update(self, phase: int) -> None:
        m, h, hs = self.m, self.h, self.hs
        inf = hs.kHighsInf
        n_new_rows = len(m.cap_rows) - self.n_rows
        if n_new_rows:
            added = m.cap_rows[self.n_rows :]
            caps = np.array([m.rows[r].capacity_t for r in added])
            # coefficients of the columns already in (lazy rows enter after their columns),
            # row by row, each row's columns in column order
            at = np.full(len(m.rows), -1, dtype=np.int64)
            at[np.asarray(added, dtype=np.int64)] = np.arange(n_new_rows)
            row_of = np.zeros(0, dtype=np.int64)
            col_of = np.zeros(0, dtype=np.int64)
            coef = np.zeros(0)
            if self.n_cols:
                used = np.concatenate(m._col_rows[: self.n_cols])
                lens = [len(a) for a in m._col_rows[: self.n_cols]]
                hit = at[used] >= 0
                row_of = at[used[hit]]
                col_of = np.repeat(np.arange(self.n_cols), lens)[hit]
                coef = np.concatenate(m._col_k[: self.n_cols])[hit]
                order = np.argsort(row_of, kind="stable")
                row_of, col_of, coef = row_of[order], col_of[order], coef[order]
            counts = np.bincount(row_of, minlength=n_new_rows)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
            h.addRows(
                n_new_rows,
                np.full(n_new_rows, -inf),
                caps,
                len(col_of),
                starts,
                (col_of + self.n_flows).astype(np.int32),
                coef.astype(float),
            )
            self.n_rows += n_new_rows
            self.rows_added = True
        new = m.columns[self.n_cols :]
        if new:
            starts, idx, val = self._entries(self.n_cols)
            cost = np.array([c.cost_cny_per_t for c in new])
            h.addCols(
                len(new),
                cost if phase == 2 else np.zeros(len(new)),
                np.zeros(len(new)),
                np.full(len(new), inf),
                len(idx),
                starts,
                idx,
                val,
            )
            self.cost = np.concatenate([self.cost, cost])
            self.n_cols += len(new)
        if phase != self.phase:
            n, k = self.n_flows, self.n_cols
            if n:
                flows = np.arange(n, dtype=np.int32)
                ub = np.full(n, inf) if phase == 1 else np.zeros(n)
                h.changeColsBounds(n, flows, np.zeros(n), ub)
                h.changeColsCost(n, flows, np.ones(n) if phase == 1 else np.zeros(n))
            if k:
                chains = np.arange(n, n + k, dtype=np.int32)
                h.changeColsCost(k, chains, self.cost if phase == 2 else np.zeros(k))
            self.phase = phase
        # a basis from the last solve stays primal feasible: new columns enter at 0, new
        # rows are empty when added, fixing unserved at 0 follows a phase-1 optimum of 0 --
        # primal simplex; rows added with old columns in them (lazy rows) cut the last
        # solution off but keep it dual feasible -- dual simplex
        h.setOptionValue("simplex_strategy", 1 if self.fresh or self.rows_added else 4)
        # many columns at once (a thousand, a twentieth of the model or more): a warm primal
        # simplex pivots them in one by one through a very degenerate master; interior
        # point from scratch (with presolve), then crossover to a basis, is much faster
        n_new = len(new)
        self.ipm = n_new >= _IPM_MIN_COLUMNS and n_new >= _IPM_SHARE * (self.n_cols - n_new)
        self.ipm &= not m.warm_columns
        # rows cutting the last solution off in a large master: warm dual simplex took
        # 2-7 s at province (~2,000 rows, ~16,000 columns), interior point ~1 s
        self.ipm |= self.rows_added and self.n_cols >= _IPM_MIN_COLUMNS
        # no basis yet (the first solve of a large master): interior point with crossover
        self.ipm |= self.fresh and self.n_cols >= _IPM_MIN_COLUMNS
        self.rows_added = False
        if self.fresh and phase == 2 and m.start_basis is not None:
            if self._start_from(m.start_basis):  # warm primal simplex from there
                self.fresh = self.ipm = False
                h.setOptionValue("simplex_strategy", 4)
            m.start_basis = None

    def _entries(self, first: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The master's columns from position ``first`` on as HiGHS column-wise entries
        (starts, row indices, values): each column its demand row, then its capacity rows
        in the master, in the column's row order."""
        m = self.m
        new = m.columns[first:]
        lens = np.fromiter(map(len, m._col_rows[first:]), np.int64, len(new))
        rows = np.concatenate([np.zeros(0, np.int64), *m._col_rows[first:]])
        coef = np.concatenate([np.zeros(0), *m._col_k[first:]])
        pos = m._cap_pos[rows]
        kept = pos >= 0
        owner = np.repeat(np.arange(len(new)), lens)[kept]
        n_kept = np.bincount(owner, minlength=len(new))
        counts = n_kept + 1
        starts = np.zeros(len(new), np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        idx = np.empty(int(counts.sum()), np.int32)
        val = np.empty(len(idx))
        idx[starts] = np.fromiter((m._flow_pos[c.flow_id] for c in new), np.int64, len(new))
        val[starts] = 1.0
        rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_kept) - n_kept, n_kept)
        at = starts[owner] + 1 + rank
        idx[at] = pos[kept] + self.n_flows
        val[at] = coef[kept]
        return starts.astype(np.int32), idx, val

    def _start_from(self, basis: dict[str, dict]) -> bool:
        """Set a basis given by name (:meth:`Master.basis`) where it is one for this
        model: the columns and rows it names take its status, chain columns new here
        start at zero and capacity rows new here with their slack basic (a solution of the
        other master that respects every capacity stays feasible). False, and nothing
        set, when that is not a basis (a flow it does not know, or a count of basic
        variables other than the rows)."""
        m, h, hs = self.m, self.h, self.hs
        st = hs.HighsBasisStatus
        lower, basic = int(st.kLower), int(st.kBasic)
        demand = basis["demand"]
        if any(f not in demand for f in m.flow_ids):
            return False
        cols, caps = basis["cols"], basis["cap"]
        col = [lower] * self.n_flows + [cols.get(c.signature, lower) for c in m.columns]
        row = [demand[f] for f in m.flow_ids]
        row += [caps.get(m.rows[r].name, basic) for r in m.cap_rows]
        if col.count(basic) + row.count(basic) != len(row):
            return False
        b = hs.HighsBasis()
        b.col_status = [st(k) for k in col]
        b.row_status = [st(k) for k in row]
        b.valid = True
        if h.setBasis(b) != hs.HighsStatus.kOk:
            h.clearSolver()
            return False
        return True

    def run(self) -> None:
        if self.h.getNumCol() == 0:
            return
        t0 = time.perf_counter()
        method = "ipm" if self.ipm else "simplex" if self.fresh else "warm simplex"
        try:
            self._run()
        finally:
            info = self.h.getInfo()
            _log.debug(
                "HiGHS %s: %.2f s, %d simplex / %d ipm / %d crossover iterations, "
                "%d rows x %d columns",
                method,
                time.perf_counter() - t0,
                info.simplex_iteration_count,
                info.ipm_iteration_count,
                info.crossover_iteration_count,
                self.h.getNumRow(),
                self.h.getNumCol(),
            )

    def _run(self) -> None:
        h, st = self.h, self.hs.HighsModelStatus
        if self.ipm:
            _interior_point(h, self.hs)
            h.setOptionValue("run_crossover", "on")
            h.run()
            h.setOptionValue("solver", "simplex")
        else:
            h.run()
        if not self.fresh and h.getModelStatus() not in (st.kOptimal, st.kInfeasible):
            # the warm start failed (e.g. numerical trouble): once more from scratch
            h.clearSolver()
            h.setOptionValue("simplex_strategy", 1)
            h.run()
        self.fresh = False

    def solved(self) -> _Solved | None:
        """The last solve's basis statuses and solution, read once (each read converts
        the whole of them), when it was optimal with a valid basis; else None."""
        h, hs = self.h, self.hs
        if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return None
        basis = h.getBasis()
        if not basis.valid:
            return None
        return _Solved(basis, basis.col_status, basis.row_status, h.getSolution())

    def idle(self, threshold: float, solved: _Solved) -> np.ndarray:
        """By chain column: non-basic at zero with reduced cost above ``threshold`` (times
        ``max(1, cost)``) in the ``solved`` solve."""
        n, k = self.n_flows, self.n_cols
        lower = self.hs.HighsBasisStatus.kLower
        status = np.fromiter(map(lower.__eq__, solved.cols[n : n + k]), bool, k)
        dual = np.asarray(solved.solution.col_dual, dtype=float)[n : n + k]
        value = np.asarray(solved.solution.col_value, dtype=float)[n : n + k]
        scale = np.maximum(1.0, np.abs(self.cost)) if self.phase == 2 else 1.0
        return status & (value == 0.0) & (dual > threshold * scale)

    def loose(self, rel: float, solved: _Solved) -> np.ndarray:
        """By capacity row of the model: its slack basic and more than ``rel`` of the
        capacity (at least 1 t) left in the ``solved`` solve."""
        n, k = self.n_flows, self.n_rows
        basic = self.hs.HighsBasisStatus.kBasic
        status = np.fromiter(map(basic.__eq__, solved.rows[n : n + k]), bool, k)
        value = np.asarray(solved.solution.row_value, dtype=float)[n : n + k]
        caps = self.m._caps[np.asarray(self.m.cap_rows, dtype=np.int64)]
        return status & (caps - value > rel * np.maximum(caps, 1.0))

    def delete(self, cols: np.ndarray, rows: np.ndarray, solved: _Solved) -> None:
        """Delete chain columns and capacity rows (by position among them) from the model,
        keeping the ``solved`` basis of the rest: the deleted columns non-basic, the
        deleted rows' slacks basic, it stays a basis."""
        h, n = self.h, self.n_flows
        basis = solved.basis
        if len(cols):
            keep = np.ones(len(solved.cols), dtype=bool)
            keep[n + cols] = False
            h.deleteCols(len(cols), np.asarray(n + cols, dtype=np.int32))
            basis.col_status = list(itertools.compress(solved.cols, keep.tolist()))
            self.cost = self.cost[keep[n:]]
            self.n_cols -= len(cols)
        if len(rows):
            keep = np.ones(len(solved.rows), dtype=bool)
            keep[n + rows] = False
            h.deleteRows(len(rows), np.asarray(n + rows, dtype=np.int32))
            basis.row_status = list(itertools.compress(solved.rows, keep.tolist()))
            self.n_rows -= len(rows)
        h.setBasis(basis)

    def result(self, phase: int) -> MasterResult:
        m, h, hs = self.m, self.h, self.hs
        n_rows_total = len(m.rows)
        pi = np.zeros(n_rows_total)
        if h.getNumCol() == 0:  # nothing to decide
            return MasterResult(True, "Optimal", 0.0, [], {}, {}, pi, {})
        status = h.getModelStatus()
        name = _status_names().get(status, str(status))
        sol = h.getSolution()
        col = np.asarray(sol.col_value, dtype=float)
        row_value = np.asarray(sol.row_value, dtype=float)
        row_dual = np.asarray(sol.row_dual, dtype=float)
        n = self.n_flows
        optimal = status == hs.HighsModelStatus.kOptimal
        if not optimal or len(col) < n + self.n_cols:
            zeros = [0.0] * self.n_cols
            return MasterResult(False, name, float("nan"), zeros, {}, {}, pi, {})
        sigma = dict(zip(m.flow_ids, row_dual[:n].tolist(), strict=True))
        cap = np.asarray(m.cap_rows, dtype=np.int64)
        pi[cap] = np.minimum(row_dual[n : n + self.n_rows], 0.0)
        caps = np.array([m.rows[r].capacity_t for r in m.cap_rows])
        slack = dict(zip(m.cap_rows, (caps - row_value[n : n + self.n_rows]).tolist(), strict=True))
        x = col[n : n + self.n_cols].tolist()
        unserved = dict(zip(m.flow_ids, col[:n].tolist(), strict=True)) if phase == 1 else {}
        obj = float(h.getInfo().objective_function_value)
        return MasterResult(True, name, obj, x, unserved, sigma, pi, slack)


_BOUND_UNITS = 2**10
"""Tonnes are passed to HiGHS in units that make the largest demand about this many units
(``user_bound_scale``, a power of two: exact in floating point). At province (demands up to
some 10^6 t, an objective of 3e11 CNY) interior point stalled at a primal residual of 1e-7
("no progress"), so HiGHS fell back to a dual simplex from scratch: 4.8-8.6 s instead of
1.8-2.6 s with the bounds scaled by 2^-10 to 2^-15, to the same optimum
(benchmarks/README.md)."""


def _bound_scale(demands: np.ndarray) -> int:
    """HiGHS ``user_bound_scale`` (a power of two, never up) for these demands (t)."""
    if len(demands) == 0 or not np.isfinite(demands).all() or demands.max() <= _BOUND_UNITS:
        return 0
    return -int(np.floor(np.log2(demands.max() / _BOUND_UNITS)))


_IPM_MIN_COLUMNS = 1000
"""New columns from which a re-solve may go by interior point rather than warm simplex."""
_IPM_SHARE = 0.05
"""... when they are also this share of the columns already in the model."""


_ROW_RETURN_FACTOR = 2
"""A capacity row that came back after a deletion waits this many times as many solves
before it may go again (:meth:`Master.drop_slack`): at province 1,611 rows entered over
the rule's run with it, 1,735 without (benchmarks/README.md, ninth step)."""


def _interior_point(h: Any, hs: Any) -> str:
    """Set HiGHS's solver to its interior point IPX, by name where HiGHS knows the name,
    else ``"ipm"`` (which is IPX there); returns the name set. Where the
    optional ``highspy-extras`` is installed, ``"ipm"`` picks HiPO instead: on a head
    master of the province run (10,056 rows, 15,493 chain columns; highspy 1.15.1) HiPO
    took 4.6 s on one thread and 4.2 s on two, IPX 1.3 s (benchmarks/README.md)."""
    ok = hs.HighsStatus.kOk
    for name in ("ipx", "ipm"):
        if h.setOptionValue("solver", name) == ok:
            return name
    raise RuntimeError("HiGHS offers no interior point solver")


def _status_names() -> dict:
    import highspy

    s = highspy.HighsModelStatus
    return {
        s.kOptimal: "Optimal",
        s.kInfeasible: "Infeasible",
        s.kUnboundedOrInfeasible: "Infeasible",
        s.kUnbounded: "Unbounded",
        s.kModelEmpty: "Optimal",
    }


def _cbc() -> pulp.LpSolver:
    coin = pulp.COIN_CMD(msg=False)
    if coin.available():
        return coin
    with warnings.catch_warnings():  # the bundled CBC: deprecated for PuLP 4 only
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False)


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
            _highs_banner_to_stderr()
            solver = pulp.HiGHS(msg=False)
        else:
            solver = _cbc()
        self.problem.solve(solver)
        status = pulp.LpStatus[self.problem.status]
        optimal = status == "Optimal"
        values = {n: float(v.varValue or 0.0) for n, v in self.vars.items()}
        duals = {n: float(c.pi or 0.0) for n, c in self.rows.items()} if optimal else {}
        obj = float(pulp.value(self.problem.objective) or 0.0) if optimal else math.nan
        return SmallLPResult(optimal, status, obj, values, duals)
