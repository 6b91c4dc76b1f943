"""Column generation over chains: the exact core and its accelerators.

Read in this order: :mod:`~freight.colgen.loop` (the loop and its stopping proof),
:mod:`~freight.colgen.master` (the restricted master LP, one backend interface:
:mod:`~freight.model` the PuLP model of record, :mod:`~freight.colgen.highs` HiGHS kept
warm), :mod:`~freight.colgen.pricing` (exact pricing by shortest paths, with
:mod:`~freight.colgen.road_ends`), :mod:`~freight.colgen.seeds` (the first columns) and
:mod:`~freight.colgen.result`; then the accelerators, each exact and switchable in
:class:`SolveOptions` (:mod:`~freight.colgen.options`): :mod:`~freight.colgen.settle`,
:mod:`~freight.colgen.lazy_rows`, :mod:`~freight.colgen.pruning`,
:mod:`~freight.colgen.smoothing`, :mod:`~freight.colgen.fast_pricing`,
:mod:`~freight.colgen.workers`, :mod:`~freight.colgen.prefetch`,
:mod:`~freight.colgen.interior_point`. The entry points are in :mod:`freight.solve`.
"""

from freight.colgen.options import SolveOptions

__all__ = ["SolveOptions"]
