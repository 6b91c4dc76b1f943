"""The restricted master LP: the chains (columns) and capacity rows column generation has
offered so far, and the one backend that solves it.

A :class:`Master` holds, for every flow of the LP, a demand row (its chains carry all its
tonnes, ``unserved`` what they do not) and, for every capacity a column uses, a row
``cap_<mode>_<u>_<v>`` or ``terminal_<id>`` -- with every row at once (``lazy_rows`` off),
or only the rows a solution overloaded (:mod:`freight.colgen.lazy_rows`). Its formulation
in PuLP is the model of record (:class:`freight.model.MasterModel`: names, export, CBC).

One :class:`Backend` solves it and reads back, by name of what they stand for, the values,
the duals and the basis:

- :class:`freight.colgen.highs.HighsBackend` (``solver="highs"``): one ``highspy`` model
  kept warm between solves, fed only the new columns and rows as numpy arrays;
- :class:`PulpBackend` (``solver="cbc"``): the PuLP model, brought up to date and solved by
  CBC at every solve.

Both can tell which columns sit idle and which rows have slack to spare, and delete them
(:mod:`freight.colgen.pruning`); a deleted column can come back (its signature is
forgotten, so pricing may offer it again), a deleted row is a lazy row again.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from freight.colgen.options import SolveOptions
from freight.expanded_graph import Column, Row, lp_key
from freight.model import MasterModel


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


class Backend(Protocol):
    """What solves a :class:`Master` (see the module docstring)."""

    def solve(self, master: Master, phase: int) -> MasterResult:
        """Solve the master as it stands for ``phase`` (1: unserved tonnes, 2: cost)."""
        ...

    def marks(
        self, master: Master, threshold: float, rel: float, *, columns: bool, rows: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None] | None:
        """From the last solve (optimal): by chain column, non-basic at zero with a reduced
        cost above ``threshold x max(1, cost)``; by capacity row of the master, slack basic
        with more than ``rel`` of the capacity (at least 1 t) left. Each only when asked
        for; None when the last solve gives no basis to read."""
        ...

    def delete(self, master: Master, cols: np.ndarray, rows: np.ndarray) -> None:
        """Delete chain columns and capacity rows (positions) of the last :meth:`marks`."""
        ...

    def basis(self, master: Master) -> dict[str, dict] | None:
        """The last solve's basis by name (:meth:`Master.basis`), or None."""
        ...


class Master:
    """Restricted master over chain columns.

    Parameters
    ----------
    demands : dict
        Tonnes per year by flow id.
    rows : list of Row
        All capacity rows of the graph (only those used by columns enter the LP).
    solver : {"highs", "cbc"}
        The backend: HiGHS kept warm between solves, or CBC through PuLP.
    lazy_rows : bool
        Capacity rows enter only through :meth:`activate`; else with the first column
        that uses them.
    options : SolveOptions, optional
        The HiGHS backend's interior-point switching and bound scaling.
    """

    def __init__(
        self,
        demands: dict[str, float],
        rows: list[Row],
        *,
        solver: str = "highs",
        lazy_rows: bool = False,
        options: SolveOptions | None = None,
    ):
        self.options = options if options is not None else SolveOptions()
        self.demands = dict(demands)
        self.rows = rows
        self.solver = solver
        self.lazy_rows = lazy_rows
        self.caps = np.array([r.capacity_t for r in rows])
        self.warm_columns = False  # HiGHS: new columns by warm primal simplex, however many
        self.start_basis: dict[str, dict] | None = None  # see basis(); HiGHS, first solve
        self.columns: list[Column] = []  # the columns in the master, in LP order
        self.column_ids: list[int] = []  # a stable id per column (its LP name), by position
        # each column's graph rows and coefficients as arrays, by position
        self.column_rows: list[np.ndarray] = []
        self.column_coefs: list[np.ndarray] = []
        self._next_id = 0
        self.pool: dict[tuple, Column] = {}  # columns deleted from the master, by signature
        self.seen: set[tuple] = set()  # signatures of the columns in the master
        # every change to ``seen`` in order: (True, signature) added, (False, signature)
        # deleted -- a pricing worker keeps its copy of ``seen`` from it
        self.seen_log: list[tuple[bool, tuple]] = []
        self.flow_keys: dict[str, str] = {}  # LP-safe, unique key of each flow id
        used: set[str] = set()
        for fid in demands:
            base, i = lp_key(fid), 1
            name = base
            while name in used:
                i += 1
                name = f"{base}_{i}"
            used.add(name)
            self.flow_keys[fid] = name
        self.flow_ids = list(self.demands)
        self.flow_pos = {f: i for i, f in enumerate(self.flow_ids)}
        self.phase = 1  # of the last solve
        # capacity rows in the master, in order of appearance (master row = n_flows + i)
        self.cap_rows: list[int] = []
        self.cap_pos = np.full(len(rows), -1, dtype=np.int64)
        self.model = MasterModel()  # the PuLP model of record, built on demand
        self._backend: Backend | None = None

    # ------------------------------------------------------------------ columns and rows
    def add_columns(self, columns: list[Column]) -> int:
        """Add columns not already present; return how many were new. A deleted column
        (in :attr:`pool`) may come back."""
        n = 0
        for c in columns:
            if c.signature in self.seen:
                continue
            self.seen.add(c.signature)
            self.seen_log.append((True, c.signature))
            self.pool.pop(c.signature, None)
            self.columns.append(c)
            self.column_ids.append(self._next_id)
            self.column_rows.append(np.fromiter(c.rows.keys(), np.int64, len(c.rows)))
            self.column_coefs.append(np.fromiter(c.rows.values(), float, len(c.rows)))
            self._next_id += 1
            if not self.lazy_rows:
                self._take_rows(c.rows)  # capacity rows in order of first use
            n += 1
        return n

    def activate(self, rows: Iterable[int]) -> int:
        """Add capacity rows (graph row indices) not in the master yet, with the
        coefficients of the columns already in it; returns how many were new."""
        n = self._take_rows(rows)
        if n:
            self.model.stale = True  # old PuLP columns gain coefficients: rebuild on demand
        return n

    def _take_rows(self, rows: Iterable[int]) -> int:
        """Append the rows not in the master yet to :attr:`cap_rows`; how many were new."""
        n = 0
        for r in rows:
            if self.cap_pos[r] < 0:
                self.cap_pos[r] = len(self.cap_rows)
                self.cap_rows.append(r)
                n += 1
        return n

    def usage(self, x: list[float]) -> np.ndarray:
        """Tonnes on every graph row (in the master or not) for column values ``x``."""
        xs = np.asarray(x, dtype=float)
        pos = np.flatnonzero(xs > 0.0).tolist()
        if not pos:
            return np.zeros(len(self.rows))
        idx = np.concatenate([self.column_rows[j] for j in pos])
        k = np.concatenate([self.column_coefs[j] for j in pos])
        lens = [len(self.column_rows[j]) for j in pos]
        return np.bincount(idx, np.repeat(xs[pos], lens) * k, minlength=len(self.rows))

    # ------------------------------------------------------------------ solving
    def solve(self, *, phase: int) -> MasterResult:
        """Solve the master of ``phase`` (1: feasibility, 2: cost) and read its duals."""
        self.phase = phase
        if self._backend is None:
            if self.solver == "cbc":
                self._backend = PulpBackend()
            else:
                from freight.colgen.highs import HighsBackend

                self._backend = HighsBackend(self)
        return self._backend.solve(self, phase)

    def basis(self) -> dict[str, dict] | None:
        """The basis of the last (HiGHS) solve by name, for a warm start of another master
        over the same rows (:attr:`start_basis`): ``cols`` by column signature, ``demand``
        by flow id, ``cap`` by capacity row name (HiGHS basis status codes); None when
        there is none."""
        return None if self._backend is None else self._backend.basis(self)

    def marks(
        self, threshold: float, rel: float, *, columns: bool, rows: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None] | None:
        """Idle columns and loose rows of the last solve (:meth:`Backend.marks`)."""
        if self._backend is None:
            return None
        return self._backend.marks(self, threshold, rel, columns=columns, rows=rows)

    def delete(self, cols: np.ndarray, rows: np.ndarray) -> None:
        """Delete chain columns and capacity rows (positions among them) marked by the last
        :meth:`marks`: deleted columns go to :attr:`pool` and their signatures are
        forgotten, deleted rows are lazy rows again."""
        if len(cols) == 0 and len(rows) == 0:
            return
        assert self._backend is not None
        self._backend.delete(self, cols, rows)
        self._forget_columns(cols)
        self._forget_rows(rows)
        self.model.stale = True

    def _forget_columns(self, gone: np.ndarray) -> None:
        if len(gone) == 0:
            return
        keep = np.ones(len(self.columns), dtype=bool)
        keep[gone] = False
        for k in gone.tolist():
            c = self.columns[k]
            self.seen.discard(c.signature)
            self.seen_log.append((False, c.signature))
            self.pool[c.signature] = c
        kept = keep.tolist()
        self.columns = list(itertools.compress(self.columns, kept))
        self.column_ids = list(itertools.compress(self.column_ids, kept))
        self.column_rows = list(itertools.compress(self.column_rows, kept))
        self.column_coefs = list(itertools.compress(self.column_coefs, kept))

    def _forget_rows(self, gone: np.ndarray) -> None:
        if len(gone) == 0:
            return
        keep = np.ones(len(self.cap_rows), dtype=bool)
        keep[gone] = False
        cap = np.asarray(self.cap_rows, dtype=np.int64)
        self.cap_pos[cap[gone]] = -1
        self.cap_rows = cap[keep].tolist()
        self.cap_pos[cap[keep]] = np.arange(len(self.cap_rows))

    # ------------------------------------------------------------------ the model of record
    def export_lp(self, path: str, *, phase: int | None = None) -> None:
        """Write the master as last solved (or built for ``phase``) as an MPS (``.mps``)
        or LP (``.lp``) file, and beside it ``<path>.names.csv``: every row and column
        name with what it stands for (``name, kind, id, label``), since a name holds an
        ASCII key of its id (:func:`freight.expanded_graph.lp_key`), not the id itself."""
        from freight.spreadsheet import write_csv

        self.model.build(self, phase=self.phase if phase is None else phase)
        self.model.write(str(path))
        write_csv(f"{path}.names.csv", ["name", "kind", "id", "label"], self.names())

    def names(self) -> list[dict[str, str]]:
        """The label table of the PuLP model's names: demand rows and unserved columns by
        flow, capacity rows by edge or terminal, chain columns by flow and chain."""
        out = []
        keys = self.flow_keys
        for f in self.flow_ids:
            out.append({"name": f"demand_{keys[f]}", "kind": "demand", "id": f,
                        "label": f"flow {f}: all its tonnes"})  # fmt: skip
            out.append({"name": f"unserved_{keys[f]}", "kind": "unserved", "id": f,
                        "label": f"flow {f}: tonnes not carried (phase 1)"})  # fmt: skip
        for r in self.cap_rows:
            row = self.rows[r]
            ref = row.key[1] if row.kind == "terminal" else "_".join(map(str, row.key[1:]))
            out.append({"name": row.name, "kind": row.kind, "id": ref, "label": row.label})
        for k, c in enumerate(self.columns):
            legs = " + ".join(f"{leg.mode} {leg.km:,.1f} km" for leg in c.chain.legs)
            via = f" via {', '.join(c.chain.lifts)}" if c.chain.lifts else ""
            out.append({"name": f"chain_{keys[c.flow_id]}_{self.column_ids[k]}",
                        "kind": "chain", "id": c.flow_id, "label": f"{legs}{via}"})  # fmt: skip
        return out


class PulpBackend:
    """CBC through PuLP: the model of record brought up to date and solved from scratch at
    every solve. Idle columns and loose rows are read from the values and duals of the
    last solve (a column at zero with a positive reduced cost is non-basic, a row with
    slack has its slack basic, in any basic solution)."""

    def __init__(self) -> None:
        self._last: MasterResult | None = None

    def solve(self, master: Master, phase: int) -> MasterResult:
        model = master.model
        model.build(master, phase=phase)
        status = model.solve_cbc()
        sigma = {
            f: float(c.pi or 0.0)
            for f, c in zip(master.flow_ids, model.demand_cons, strict=True)
        }
        pi = np.zeros(len(master.rows))
        slack = {}
        for r, c in model.cap_cons.items():
            pi[r] = min(float(c.pi or 0.0), 0.0)
            slack[r] = float(c.slack or 0.0)
        xs = [float(v.varValue or 0.0) for v in model.x]
        unserved = {}
        if phase == 1:
            unserved = {f: float(v.varValue or 0.0) for f, v in model.unserved.items()}
        res = MasterResult(
            status == "Optimal", status, model.objective(), xs, unserved, sigma, pi, slack
        )
        self._last = res if res.optimal else None
        return res

    def marks(
        self, master: Master, threshold: float, rel: float, *, columns: bool, rows: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None] | None:
        res = self._last
        if res is None or len(res.x) != len(master.columns):
            return None
        idle = loose = None
        if columns:
            cost = np.array([c.cost_cny_per_t for c in master.columns])
            dual = np.array([
                sum(res.pi[r] * k for r, k in c.rows.items()) for c in master.columns
            ])  # fmt: skip
            sigma = np.array([res.sigma.get(c.flow_id, 0.0) for c in master.columns])
            scale = np.maximum(1.0, np.abs(cost)) if master.phase == 2 else 1.0
            reduced = (cost if master.phase == 2 else 0.0) - sigma - dual
            idle = (np.asarray(res.x) == 0.0) & (reduced > threshold * scale)
        if rows:
            caps = master.caps[np.asarray(master.cap_rows, dtype=np.int64)]
            left = np.array([res.slack.get(r, 0.0) for r in master.cap_rows])
            loose = left > rel * np.maximum(caps, 1.0)
        return idle, loose

    def delete(self, master: Master, cols: np.ndarray, rows: np.ndarray) -> None:
        self._last = None  # the PuLP model is rebuilt from the master (stale)

    def basis(self, master: Master) -> dict[str, dict] | None:
        return None
