"""Accelerator: columns and capacity rows leave the master while they do nothing in it.

Column deletion. A column non-basic at zero with a positive reduced cost for
``drop_columns_after`` consecutive phase-2 solves leaves the master. Deleting non-basic
columns changes neither the master's optimum nor its duals (the basis of the rest stays
optimal), and a deleted column is an ordinary candidate of pricing again: its signature is
forgotten, so it comes back if it prices out.

Row deletion. A capacity row whose slack has been basic, with more than
``row_slack_share`` of its capacity left, for ``drop_rows_after`` consecutive phase-2
solves leaves the master -- after twice as many (``row_return_factor``) each time it came
back. A basic slack has dual 0, so the same basis stays optimal without the row: same
solution, same duals. A deleted row is a lazy row again (:mod:`freight.colgen.lazy_rows`),
back as soon as a master solution overloads it.

So the loop's end test -- nothing prices out at the master's duals and nothing is
overloaded -- still proves the optimum over every chain and every row. Rows go only
before the tail (``SolveOptions.tail_gain``): there a row coming back costs an interior
point solve instead of a warm re-solve.
"""

from __future__ import annotations

import numpy as np

from freight import tolerances as tol
from freight.colgen.master import Master
from freight.colgen.options import SolveOptions


class Pruner:
    """Counts, per column and per capacity row of a :class:`Master`, the consecutive
    solves it has been idle (loose), and deletes those that reach their count.

    The counts follow the master's positions: columns and rows are appended at the end,
    and leave only here, so each call first extends the counts to the master's size.
    """

    def __init__(self, master: Master, options: SolveOptions) -> None:
        self.options = options
        self.idle = np.zeros(0, dtype=np.int64)  # by column: rounds idle
        self.loose = np.zeros(0, dtype=np.int64)  # by capacity row: rounds with slack
        self.row_drops = np.zeros(len(master.rows), dtype=np.int64)  # by graph row
        self.columns_dropped = 0
        self.rows_dropped = 0
        self._rows_back = 0  # deleted rows that entered again, up to the last sync

    def _sync(self, master: Master) -> None:
        """Extend the counts to the columns and rows the master took in since."""
        new_cols = len(master.columns) - len(self.idle)
        if new_cols:
            self.idle = np.concatenate([self.idle, np.zeros(new_cols, dtype=np.int64)])
        new_rows = len(master.cap_rows) - len(self.loose)
        if new_rows:
            self.loose = np.concatenate([self.loose, np.zeros(new_rows, dtype=np.int64)])
            back = self.row_drops[np.asarray(master.cap_rows[-new_rows:], dtype=np.int64)]
            self._rows_back += int(np.count_nonzero(back))

    def rows_back(self, master: Master) -> int:
        """Deleted capacity rows that entered the master again, so far."""
        self._sync(master)
        return self._rows_back

    def prune(self, master: Master, *, rows: bool = True) -> tuple[int, int]:
        """Count this solve and delete what reached its count: (columns, rows) deleted.
        ``rows`` False (the tail) counts and deletes no row."""
        self._sync(master)
        o = self.options
        col_rounds = o.drop_columns_after if master.columns else 0
        row_rounds = o.drop_rows_after if rows and master.cap_rows else 0
        if col_rounds <= 0 and row_rounds <= 0:
            return 0, 0
        marks = master.marks(
            tol.IDLE_REDUCED_COST_REL,
            o.row_slack_share,
            columns=col_rounds > 0,
            rows=row_rounds > 0,
        )
        if marks is None:
            return 0, 0
        idle, loose = marks
        cols = gone = np.zeros(0, dtype=np.int64)
        if idle is not None:
            self.idle = np.where(idle, self.idle + 1, 0)
            cols = np.flatnonzero(self.idle >= col_rounds)
        if loose is not None:
            self.loose = np.where(loose, self.loose + 1, 0)
            # a row that came back waits twice as long each time before it goes again
            cap = np.asarray(master.cap_rows, np.int64)
            factor = o.row_return_factor ** self.row_drops[cap]
            gone = np.flatnonzero(self.loose >= row_rounds * factor)
        if len(cols) == 0 and len(gone) == 0:
            return 0, 0
        if len(gone):
            self.row_drops[np.asarray(master.cap_rows, np.int64)[gone]] += 1
        master.delete(cols, gone)
        keep = np.ones(len(self.idle), dtype=bool)
        keep[cols] = False
        self.idle = self.idle[keep]
        keep = np.ones(len(self.loose), dtype=bool)
        keep[gone] = False
        self.loose = self.loose[keep]
        self.columns_dropped += len(cols)
        self.rows_dropped += len(gone)
        return len(cols), len(gone)
