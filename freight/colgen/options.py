"""How a solve runs: :class:`SolveOptions`, its limits and its accelerators, defaults here.

Every accelerator is exact: switching one off changes how long a solve takes, never its
optimum (each has a test saying so, and its measured effect is in
``benchmarks/README.md``). What the defaults depend on -- the flows in the master, the
cores available -- is decided in one place, :meth:`SolveOptions.decide`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SolveOptions:
    """The limits and accelerators of :func:`freight.colgen.solve`.

    ``None`` means "decide by the problem" (:meth:`decide`).

    Attributes
    ----------
    max_iterations : int
        Master solves at most; reached before the optimum is proved, the solve returns
        ``Status.ITERATION_LIMIT`` (never an optimum it has not proved).
    time_limit_s : float, optional
        Seconds (wall clock) after which no further round starts: ``Status.TIME_LIMIT``.
    settle : bool, optional
        Settle outside the LP every flow whose cheapest chain under its rule touches no
        finite capacity (:mod:`freight.colgen.settle`). Default: yes, unless the LP is
        exported (an exported LP holds every flow).
    lazy_rows : bool
        A capacity row enters the master only once a master solution overloads it
        (:mod:`freight.colgen.lazy_rows`); off: with the first column that uses it.
    max_new : int, optional
        Columns added per round at most, the most negative first (each flow its best
        one). Default ``max(max_new_floor, flows in the master // 4)``.
    max_new_floor : int
        The least ``max_new`` defaults to.
    drop_columns_after : int
        Column deletion (:mod:`freight.colgen.pruning`): a column non-basic at zero with a
        positive reduced cost for this many consecutive master solves of phase 2 leaves
        the master (pricing brings it back if it prices out again); 0 keeps every column.
    drop_rows_after : int
        Row deletion (:mod:`freight.colgen.pruning`): a capacity row whose slack stays
        basic with more than ``row_slack_share`` of its capacity left for this many
        consecutive master solves of phase 2 leaves the master (a lazy row again); 0
        keeps every row that entered. Not in the tail (see ``tail_gain``).
    row_slack_share : float
        The share of its capacity (at least 1 t) a row must have left to count a round
        towards its deletion.
    row_return_factor : int
        A row that came back after a deletion waits this many times as many rounds
        before it may go again (each time it came back).
    smoothing : float, optional
        Wentges dual smoothing weight in ``[0, 1)`` (:mod:`freight.colgen.smoothing`): price
        first at ``a centre + (1 - a) duals``, the centre being the duals with the best
        Lagrangian value so far. Default: ``large_smoothing`` for masters of
        ``large_flows`` flows or more, else 0. Off in the tail.
    tail_gain : float
        A phase-2 round that adds no row and lowers the objective by less than this share
        of it starts the tail: from there new columns go in by warm primal simplex, not by
        interior point, pricing is not smoothed and no row is deleted.
    fast_pricing : bool, optional
        Price general chains first among road-rail/pipeline-road chains and the flow's
        capacity-free start (:mod:`freight.colgen.fast_pricing`), exactly only when that
        finds nothing. Default: for masters of ``large_flows`` flows or more.
    workers : int, optional
        Processes that price phase 2 under capacity duals (:mod:`freight.colgen.workers`):
        2 starts one pricing worker beside this process; 1 prices here alone. Default: 2
        with fast pricing on two or more cores, else 1.
    prefetch : bool, optional
        Build the terminals' road trees (then the flows' road-only starts) in a helper
        process while this one checks the flows (:mod:`freight.colgen.prefetch`). Default:
        for problems of ``large_flows`` flows or more on two or more cores, unless
        ``fast_pricing`` is False or ``workers`` is 1.
    gc_pause : bool, optional
        Pause Python's cyclic garbage collector for the solve and restore it after
        (:mod:`networks.gc_pause`: reference-counted, so overlapping solves in threads
        end with it as it was): a large solve makes ~10^6 chains, columns and cache
        entries, none of them cyclic garbage, and every full collection walks them all.
        The pause is process-wide while it lasts. Default: for problems of
        ``large_flows`` flows or more.
    interior_point : bool
        Re-solve the master by interior point and crossover when many columns or rows
        cutting the last solution off arrive at once, and for the first solve of a large
        master (:mod:`freight.colgen.interior_point`); off: always simplex.
    ipm_min_columns : int
        New columns (or columns in the master, for rows and the first solve) from which a
        solve goes by interior point ...
    ipm_share : float
        ... when the new columns are also this share of those already in the master.
    large_flows : int
        Flows from which the defaults above switch fast pricing, smoothing, workers,
        prefetch and the garbage-collector pause on.
    large_smoothing : float
        The smoothing weight of a large master.
    bound_units : int
        Tonnes reach HiGHS in units (a power of two, ``user_bound_scale``) that make the
        largest demand about this many units: interior point stalls on demands of 10^6 t
        beside an objective of 10^11 CNY.
    search_batch_bytes : float
        Memory for one batch of shortest-path distance and predecessor rows (scipy's
        Dijkstra from many sources at once).
    """

    max_iterations: int = 1000
    time_limit_s: float | None = None
    settle: bool | None = None
    lazy_rows: bool = True
    max_new: int | None = None
    max_new_floor: int = 500
    drop_columns_after: int = 3
    drop_rows_after: int = 3
    row_slack_share: float = 0.05
    row_return_factor: int = 2
    smoothing: float | None = None
    tail_gain: float = 1e-5
    fast_pricing: bool | None = None
    workers: int | None = None
    prefetch: bool | None = None
    gc_pause: bool | None = None
    interior_point: bool = True
    ipm_min_columns: int = 1000
    ipm_share: float = 0.05
    large_flows: int = 4000
    large_smoothing: float = 0.5
    bound_units: int = 2**10
    search_batch_bytes: float = 2e8

    def prefetching(self, flows: int, cores: int) -> bool:
        """Whether a solve of ``flows`` flows on ``cores`` cores prefetches (decided first,
        before the flows are checked)."""
        if self.prefetch is not None:
            return self.prefetch
        return (
            flows >= self.large_flows
            and self.fast_pricing is not False
            and self.workers != 1
            and cores >= 2
        )

    def pausing_gc(self, flows: int) -> bool:
        """Whether a solve of ``flows`` flows pauses the garbage collector."""
        return self.gc_pause if self.gc_pause is not None else flows >= self.large_flows

    def settling(self, *, exporting: bool) -> bool:
        """Whether flows are settled outside the LP (not when the LP is exported)."""
        return self.settle if self.settle is not None else not exporting

    def decide(
        self, *, master_flows: int, cores: int, fast_possible: Callable[[], bool]
    ) -> SolveOptions:
        """These options with ``max_new``, ``smoothing``, ``fast_pricing`` and ``workers``
        decided for a master of ``master_flows`` flows (after settling) on ``cores``
        cores. ``fast_possible`` says whether the network allows fast pricing (two-way
        roads, a rail/pipeline layer); asked only when fast pricing is wanted, since
        answering builds the terminals' road trees."""
        big = master_flows >= self.large_flows
        fast = self.fast_pricing if self.fast_pricing is not None else big
        fast = fast and fast_possible()
        return replace(
            self,
            max_new=(self.max_new if self.max_new is not None
                     else max(self.max_new_floor, master_flows // 4)),
            smoothing=(self.smoothing if self.smoothing is not None
                       else self.large_smoothing if big else 0.0),
            fast_pricing=fast,
            workers=(self.workers if self.workers is not None
                     else 2 if fast and cores >= 2 else 1),
        )  # fmt: skip


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
