"""Accelerator: re-solve the master by interior point instead of warm simplex when that is
faster.

A warm simplex re-solve pivots the new columns in one by one. When a thousand or more
arrive at once, and they are a good share of the master, the master is very degenerate
and the pivots are many: an interior point solve from scratch (with presolve), then
crossover to a basis, is much faster. The same holds for capacity rows that cut the last
solution off in a large master (a warm dual simplex), and for the first solve of a large
master (no basis yet). Not in the tail (``SolveOptions.tail_gain``), where few columns
change the optimum and a warm primal simplex takes hundredths of a second.

Exact either way: crossover ends at an optimal basis, as simplex does; the duals are vertex
duals. ``SolveOptions(interior_point=False)`` always uses simplex.
"""

from __future__ import annotations

from typing import Any

from freight.colgen.options import SolveOptions


def use_interior_point(
    *,
    new_columns: int,
    columns: int,
    rows_added: bool,
    fresh: bool,
    warm_columns: bool,
    options: SolveOptions,
) -> bool:
    """Whether the next solve of a master of ``columns`` chain columns, ``new_columns`` of
    them new since the last solve, goes by interior point and crossover.

    ``rows_added``: capacity rows with old columns in them arrived; ``fresh``: there is no
    basis yet; ``warm_columns``: the master is in the tail, new columns by warm simplex.

    Examples
    --------
    >>> o = SolveOptions()
    >>> args = dict(rows_added=False, fresh=False, warm_columns=False, options=o)
    >>> use_interior_point(new_columns=1200, columns=8000, **args)
    True
    >>> use_interior_point(new_columns=300, columns=8000, **args)
    False
    """
    o = options
    ipm = new_columns >= o.ipm_min_columns and new_columns >= o.ipm_share * (
        columns - new_columns
    )
    ipm &= not warm_columns
    # rows cutting the last solution off in a large master: a warm dual simplex is slow
    ipm |= rows_added and columns >= o.ipm_min_columns
    # no basis yet (the first solve of a large master): interior point with crossover
    ipm |= fresh and columns >= o.ipm_min_columns
    return ipm and o.interior_point


def set_interior_point(h: Any, hs: Any) -> str:
    """Set HiGHS's solver to its interior point IPX, by name where HiGHS knows the name,
    else ``"ipm"`` (which is IPX there); returns the name set. Where the optional
    ``highspy-extras`` is installed, ``"ipm"`` picks HiPO instead, slower on these masters
    (benchmarks/README.md)."""
    ok = hs.HighsStatus.kOk
    for name in ("ipx", "ipm"):
        if h.setOptionValue("solver", name) == ok:
            return name
    raise RuntimeError("HiGHS offers no interior point solver")
