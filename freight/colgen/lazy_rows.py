"""Accelerator: a capacity row enters the master only once a master solution overloads it.

Without it, a capacity row enters with the first column that uses it. With it, the master
starts with the rows the flows' cheapest chains overload together (:func:`overloaded_by`),
and after each solve takes in, with the next round's columns, the rows the solution loads
beyond their capacity (:func:`overloaded`). The master is then a relaxation of the one
with every row, so its optimum, once it respects every capacity and no chain prices out,
is the optimum; the rows left out have dual 0. In a large run most rows that columns use
never bind. A warm start takes in at once the rows the warm run's
master ended with: more rows than needed change nothing but the master's size.
"""

from __future__ import annotations

import numpy as np

from freight import tolerances as tol
from freight.colgen.master import Master, MasterResult
from freight.expanded_graph import Column, Row


def overloaded(master: Master, res: MasterResult) -> list[int]:
    """Graph rows not in the master that ``res`` loads above their capacity (beyond
    :data:`~freight.tolerances.OVERLOAD_REL` of it, at least
    :data:`~freight.tolerances.OVERLOAD_T`), most overloaded first."""
    used = master.usage(res.x)
    caps = master.caps
    over = used - caps - np.maximum(tol.OVERLOAD_REL * caps, tol.OVERLOAD_T)
    hit = np.flatnonzero((over > 0) & (master.cap_pos < 0))
    return [int(r) for r in hit[np.argsort(-over[hit] / caps[hit])]]


def overloaded_by(
    chains: list[Column | None], demands: dict[str, float], rows: list[Row]
) -> list[int]:
    """Graph rows over capacity when every flow is fully on its chain (``demands``: the
    flows' tonnes), in order of first use."""
    used: dict[int, float] = {}
    for c in chains:
        if c is None:
            continue
        t = demands[c.flow_id]
        for r, k in c.rows.items():
            used[r] = used.get(r, 0.0) + k * t
    return [r for r, u in used.items() if u > rows[r].capacity_t]
