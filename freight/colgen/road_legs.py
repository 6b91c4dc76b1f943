"""Road legs within the km bound between a place and the rail/pipeline layer's terminals.

A compliant chain's road access (egress) leg runs from the origin (to the destination) to
(from) a terminal within ``max_access_km``. When no road row has a dual, every road arc
weighs its commodity's rate per km, so the lightest leg within the bound is the shortest:
one bounded km search per place (:meth:`RoadLegs.prefetch`, batched through scipy and
stopped at the bound) serves every commodity, phase and round, and is kept on the graph
(:class:`~freight.colgen.caches.ChainCache`). Under road duals a bounded Pareto search over
(weight, km) keeps the bound exact (:meth:`RoadLegs.bounded_road`).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from freight import tolerances as tol
from freight.colgen.caches import ChainCache, RoadCache
from freight.colgen.options import SolveOptions
from freight.expanded_graph import SINK, SOURCE, TRANSFER, MultimodalGraph


@dataclass(frozen=True)
class Layer:
    """The rail/pipeline layer's doors: its nodes (and a local index of them), the nodes a
    chain enters it at (from a road transfer or a place's siding) and leaves it at, each
    node's position among those, and the road transfers in and out."""

    main_nodes: np.ndarray
    local: np.ndarray  # global node -> index among main_nodes (-1: not in the layer)
    entry_nodes: np.ndarray
    exit_nodes: np.ndarray
    entry_pos: np.ndarray  # global node -> position among entry_nodes (-1)
    exit_pos: np.ndarray
    road_in_transfers: np.ndarray  # arc ids
    road_out_transfers: np.ndarray

    @classmethod
    def of(cls, g: MultimodalGraph) -> Layer:
        main_nodes = np.flatnonzero(np.asarray(g.node_mode[: g.n_layer]) != 0)
        local = np.full(g.n_nodes, -1, dtype=np.int64)
        local[main_nodes] = np.arange(len(main_nodes))
        entry_arcs = np.flatnonzero(
            ((g.kind == TRANSFER) & (g.tail_mode == 0) & (g.head_mode > 0))
            | ((g.kind == SOURCE) & (g.arc_mode > 0))
        )
        exit_arcs = np.flatnonzero(
            ((g.kind == TRANSFER) & (g.head_mode == 0) & (g.tail_mode > 0))
            | ((g.kind == SINK) & (g.arc_mode > 0))
        )
        entry_nodes = np.unique(g.head[entry_arcs])
        exit_nodes = np.unique(g.tail[exit_arcs])
        entry_pos = np.full(g.n_nodes, -1, dtype=np.int64)
        entry_pos[entry_nodes] = np.arange(len(entry_nodes))
        exit_pos = np.full(g.n_nodes, -1, dtype=np.int64)
        exit_pos[exit_nodes] = np.arange(len(exit_nodes))
        return cls(
            main_nodes,
            local,
            entry_nodes,
            exit_nodes,
            entry_pos,
            exit_pos,
            entry_arcs[g.kind[entry_arcs] == TRANSFER],
            exit_arcs[g.kind[exit_arcs] == TRANSFER],
        )


class Legs(Protocol):
    """A road leg between a place's road node and a terminal's, listed from the label of
    its far end (:meth:`Labels.arcs`, :meth:`KmTree.arcs`)."""

    def arcs(self, label: int) -> list[int]: ...


@dataclass
class Labels:
    """Pareto labels of a bounded road search: per node, (weight, km, label) by weight."""

    at: dict[int, list[tuple[float, float, int]]]
    parent: list[int]
    arc: list[int]

    def best(self, node: int, max_km: float) -> tuple[float, int] | None:
        for w, km, lab in self.at.get(node, ()):
            if km <= max_km:
                return w, lab
        return None

    def arcs(self, label: int) -> list[int]:
        out = []
        while self.parent[label] >= 0:
            out.append(self.arc[label])
            label = self.parent[label]
        return out


@dataclass
class KmTree:
    """Shortest road km from (or, ``reverse``, to) one road node within a bound: the nodes
    reached and each one's predecessor towards the start (-1 at the start), enough to
    rebuild a path. Labels are node ids."""

    nodes: np.ndarray  # sorted
    pred: np.ndarray
    mat: sp.csr_matrix  # the road km matrix searched (reversed when ``reverse``)
    arc_of: np.ndarray

    def arcs(self, label: int) -> list[int]:
        """Arcs between node ``label`` and the start, listed from that node (as
        :meth:`Labels.arcs`)."""
        out: list[int] = []
        node = label
        while True:
            p = int(self.pred[int(np.searchsorted(self.nodes, node))])
            if p < 0:
                return out
            lo, hi = self.mat.indptr[p], self.mat.indptr[p + 1]
            out.append(int(self.arc_of[lo + self.mat.indices[lo:hi].tolist().index(node)]))
            node = p


@dataclass
class Reach:
    """A place's bounded road search, with the transfers it reaches within the bound."""

    tree: KmTree
    transfers: np.ndarray  # arc ids of transfers in (out of) the rail/pipeline layer
    road_km: np.ndarray  # road km between the place's road node and the transfer's


@dataclass
class Access:
    """Per place: transfers reachable by road within the bound, with their best label."""

    labels: Legs
    transfers: np.ndarray  # arc ids
    weight: np.ndarray  # road weight of the best label
    label: np.ndarray  # label id
    pos: np.ndarray  # index of the transfer's layer node among entry (exit) nodes


@dataclass
class KmAccess(Access):
    """An :class:`Access` whose ``weight`` is road km (the same for every commodity,
    phase and round), kept per place, with the plan that takes the minimum per entry (exit)
    node: ``order`` sorts the transfers by ``pos``, ``starts`` opens each run of one
    ``pos`` in that order, ``upos`` is that ``pos``."""

    order: np.ndarray
    starts: np.ndarray
    upos: np.ndarray

    @staticmethod
    def plan(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(pos, kind="stable")
        sp_ = pos[order]
        starts = np.flatnonzero(np.r_[True, sp_[1:] != sp_[:-1]]) if len(sp_) else sp_
        return order, starts, sp_[starts]


class RoadLegs:
    """The road legs of every place of a graph, for one ``max_access_km``."""

    def __init__(
        self, graph: MultimodalGraph, layer: Layer, max_access_km: float, options: SolveOptions
    ) -> None:
        self.g = graph
        self.layer = layer
        self.max_access_km = max_access_km
        self.options = options

    def end_arcs(self, place: str, reverse: bool) -> list[int]:
        """The arcs out of the place's source node (into its sink node, ``reverse``)."""
        g = self.g
        end = g.snk(place) if reverse else g.src(place)
        ptr, arcs = g.in_arcs if reverse else g.out_arcs
        return [int(a) for a in arcs[ptr[end] : ptr[end + 1]]]

    # ------------------------------------------------------------------ road legs by km
    def road_km(self, reverse: bool) -> tuple[sp.csr_matrix, np.ndarray]:
        """The road km matrix (reversed: ``reverse``) and the arc of each entry."""
        cache = self.g.derived(RoadCache).road_km
        if reverse not in cache:
            g = self.g
            cache[reverse] = g.csr(g.km[:, 0], g.road_edge, reverse=reverse)
        return cache[reverse]

    def reaches(self, reverse: bool) -> dict[str, Reach]:
        return self.g.derived(ChainCache, self.max_access_km).reach[reverse]

    def prefetch(self, places: Sequence[str], *, reverse: bool) -> None:
        """Bounded road km searches of the places not searched yet, batched through scipy
        (one Dijkstra per place, stopped at the km bound)."""
        g = self.g
        cache = self.reaches(reverse)
        todo: list[tuple[str, int, float]] = []
        for p in places:
            if p in cache:
                continue
            road = [a for a in self.end_arcs(p, reverse) if g.arc_mode[a] == 0]
            budget = self.max_access_km - float(g.km[road[0], 0]) if road else -1.0
            if budget < -tol.KM_REL:
                continue
            todo.append((p, int(g.tail[road[0]] if reverse else g.head[road[0]]), budget))
        if not todo:
            return
        mat, arc_of = self.road_km(reverse)
        lay = self.layer
        transfers = lay.road_out_transfers if reverse else lay.road_in_transfers
        t_node = g.head[transfers] if reverse else g.tail[transfers]
        t_km = g.km[transfers, 0]
        tol_km = tol.KM_REL * max(1.0, self.max_access_km)
        chunk = max(1, int(self.options.search_batch_bytes // (12 * max(1, g.n_nodes))))
        for lo in range(0, len(todo), chunk):
            batch = todo[lo : lo + chunk]
            limit = max(b for _, _, b in batch) + tol_km
            starts = [s for _, s, _ in batch]
            dist, pred = dijkstra(
                mat, indices=starts, limit=limit, return_predecessors=True, min_only=False
            )
            for i, (p, _, budget) in enumerate(batch):
                d = dist[i]
                nodes = np.flatnonzero(d <= budget + tol_km)
                prev = pred[i, nodes].astype(np.int64)
                prev[prev < 0] = -1
                km = d[t_node] + t_km
                ok = np.flatnonzero(km <= budget + tol_km)
                cache[p] = Reach(KmTree(nodes, prev, mat, arc_of), transfers[ok], d[t_node[ok]])

    def access_by_km(self, place: str, *, reverse: bool) -> KmAccess:
        """:meth:`access` when every road arc weighs ``rate`` per km (no road duals): the
        shortest road path within the bound is also the lightest, so one km search per
        place serves every commodity, phase and pricing round (kept per place)."""
        memo = self.g.derived(ChainCache, self.max_access_km).near_ends[reverse]
        hit = memo.get(place)
        if hit is not None:
            return hit
        self.prefetch([place], reverse=reverse)
        reach = self.reaches(reverse)[place]
        t = reach.transfers
        g = self.g
        lay = self.layer
        pos = lay.exit_pos[g.tail[t]] if reverse else lay.entry_pos[g.head[t]]
        label = g.head[t] if reverse else g.tail[t]
        acc = KmAccess(reach.tree, t, reach.road_km, label, pos, *KmAccess.plan(pos))
        memo[place] = acc
        return acc

    # ------------------------------------------------------------------ road legs by weight
    def access(self, start: int, budget: float, w: np.ndarray, *, reverse: bool) -> Access:
        """Road labels from/to ``start`` and, for every transfer in or out of the
        rail/pipeline layer reachable within ``budget``, its best label."""
        g = self.g
        labels = self.bounded_road(start, budget, w, reverse=reverse)
        lay = self.layer
        transfers = lay.road_out_transfers if reverse else lay.road_in_transfers
        pos = lay.exit_pos if reverse else lay.entry_pos
        tol_km = tol.KM_REL * max(1.0, self.max_access_km)
        ts, ws, labs, ps = [], [], [], []
        for t in transfers:
            t = int(t)
            if not np.isfinite(w[t]):
                continue
            road_node = int(g.head[t] if reverse else g.tail[t])
            best = labels.best(road_node, budget - float(g.km[t, 0]) + tol_km)
            if best is None:
                continue
            ts.append(t)
            ws.append(best[0])
            labs.append(best[1])
            ps.append(int(pos[g.tail[t] if reverse else g.head[t]]))
        return Access(
            labels,
            np.asarray(ts, dtype=np.int64),
            np.asarray(ws, dtype=float),
            np.asarray(labs, dtype=np.int64),
            np.asarray(ps, dtype=np.int64),
        )

    def bounded_road(self, start: int, budget: float, w: np.ndarray, *, reverse: bool) -> Labels:
        """Pareto labels (weight, km) of road paths from ``start`` within ``budget`` km.

        Label setting in lexicographic (weight, km) order: a popped label is kept only if it
        has fewer km than every label already kept at its node, so each node keeps its
        weight/km trade-offs and the best path under any km bound is exact. In reverse mode
        paths run *to* ``start`` (arcs followed backwards).
        """
        g = self.g
        adj_ptr, adj = g.in_arcs if reverse else g.out_arcs
        road = g.road_edge
        tol_km = tol.KM_REL * max(1.0, budget)
        parent: list[int] = [-1]
        arc: list[int] = [-1]
        at: dict[int, list[tuple[float, float, int]]] = {}
        min_km: dict[int, float] = {}
        heap = [(0.0, 0.0, start, 0)]
        while heap:
            wt, km, node, lab = heapq.heappop(heap)
            if km >= min_km.get(node, np.inf):
                continue
            min_km[node] = km
            at.setdefault(node, []).append((wt, km, lab))
            for a in adj[adj_ptr[node] : adj_ptr[node + 1]]:
                if not road[a] or not np.isfinite(w[a]):
                    continue
                km2 = km + float(g.km[a, 0])
                if km2 > budget + tol_km:
                    continue
                nxt = int(g.tail[a] if reverse else g.head[a])
                if km2 >= min_km.get(nxt, np.inf):
                    continue
                parent.append(lab)
                arc.append(int(a))
                heapq.heappush(heap, (wt + float(w[a]), km2, nxt, len(parent) - 1))
        return Labels(at, parent, arc)
