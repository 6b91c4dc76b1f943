"""What pricing keeps on an expanded graph, as typed caches.

Each is kept by :meth:`freight.expanded_graph.MultimodalGraph.derived`, so every pricing
on the graph -- the rule's checks, the rule's solve, the policy-off solve -- shares it,
and a recosted graph (the calibration's) starts without:

- :class:`ChainCache`, per ``max_access_km``: zero-dual cheapest chains, capacity-free
  chains, the compliant chains' road ends searched by km;
- :class:`RoadCache`: the road km matrix, each flow's shortest road-only chain;
- :class:`TreeCache`: fast pricing's terminal road trees, and a helper process building
  them (:mod:`freight.colgen.prefetch`).

Everything in them depends on the graph (and the key) alone, never on duals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from freight.expanded_graph import Column, MultimodalGraph
from freight.problem import Flow

if TYPE_CHECKING:
    from freight.colgen.fast_pricing import TerminalTrees
    from freight.colgen.processes import Helper
    from freight.colgen.road_ends import EndsPlan
    from freight.colgen.road_legs import KmAccess, Reach

_log = logging.getLogger(__name__)

#: Each flow's cheapest chain of each kind at zero duals, and their weights by kind (the
#: lower bounds that let pricing pass over a flow).
Cheapest = tuple[dict[str, dict[str, Column]], dict[str, dict[str, float]]]


@dataclass
class ChainCache:
    """What pricing keeps for one ``max_access_km``: each flow's cheapest chains at zero
    duals (by the flows asked for), capacity-free chains, and the road ends of compliant
    chains searched by km (per place, and the plans combining them)."""

    cheapest: dict[tuple[Flow, ...], Cheapest] = field(default_factory=dict)
    capacity_free: dict[Flow, Column | None] = field(default_factory=dict)
    ends_plan: dict[tuple[bool, bool], EndsPlan] = field(default_factory=dict)
    reach: dict[bool, dict[str, Reach]] = field(default_factory=lambda: {False: {}, True: {}})
    near_ends: dict[bool, dict[str, KmAccess]] = field(
        default_factory=lambda: {False: {}, True: {}}
    )

    def __getstate__(self) -> dict:
        """Pickled for a helper process: without the cheapest chains, which only the
        rule's checks and the master's start ask for (recomputed if ever asked)."""
        return self.__dict__ | {"cheapest": {}}


@dataclass
class RoadCache:
    """The road km matrix (either way), and each flow's shortest road-only chain (None: no
    road route; the dict itself is None until a first flow asks)."""

    road_km: dict[bool, tuple[sp.csr_matrix, np.ndarray]] = field(default_factory=dict)
    road_only: dict[Flow, Column | None] | None = None


@dataclass
class TreeCache:
    """The terminals' road trees (``built`` once tried: ``trees`` None when the roads are
    not two-way), a helper process building them (``pending``), and what fast pricing
    derives from them per place."""

    built: bool = False
    trees: TerminalTrees | None = None
    pending: Helper | None = None
    far_ends: dict[bool, dict[str, KmAccess]] = field(
        default_factory=lambda: {False: {}, True: {}}
    )
    far_plan: dict[bool, tuple] = field(default_factory=dict)

    def __getstate__(self) -> dict:
        """Pickled for a helper process: without ``pending``, a process handle of this
        process's."""
        return self.__dict__ | {"pending": None}


def keep_starts(graph: MultimodalGraph, found: dict[Flow, Column | None]) -> None:
    """Road-only chains into the graph's :class:`RoadCache`; a flow's first one stays."""
    roads = graph.derived(RoadCache)
    if roads.road_only is None:
        roads.road_only = {}
    memo = roads.road_only
    memo.update((f, c) for f, c in found.items() if f not in memo)


def collect_pending(graph: MultimodalGraph) -> None:
    """What a helper process building the terminal trees (and road-only starts) has built,
    if one is pending, into the graph's caches (waiting for it); if it failed, nothing:
    both are built here on demand."""
    cache = graph.derived(TreeCache)
    pending, cache.pending = cache.pending, None
    if pending is None:
        return
    try:
        trees, starts = pending.result()
    except (EOFError, OSError, RuntimeError) as exc:
        _log.warning("terminal trees from the helper process lost (%s); building them here", exc)
        return
    cache.built, cache.trees = True, trees
    if starts is not None:
        keep_starts(graph, starts)
