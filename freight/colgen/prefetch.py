"""Accelerator: build fast pricing's terminal road trees, then the flows' road-only starts,
in a helper process while this one checks the flows.

At the start of a large solve, the rule's checks (road hauls, zero-dual cheapest chains)
and the terminal trees (:class:`~freight.colgen.fast_pricing.TerminalTrees`) are both
seconds of shortest paths that do not depend on each other. The helper builds the trees
(and, when roads have no capacities, every flow's road-only start,
:func:`freight.colgen.seeds.road_only`) and sends them back pickled; the first use of
either collects them (:func:`freight.colgen.caches.collect_pending`), waiting if need be.
A helper that fails or is lost changes nothing but the time: both are built here on
demand. Exact: the same arrays and chains as built here (tested).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence

import numpy as np

from freight.colgen import processes
from freight.colgen.caches import RoadCache, TreeCache
from freight.colgen.fast_pricing import TerminalTrees, build_terminal_trees
from freight.colgen.options import SolveOptions
from freight.colgen.pricing import Pricer
from freight.colgen.road_ends import Layer
from freight.colgen.seeds import road_only
from freight.expanded_graph import Column, MultimodalGraph
from freight.problem import Flow

_log = logging.getLogger(__name__)


def start(pricer: Pricer) -> bool:
    """Start building the terminal trees (and road-only starts) of ``pricer``'s graph in a
    helper process, for the first use to collect. False when they are built or being built
    already, or a helper cannot start."""
    g = pricer.g
    cache = g.derived(TreeCache)
    if cache.built or cache.pending is not None:
        return False
    if not processes.available():
        return False
    starts = not np.any(g.row[g.road_edge] >= 0) and g.derived(RoadCache).road_only is None
    args = (g.detached(), pricer.layer, pricer.flows, pricer.max_access_km, pricer.options,
            starts)  # fmt: skip
    try:
        helper = processes.Helper(_build, *args)
    except OSError as exc:
        _log.warning("terminal trees built here (%s)", exc)
        return False
    cache.pending = helper
    weakref.finalize(g, helper.cancel)  # never collected: ends with the graph
    return True


def _build(
    g: MultimodalGraph,
    layer: Layer,
    flows: Sequence[Flow],
    max_access_km: float,
    options: SolveOptions,
    starts: bool,
) -> tuple[TerminalTrees | None, dict[Flow, Column | None] | None]:
    """What the helper computes: the trees, and the road-only starts when asked for."""
    trees = build_terminal_trees(g, layer, options)
    if not starts:
        return trees, None
    return trees, road_only(Pricer(g, flows, max_access_km, {}, options=options), flows)
