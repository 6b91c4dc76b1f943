"""The master's HiGHS backend: one ``highspy`` model kept warm between solves.

PuLP's own HiGHS interface builds a fresh model coefficient by coefficient at every
``solve()``. This backend instead holds one model for the whole column generation, passes
it the master's numbers as numpy arrays -- only the columns and rows new since the last
solve -- and re-solves from the last basis:

- new columns enter at zero, so the last basis stays primal feasible: warm primal simplex;
- rows that cut the last solution off (lazy rows entering with the columns already in)
  keep it dual feasible: dual simplex;
- many columns or rows at once, or the first solve of a large master: interior point with
  crossover to a basis (:mod:`freight.colgen.interior_point`, an accelerator);
- a warm start from another master's basis given by name (:meth:`HighsBackend.basis`),
  as the policy-off run does from the rule's.

Duals come from a basic solution, so shadow prices are vertex duals. Tonnes reach HiGHS in
units of a power of two (``user_bound_scale``, exact in floating point; answers come back
in tonnes): demands of 10^6 t beside an objective of 10^11 CNY stall interior point.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from freight.colgen.interior_point import set_interior_point, use_interior_point
from freight.colgen.master import Master, MasterResult
from freight.model import quiet_highs

_log = logging.getLogger(__name__)


@dataclass
class _Solved:
    """A HiGHS solve as read back once: its basis, the basis statuses of all columns and
    rows (lists: each read of ``basis.col_status`` converts the whole vector), the
    solution."""

    basis: Any
    cols: list
    rows: list
    solution: Any


def bound_scale(demands: np.ndarray, units: int) -> int:
    """HiGHS ``user_bound_scale`` (a power of two, never up) that makes the largest of
    these demands (t) about ``units`` units.

    Examples
    --------
    >>> bound_scale(np.array([10.0, 500.0]), 1024), bound_scale(np.array([3e6]), 1024)
    (0, -11)
    """
    if len(demands) == 0 or not np.isfinite(demands).all() or demands.max() <= units:
        return 0
    return -int(np.floor(np.log2(demands.max() / units)))


class HighsBackend:
    """One ``highspy`` model holding a :class:`Master` between solves (see the module
    docstring). Column ``k`` of HiGHS is flow ``k``'s unserved tonnes for ``k <
    n_flows``, then the chain columns in the master's order; row ``k`` is flow ``k``'s
    demand row, then the capacity rows in the master's order."""

    def __init__(self, master: Master) -> None:
        import highspy

        self.hs = highspy
        self.options = master.options
        h = quiet_highs()
        h.setOptionValue("solver", "simplex")
        self.h = h
        n = len(master.flow_ids)
        t = np.array([master.demands[f] for f in master.flow_ids], dtype=float)
        self.bound_scale = bound_scale(t, master.options.bound_units)
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
        self._solved: _Solved | None = None  # read by marks(), for delete()

    # ------------------------------------------------------------------ Backend
    def solve(self, master: Master, phase: int) -> MasterResult:
        self._solved = None
        self.update(master, phase)
        self.run()
        return self.result(master, phase)

    def marks(
        self, master: Master, threshold: float, rel: float, *, columns: bool, rows: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None] | None:
        solved = self.solved()
        if solved is None:
            return None
        self._solved = solved
        idle = self.idle(threshold, solved) if columns else None
        loose = self.loose(master, rel, solved) if rows else None
        return idle, loose

    def delete(self, master: Master, cols: np.ndarray, rows: np.ndarray) -> None:
        """Delete chain columns and capacity rows (by position among them) from the model,
        keeping the basis of the solve :meth:`marks` read: the deleted columns non-basic,
        the deleted rows' slacks basic, it stays a basis."""
        solved, self._solved = self._solved, None
        assert solved is not None, "delete() follows marks()"
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

    def basis(self, master: Master) -> dict[str, dict] | None:
        b = self.h.getBasis()
        if not b.valid:
            return None
        n = self.n_flows
        col = [int(x) for x in b.col_status[n : n + self.n_cols]]
        row = [int(x) for x in b.row_status]
        return {
            "cols": {c.signature: k for c, k in zip(master.columns, col, strict=True)},
            "demand": dict(zip(master.flow_ids, row[:n], strict=True)),
            "cap": {
                master.rows[r].name: k for r, k in zip(master.cap_rows, row[n:], strict=True)
            },
        }

    # ------------------------------------------------------------------ passing the model
    def update(self, master: Master, phase: int) -> None:
        """Pass the new rows and columns, and the phase's costs and bounds, to HiGHS, and
        choose how the next solve goes."""
        m, h, hs = master, self.h, self.hs
        inf = hs.kHighsInf
        n_new_rows = len(m.cap_rows) - self.n_rows
        if n_new_rows:
            self._add_rows(m, n_new_rows)
        new = m.columns[self.n_cols :]
        if new:
            starts, idx, val = self.entries(m, self.n_cols)
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
        self.ipm = use_interior_point(
            new_columns=len(new),
            columns=self.n_cols,
            rows_added=self.rows_added,
            fresh=self.fresh,
            warm_columns=m.warm_columns,
            options=self.options,
        )
        self.rows_added = False
        if self.fresh and phase == 2 and m.start_basis is not None:
            if self._start_from(m, m.start_basis):  # warm primal simplex from there
                self.fresh = self.ipm = False
                h.setOptionValue("simplex_strategy", 4)
            m.start_basis = None

    def _add_rows(self, m: Master, n_new_rows: int) -> None:
        """Pass the master's new capacity rows with the coefficients of the columns
        already in (lazy rows enter after their columns), row by row, each row's columns
        in column order."""
        added = m.cap_rows[self.n_rows :]
        caps = np.array([m.rows[r].capacity_t for r in added])
        at = np.full(len(m.rows), -1, dtype=np.int64)
        at[np.asarray(added, dtype=np.int64)] = np.arange(n_new_rows)
        row_of = np.zeros(0, dtype=np.int64)
        col_of = np.zeros(0, dtype=np.int64)
        coef = np.zeros(0)
        if self.n_cols:
            used = np.concatenate(m.column_rows[: self.n_cols])
            lens = [len(a) for a in m.column_rows[: self.n_cols]]
            hit = at[used] >= 0
            row_of = at[used[hit]]
            col_of = np.repeat(np.arange(self.n_cols), lens)[hit]
            coef = np.concatenate(m.column_coefs[: self.n_cols])[hit]
            order = np.argsort(row_of, kind="stable")
            row_of, col_of, coef = row_of[order], col_of[order], coef[order]
        counts = np.bincount(row_of, minlength=n_new_rows)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        self.h.addRows(
            n_new_rows,
            np.full(n_new_rows, -self.hs.kHighsInf),
            caps,
            len(col_of),
            starts,
            (col_of + self.n_flows).astype(np.int32),
            coef.astype(float),
        )
        self.n_rows += n_new_rows
        self.rows_added = True

    def entries(self, m: Master, first: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The master's columns from position ``first`` on as HiGHS column-wise entries
        (starts, row indices, values): each column its demand row, then its capacity rows
        in the master, in the column's row order."""
        new = m.columns[first:]
        lens = np.fromiter(map(len, m.column_rows[first:]), np.int64, len(new))
        rows = np.concatenate([np.zeros(0, np.int64), *m.column_rows[first:]])
        coef = np.concatenate([np.zeros(0), *m.column_coefs[first:]])
        pos = m.cap_pos[rows]
        kept = pos >= 0
        owner = np.repeat(np.arange(len(new)), lens)[kept]
        n_kept = np.bincount(owner, minlength=len(new))
        counts = n_kept + 1
        starts = np.zeros(len(new), np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        idx = np.empty(int(counts.sum()), np.int32)
        val = np.empty(len(idx))
        idx[starts] = np.fromiter((m.flow_pos[c.flow_id] for c in new), np.int64, len(new))
        val[starts] = 1.0
        rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_kept) - n_kept, n_kept)
        at = starts[owner] + 1 + rank
        idx[at] = pos[kept] + self.n_flows
        val[at] = coef[kept]
        return starts.astype(np.int32), idx, val

    def _start_from(self, m: Master, basis: dict[str, dict]) -> bool:
        """Set a basis given by name (:meth:`basis`) where it is one for this model: the
        columns and rows it names take its status, chain columns new here start at zero
        and capacity rows new here with their slack basic (a solution of the other master
        that respects every capacity stays feasible). False, and nothing set, when that is
        not a basis (a flow it does not know, or a count of basic variables other than the
        rows)."""
        h, hs = self.h, self.hs
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

    # ------------------------------------------------------------------ solving
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
            set_interior_point(h, self.hs)
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

    def loose(self, m: Master, rel: float, solved: _Solved) -> np.ndarray:
        """By capacity row of the model: its slack basic and more than ``rel`` of the
        capacity (at least 1 t) left in the ``solved`` solve."""
        n, k = self.n_flows, self.n_rows
        basic = self.hs.HighsBasisStatus.kBasic
        status = np.fromiter(map(basic.__eq__, solved.rows[n : n + k]), bool, k)
        value = np.asarray(solved.solution.row_value, dtype=float)[n : n + k]
        caps = m.caps[np.asarray(m.cap_rows, dtype=np.int64)]
        return status & (caps - value > rel * np.maximum(caps, 1.0))

    def result(self, m: Master, phase: int) -> MasterResult:
        h, hs = self.h, self.hs
        pi = np.zeros(len(m.rows))
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
        left = (caps - row_value[n : n + self.n_rows]).tolist()
        slack = dict(zip(m.cap_rows, left, strict=True))
        x = col[n : n + self.n_cols].tolist()
        unserved = dict(zip(m.flow_ids, col[:n].tolist(), strict=True)) if phase == 1 else {}
        obj = float(h.getInfo().objective_function_value)
        return MasterResult(True, name, obj, x, unserved, sigma, pi, slack)


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
