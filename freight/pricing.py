"""Exact pricing of chains for column generation.

With duals ``pi <= 0`` on the capacity rows and ``sigma_f`` on the demand rows, the reduced
cost of a chain ``c`` of flow ``f`` is ``cost_c - sigma_f - sum_r pi_r a_rc``. Weighting
every arc by its generalised cost minus the dual of the row it uses (``>= 0``) turns the
search for the most negative reduced cost into shortest paths:

- *general* chains (any legs): one Dijkstra per (origin, commodity) on the whole expanded
  graph, from the origin's source node to every sink;
- *compliant* chains (road access <= max_access_km, rail/pipeline main haul, road egress
  <= max_access_km): access labels per (origin, commodity) and egress labels per
  (destination, commodity) from a bounded Pareto search over (weight, km) on the road
  graph -- exact even when road edges have capacities and duals -- and main-haul distances
  from every terminal entry node on the rail/pipeline layer (one multi-source Dijkstra per
  commodity), combined with a min over entry and exit terminals.

Phase 1 (feasibility) prices with the duals alone: arc weight ``-pi`` (Farkas pricing).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from freight.network_view import SINK, SOURCE, TRANSFER, Column, MultimodalGraph
from freight.problem import Flow, Problem

_DIJKSTRA_BYTES = 2e8  # memory for one batch of distance + predecessor rows


@dataclass(frozen=True)
class FlowRule:
    """Which chains a flow may use: ``general`` (any), ``compliant`` (priced separately);
    non-compliant chains pay ``penalty_cny_per_t`` (soft rule)."""

    general: bool
    compliant: bool
    penalty_cny_per_t: float = 0.0


@dataclass
class _Labels:
    """Pareto labels of a bounded road search: per node, (weight, km, label) by weight."""

    at: dict[int, list[tuple[float, float, int]]]
    parent: list[int]
    arc: list[int]

    def best(self, node: int, max_km: float) -> tuple[float, int] | None:
        for w, km, lab in self.at.get(node, ()):
            if km <= max_km:
                return w, lab
        return None

    def arcs(self, lab: int) -> list[int]:
        out = []
        while self.parent[lab] >= 0:
            out.append(self.arc[lab])
            lab = self.parent[lab]
        return out


@dataclass
class _Access:
    """Per place: transfers reachable by road within the bound, with their best label."""

    labels: _Labels
    transfers: np.ndarray  # arc ids
    weight: np.ndarray  # road weight of the best label
    label: np.ndarray  # label id
    pos: np.ndarray  # index of the transfer's layer node among entry (exit) nodes


@dataclass
class _RoadEnds:
    acc: _Access
    val: np.ndarray  # total weight by transfer (road arc + road path + lift)
    road_arc: int
    reverse: bool
    better: np.ndarray  # by entry (exit) node: road beats any siding


@dataclass
class _Ends:
    """Best weight to each entry node (from an origin) or from each exit node (to a
    destination), and the arcs of the best way, built on demand."""

    vals: np.ndarray
    sidings: dict[int, list[int]] = field(default_factory=dict)
    road: _RoadEnds | None = None

    def path(self, i: int) -> list[int]:
        r = self.road
        if r is None or not r.better[i]:
            return self.sidings[i]
        k = int(np.flatnonzero((r.acc.pos == i) & (r.val == self.vals[i]))[0])
        t = int(r.acc.transfers[k])
        path = r.acc.labels.arcs(int(r.acc.label[k]))
        if r.reverse:
            return [t] + path + [r.road_arc]
        return [r.road_arc] + path[::-1] + [t]


class Pricer:
    """Finds, for each flow, its minimum reduced-cost chain of every kind it may use.

    Parameters
    ----------
    graph : MultimodalGraph
        The expanded network.
    problem : Problem
        Flows and policy (for ``max_access_km``).
    rules : dict
        :class:`FlowRule` by flow id.
    """

    def __init__(self, graph: MultimodalGraph, problem: Problem, rules: dict[str, FlowRule]):
        self.g = graph
        self.problem = problem
        self.rules = rules
        self.max_access_km = problem.policy.max_access_km
        self._label_cache: dict[tuple, _Access] = {}
        self._call_cache: dict[tuple, _Access] = {}
        self._sigma: dict[str, float] | None = None
        self._phase = 2
        # weight of each flow's cheapest chain of each kind at zero duals (phase 2): a lower
        # bound on its weight under any duals, since arc weights only grow as pi <= 0
        self._lb: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
        g = graph
        self.main_nodes = np.flatnonzero(np.asarray(g.node_mode[: g.n_layer]) != 0)
        self.local = np.full(g.n_nodes, -1, dtype=np.int64)
        self.local[self.main_nodes] = np.arange(len(self.main_nodes))
        # entry and exit nodes of the rail/pipeline layer
        entry_arcs = np.flatnonzero(
            ((g.kind == TRANSFER) & (g.tail_mode == 0) & (g.head_mode > 0))
            | ((g.kind == SOURCE) & (g.arc_mode > 0))
        )
        exit_arcs = np.flatnonzero(
            ((g.kind == TRANSFER) & (g.head_mode == 0) & (g.tail_mode > 0))
            | ((g.kind == SINK) & (g.arc_mode > 0))
        )
        self.entry_nodes = np.unique(g.head[entry_arcs])
        self.exit_nodes = np.unique(g.tail[exit_arcs])
        self.entry_pos = np.full(g.n_nodes, -1, dtype=np.int64)
        self.entry_pos[self.entry_nodes] = np.arange(len(self.entry_nodes))
        self.exit_pos = np.full(g.n_nodes, -1, dtype=np.int64)
        self.exit_pos[self.exit_nodes] = np.arange(len(self.exit_nodes))
        self.road_in_transfers = entry_arcs[g.kind[entry_arcs] == TRANSFER]
        self.road_out_transfers = exit_arcs[g.kind[exit_arcs] == TRANSFER]

    # ------------------------------------------------------------------ weights
    def weights(self, commodity: str, pi: np.ndarray, phase: int) -> np.ndarray:
        """Arc weights: generalised cost minus row dual (phase 2) or minus dual (phase 1)."""
        cost, _ = self.g.arc_costs(commodity)
        base = cost if phase == 2 else np.where(np.isfinite(cost), 0.0, np.inf)
        pi_ext = np.append(np.minimum(pi, 0.0), 0.0)
        return np.maximum(base - pi_ext[self.g.row], 0.0)

    def column(self, flow: Flow, arcs: list[int]) -> Column:
        """A column for ``flow`` from a source-to-sink arc list (cost with any penalty)."""
        chain, rows = self.g.chain_from_arcs(arcs, flow.commodity, max_access_km=self.max_access_km)
        cost = chain.cost_cny_per_t
        if not chain.compliant:
            cost += self.rules[flow.id].penalty_cny_per_t
        return Column(flow.id, chain, cost, rows)

    # ------------------------------------------------------------------ pricing
    def price(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        *,
        phase: int,
        flows: list[Flow] | None = None,
    ) -> list[tuple[Column, float]]:
        """Columns with negative reduced cost, with their reduced costs.

        Parameters
        ----------
        pi : ndarray
            Duals of all rows of the graph (0 for rows not in the master), ``<= 0``.
        sigma : dict
            Duals of the demand rows by flow id.
        phase : int
            1 (feasibility: column cost 0) or 2 (cost).
        """
        flows = list(self.problem.flows) if flows is None else flows
        found: list[tuple[Column, float]] = []
        pi_neg = np.minimum(pi, 0.0)
        for cand in self.candidates(pi, phase=phase, flows=flows, sigma=sigma):
            col = cand
            cost = col.cost_cny_per_t if phase == 2 else 0.0
            rc = (
                cost - sigma.get(col.flow_id, 0.0) - sum(pi_neg[r] * k for r, k in col.rows.items())
            )
            if rc < -1e-9 * max(1.0, abs(cost)):
                found.append((col, rc))
        return found

    def candidates(
        self,
        pi: np.ndarray,
        *,
        phase: int,
        flows: list[Flow],
        sigma: dict[str, float] | None = None,
    ) -> list[Column]:
        """Each flow's minimum-weight chain of every kind its rule allows.

        With ``sigma``, chains whose weight minus ``sigma_f`` is >= 0 are skipped before
        they are rebuilt: their reduced cost (weight + any penalty - sigma_f) cannot be
        negative.
        """
        self._sigma = sigma
        self._phase = phase
        zero_duals = phase == 2 and not np.any(pi < 0)
        out: list[Column] = []
        self._call_cache = {}  # labels under this call's road duals
        by_comm: dict[str, list[Flow]] = {}
        for f in flows:
            by_comm.setdefault(f.commodity, []).append(f)
        for commodity, group in by_comm.items():
            w = self.weights(commodity, pi, phase)
            gen = [f for f in group if self.rules[f.id].general and self._may_price(f, "general")]
            comp = [
                f for f in group if self.rules[f.id].compliant and self._may_price(f, "compliant")
            ]
            if gen:
                out.extend(self._general(gen, w, zero_duals))
            if comp:
                road_duals_zero = not np.any(
                    pi[self.g.row[self.g.road_edge & (self.g.row >= 0)]] < 0
                )
                out.extend(self._compliant(comp, w, commodity, phase, road_duals_zero, zero_duals))
        return out

    def _priced_out(self, flow: Flow, weight: float) -> bool:
        return self._sigma is not None and weight - self._sigma.get(flow.id, 0.0) >= 0.0

    def _may_price(self, flow: Flow, kind: str) -> bool:
        """False when no chain of ``kind`` can price out for ``flow``: its zero-dual weight
        (0 in phase 1 when it has a chain at all) already reaches ``sigma_f``."""
        if self._sigma is None:
            return True
        lb = self._lb[kind].get(flow.id)
        if lb is None:
            return True
        if self._phase == 1 and np.isfinite(lb):
            lb = 0.0
        return not self._priced_out(flow, lb)

    def _general(self, flows: list[Flow], w: np.ndarray, zero_duals: bool) -> list[Column]:
        """Shortest general chains, one Dijkstra per origin, or per destination on the
        reversed graph when the flows to price have fewer destinations (batched)."""
        g = self.g
        origins = {f.origin for f in flows}
        dests = {f.destination for f in flows}
        reverse = len(dests) < len(origins)
        mat, arc_of = g.csr(w, np.ones(len(w), dtype=bool), reverse=reverse)
        groups: dict[str, list[Flow]] = {}
        for f in flows:
            groups.setdefault(f.destination if reverse else f.origin, []).append(f)
        keys = list(groups)
        starts = np.array([g.snk(k) if reverse else g.src(k) for k in keys], dtype=np.int64)
        chunk = max(1, int(_DIJKSTRA_BYTES // (12 * max(1, g.n_nodes))))
        out = []
        for lo in range(0, len(keys), chunk):
            dist, pred = dijkstra(mat, indices=starts[lo : lo + chunk], return_predecessors=True)
            for i, key in enumerate(keys[lo : lo + chunk]):
                s = int(starts[lo + i])
                for f in groups[key]:
                    t = g.src(f.origin) if reverse else g.snk(f.destination)
                    d = float(dist[i, t])
                    if zero_duals:
                        self._lb["general"][f.id] = d
                    if not np.isfinite(d) or self._priced_out(f, d):
                        continue
                    arcs = g.path_arcs(mat, arc_of, pred[i], s, t)
                    out.append(self.column(f, arcs[::-1] if reverse else arcs))
        return out

    def _compliant(
        self,
        flows: list[Flow],
        w: np.ndarray,
        commodity: str,
        phase: int,
        cacheable: bool,
        zero_duals: bool = False,
    ) -> list[Column]:
        g = self.g
        if len(self.entry_nodes) == 0 or len(self.exit_nodes) == 0:
            if zero_duals:
                self._lb["compliant"].update((f.id, np.inf) for f in flows)
            return []
        mat, arc_of = g.csr(w, g.main_haul, local=self.local, size=len(self.main_nodes))
        ent_local = self.local[self.entry_nodes]
        dist, pred = dijkstra(mat, indices=ent_local, return_predecessors=True)
        d_sub = dist[:, self.local[self.exit_nodes]]
        by_origin: dict[str, list[Flow]] = {}
        for f in flows:
            by_origin.setdefault(f.origin, []).append(f)
        egress: dict[str, _Ends] = {}
        out = []
        for origin, group in by_origin.items():
            ev = self._ends(origin, w, commodity, phase, cacheable, reverse=False)
            # best way to reach each exit node: min over entry nodes
            if np.isfinite(ev.vals).any():
                via = ev.vals[:, None] + d_sub
                best_i = np.argmin(via, axis=0)
                to_exit = via[best_i, np.arange(via.shape[1])]
            else:
                best_i = np.zeros(d_sub.shape[1], dtype=np.int64)
                to_exit = np.full(d_sub.shape[1], np.inf)
            for f in group:
                xv = egress.get(f.destination)
                if xv is None:
                    xv = self._ends(f.destination, w, commodity, phase, cacheable, reverse=True)
                    egress[f.destination] = xv
                total = to_exit + xv.vals
                j = int(np.argmin(total))
                best = float(total[j])
                if zero_duals:
                    self._lb["compliant"][f.id] = best
                if not np.isfinite(best) or self._priced_out(f, best):
                    continue
                i = int(best_i[j])
                mid = g.path_arcs(
                    mat, arc_of, pred[i], int(ent_local[i]), int(self.local[self.exit_nodes[j]])
                )
                out.append(self.column(f, ev.path(i) + mid + xv.path(j)))
        return out

    def _ends(
        self,
        place: str,
        w: np.ndarray,
        commodity: str,
        phase: int,
        cacheable: bool,
        *,
        reverse: bool,
    ) -> _Ends:
        """Best weight (and arcs) from the origin to each entry node, or from each exit
        node to the destination, over sidings and road access/egress within the bound."""
        g = self.g
        pos = self.exit_pos if reverse else self.entry_pos
        ends = _Ends(np.full(len(self.exit_nodes if reverse else self.entry_nodes), np.inf))
        end = g.snk(place) if reverse else g.src(place)
        end_arcs = g.in_arcs if reverse else g.out_arcs
        lo, hi = end_arcs[0][end], end_arcs[0][end + 1]
        road_arc = None
        for a in end_arcs[1][lo:hi]:
            a = int(a)
            if g.arc_mode[a] == 0:
                road_arc = a
            elif np.isfinite(w[a]):  # siding lift at the place itself
                i = int(pos[g.tail[a] if reverse else g.head[a]])
                if w[a] < ends.vals[i]:
                    ends.vals[i] = w[a]
                    ends.sidings[i] = [a]
        if road_arc is None or not np.isfinite(w[road_arc]):
            return ends
        budget = self.max_access_km - float(g.km[road_arc, 0])
        if budget < -1e-9:
            return ends
        key = (place, commodity, phase, reverse)
        cache = self._label_cache if cacheable else self._call_cache
        acc = cache.get(key)
        if acc is None:
            start = int(g.tail[road_arc] if reverse else g.head[road_arc])
            acc = self._access(start, budget, w, reverse=reverse)
            cache[key] = acc
        if len(acc.transfers) == 0:
            return ends
        val = float(w[road_arc]) + acc.weight + w[acc.transfers]
        road_best = np.full(len(ends.vals), np.inf)
        np.minimum.at(road_best, acc.pos, val)
        # a siding keeps a tie (it was offered first)
        better = road_best < ends.vals
        ends.vals = np.where(better, road_best, ends.vals)
        ends.road = _RoadEnds(acc, val, road_arc, reverse, better)
        return ends

    def _access(self, start: int, budget: float, w: np.ndarray, *, reverse: bool) -> _Access:
        """Road labels from/to ``start`` and, for every transfer in or out of the
        rail/pipeline layer reachable within ``budget``, its best label."""
        g = self.g
        labels = self._bounded_road(start, budget, w, reverse=reverse)
        transfers = self.road_out_transfers if reverse else self.road_in_transfers
        pos = self.exit_pos if reverse else self.entry_pos
        tol = 1e-9 * max(1.0, self.max_access_km)
        ts, ws, labs, ps = [], [], [], []
        for t in transfers:
            t = int(t)
            if not np.isfinite(w[t]):
                continue
            road_node = int(g.head[t] if reverse else g.tail[t])
            best = labels.best(road_node, budget - float(g.km[t, 0]) + tol)
            if best is None:
                continue
            ts.append(t)
            ws.append(best[0])
            labs.append(best[1])
            ps.append(int(pos[g.tail[t] if reverse else g.head[t]]))
        return _Access(
            labels,
            np.asarray(ts, dtype=np.int64),
            np.asarray(ws, dtype=float),
            np.asarray(labs, dtype=np.int64),
            np.asarray(ps, dtype=np.int64),
        )

    def _bounded_road(self, start: int, budget: float, w: np.ndarray, *, reverse: bool) -> _Labels:
        """Pareto labels (weight, km) of road paths from ``start`` within ``budget`` km.

        Label setting in lexicographic (weight, km) order: a popped label is kept only if it
        has fewer km than every label already kept at its node, so each node keeps its
        weight/km trade-offs and the best path under any km bound is exact. In reverse mode
        paths run *to* ``start`` (arcs followed backwards).
        """
        g = self.g
        adj_ptr, adj = g.in_arcs if reverse else g.out_arcs
        road = g.road_edge
        tol = 1e-9 * max(1.0, budget)
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
                if km2 > budget + tol:
                    continue
                nxt = int(g.tail[a] if reverse else g.head[a])
                if km2 >= min_km.get(nxt, np.inf):
                    continue
                parent.append(lab)
                arc.append(int(a))
                heapq.heappush(heap, (wt + float(w[a]), km2, nxt, len(parent) - 1))
        return _Labels(at, parent, arc)
