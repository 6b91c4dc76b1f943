"""Accelerator: price general chains first among a few small searches, exactly only when
those find nothing.

Exact pricing of general chains runs one Dijkstra per destination over the whole expanded
graph. Fast pricing (phase 2, no road duals, two-way roads) looks only at

- road-main-road chains: road ends of any length joined through the rail/pipeline layer
  as compliant chains are (:meth:`FastPricing.candidates`), the road legs taken from
  one shortest-path tree per terminal's road node, built once per graph
  (:class:`TerminalTrees`; roads are two-way at equal km, so a tree from a terminal gives
  the km to it and from it);
- the flow's capacity-free start (:func:`freight.colgen.seeds.free_start`).

It misses a chain with a road leg between two main legs, which exact pricing finds. So the
loop prices fast first and exactly only when that finds nothing: it still ends only on an
exact pricing that finds nothing, and the optimum is the same.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from freight.colgen.caches import TreeCache, collect_pending
from freight.colgen.options import SolveOptions
from freight.colgen.pricing import Bounds, Candidate, Pricer
from freight.colgen.road_ends import KmAccess, Layer
from freight.colgen.seeds import free_start
from freight.expanded_graph import SINK, SOURCE, CostClass, MultimodalGraph
from freight.problem import Flow


@dataclass
class TerminalTrees:
    """Road km searches from every road node a transfer in or out of the rail/pipeline
    layer touches (a terminal's road node), on the road graph of local ids.

    Roads are two-way at equal km (checked when built), so a tree from a terminal's road
    node gives both the km to it (access) and from it (egress) and the paths either way.
    """

    local: np.ndarray  # global node -> local road id (-1 off the road)
    mat: sp.csr_matrix  # road km, local ids
    arc_of: np.ndarray
    tree: np.ndarray  # global node -> its tree (row of ``pred``), -1 when not a root
    pred: np.ndarray  # (roots, road nodes) predecessors, int32, towards the root
    km: dict[int, np.ndarray]  # by global road node of a place: km to/from every root


@dataclass
class TreeRoads:
    """The road legs between one place's road node and the terminals' road nodes, out of
    :class:`TerminalTrees`; ``arcs(tree)`` lists a leg as the road ends' labels do."""

    trees: TerminalTrees
    node: int  # the place's road node (global)
    reverse: bool  # egress (terminal -> place) rather than access
    memo: dict[int, np.ndarray] = field(default_factory=dict)  # by tree: fixed

    def arcs(self, label: int) -> list[int]:
        hit = self.memo.get(label)
        if hit is None:
            hit = self.memo[label] = np.asarray(self._arcs(label), dtype=np.int64)
        return hit.tolist()  # type: ignore[no-any-return]

    def _arcs(self, k: int) -> list[int]:
        t = self.trees
        x = int(t.local[self.node])
        pred = t.pred[k]
        nodes = [x]
        while pred[x] >= 0:  # towards the root, the terminal's road node
            x = int(pred[x])
            nodes.append(x)
        if self.reverse:  # terminal -> place, in travel order
            out = MultimodalGraph.arcs_between(t.mat, t.arc_of, np.array(nodes[::-1]))
            return [int(a) for a in out]
        # place -> terminal, listed from the terminal back
        out = MultimodalGraph.arcs_between(t.mat, t.arc_of, np.array(nodes))
        return [int(a) for a in out[::-1]]


def build_terminal_trees(
    g: MultimodalGraph, layer: Layer, options: SolveOptions
) -> TerminalTrees | None:
    """The :class:`TerminalTrees` of graph ``g``; None when some road arc has no twin of
    equal km the other way."""
    road_nodes = np.unique(np.concatenate([g.tail[g.road_edge], g.head[g.road_edge]]))
    local = np.full(g.n_nodes, -1, dtype=np.int64)
    local[road_nodes] = np.arange(len(road_nodes))
    mat, arc_of = g.csr(g.km[:, 0], g.road_edge, local=local, size=len(road_nodes))
    if (mat != mat.T).nnz != 0:
        return None
    roots = np.unique(
        np.concatenate([g.tail[layer.road_in_transfers], g.head[layer.road_out_transfers]])
    )
    places = sorted(
        {
            int(g.head[a] if g.kind[a] == SOURCE else g.tail[a])
            for a in np.flatnonzero(((g.kind == SOURCE) | (g.kind == SINK)) & (g.arc_mode == 0))
        }
    )
    tree = np.full(g.n_nodes, -1, dtype=np.int64)
    tree[roots] = np.arange(len(roots))
    pred = np.empty((len(roots), len(road_nodes)), dtype=np.int32)
    km = np.empty((len(roots), len(places)))
    chunk = max(1, int(options.search_batch_bytes // (12 * max(1, len(road_nodes)))))
    for lo in range(0, len(roots), chunk):
        dist, pr = dijkstra(mat, indices=local[roots[lo : lo + chunk]], return_predecessors=True)
        pred[lo : lo + chunk] = pr
        km[lo : lo + chunk] = dist[:, local[places]]
    by_place = {p: km[:, i] for i, p in enumerate(places)}
    return TerminalTrees(local, mat, arc_of, tree, pred, by_place)


def terminal_trees(g: MultimodalGraph, layer: Layer, options: SolveOptions) -> TerminalTrees | None:
    """The graph's :class:`TerminalTrees`, built once (:class:`~freight.colgen.caches.TreeCache`;
    collected from the prefetch helper when one is building them)."""
    collect_pending(g)
    cache = g.derived(TreeCache)
    if not cache.built:
        cache.built, cache.trees = True, build_terminal_trees(g, layer, options)
    return cache.trees


class FastPricing:
    """Fast pricing on one graph (see the module docstring): the general chains' search for
    :class:`~freight.colgen.pricing.Pricer` (``pricer.fast``), and road ends of any length
    for its :class:`~freight.colgen.road_ends.RoadEnds` (``pricer.ends.far``)."""

    def __init__(self, g: MultimodalGraph, layer: Layer, trees: TerminalTrees) -> None:
        self.g = g
        self.layer = layer
        self.trees = trees

    def candidates(
        self,
        pricer: Pricer,
        flows: list[Flow],
        w: np.ndarray,
        commodity: CostClass,
        bounds: Bounds,
    ) -> list[Candidate]:
        """The flows' cheapest road-main-road chains and their capacity-free starts."""
        out = pricer.compliant(flows, w, commodity, bounds, True, None, kind="general")
        free = free_start(pricer, flows)
        out.extend(
            Candidate(
                f,
                "general",
                free[f.id].cost_cny_per_t,
                functools.partial(pricer.ruled, free[f.id]),
            )
            for f in flows
            if f.id in free
            and not pricer.priced_out(f, free[f.id].cost_cny_per_t, "general", bounds)
        )
        return out

    def access(self, place: str, road_arc: int, *, reverse: bool) -> KmAccess:
        """Road legs of any length between the place and every terminal's road node, from
        :class:`TerminalTrees` (kept per place)."""
        cache = self.g.derived(TreeCache)
        memo = cache.far_ends[reverse]
        hit = memo.get(place)
        if hit is not None:
            return hit
        g, lay, trees = self.g, self.layer, self.trees
        shared = cache.far_plan.get(reverse)
        if shared is None:
            t = lay.road_out_transfers if reverse else lay.road_in_transfers
            k = trees.tree[g.head[t] if reverse else g.tail[t]]
            pos = lay.exit_pos[g.tail[t]] if reverse else lay.entry_pos[g.head[t]]
            shared = (t, k, pos, *KmAccess.plan(pos))
            cache.far_plan[reverse] = shared
        t, k, pos, order, starts, upos = shared
        node = int(g.tail[road_arc] if reverse else g.head[road_arc])
        km = trees.km[node][k]  # inf where the road does not reach: weight inf
        acc = KmAccess(TreeRoads(trees, node, reverse), t, km, k, pos, order, starts, upos)
        memo[place] = acc
        return acc


def attach(pricer: Pricer) -> bool:
    """Attach fast pricing to ``pricer`` where the network allows it (two-way roads, a
    rail/pipeline layer), building the terminal trees if need be; whether it did."""
    if pricer.fast is not None:
        return True
    lay = pricer.layer
    if len(lay.entry_nodes) == 0 or len(lay.exit_nodes) == 0:
        return False
    trees = terminal_trees(pricer.g, lay, pricer.options)
    if trees is None:
        return False
    fast = FastPricing(pricer.g, lay, trees)
    pricer.fast = fast
    pricer.ends.far = fast
    return True
