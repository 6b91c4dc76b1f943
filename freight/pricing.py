"""Exact pricing of chains for column generation.

With duals ``pi <= 0`` on the capacity rows and ``sigma_f`` on the demand rows, the reduced
cost of a chain ``c`` of flow ``f`` is ``cost_c - sigma_f - sum_r pi_r a_rc``. Weighting
every arc by its generalised cost minus the dual of the row it uses (``>= 0``) turns the
search for the most negative reduced cost into shortest paths:

- *general* chains (any legs): one Dijkstra per (origin, commodity) on the whole expanded
  graph, from the origin's source node to every sink;
- *compliant* chains (road access <= max_access_km, rail/pipeline main haul, road egress
  <= max_access_km): the best weight from each origin to every entry node of the
  rail/pipeline layer and from every exit node to each destination (sidings, or road within
  the km bound), joined through the layer by one Dijkstra per destination (or per origin,
  whichever are fewer) from a *super node* whose arcs to the layer's exit (entry) nodes
  carry those end weights -- the min over entry and exit terminals without forming the
  entries x exits table.

The road ends of compliant chains: when no road row has a dual (always at zero duals, and
whenever roads are uncapacitated) every road arc weighs the same amount per km, so the
cheapest road path within the km bound is the shortest one; those bounded km searches
depend only on the place and are batched through scipy and kept on the graph
(:attr:`MultimodalGraph.memo`) for every later pricing, and the policy-off run. With road
duals, a bounded Pareto search over (weight, km) keeps the bound exact.

Phase 1 (feasibility) prices with the duals alone: arc weight ``-pi`` (Farkas pricing).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import multiprocessing
import os
import signal
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from freight.network_view import (
    SINK,
    SOURCE,
    TRANSFER,
    Column,
    CostClass,
    MultimodalGraph,
    commodity_of,
)
from freight.problem import Flow, Problem

_DIJKSTRA_BYTES = 2e8  # memory for one batch of distance + predecessor rows

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowRule:
    """Which chains a flow may use: ``general`` (any), ``compliant`` (priced separately);
    non-compliant chains pay ``penalty_cny_per_t`` (soft rule)."""

    general: bool
    compliant: bool
    penalty_cny_per_t: float = 0.0


@dataclass
class Candidate:
    """A flow's minimum-weight chain of one kind under the pricing duals, built on demand:
    ``weight`` (arc weights summed: cost minus row duals, no penalty) is known from the
    shortest-path search alone; :meth:`build` rebuilds the arcs into a :class:`Column`."""

    flow: Flow
    kind: str  # "general" | "compliant"
    weight: float
    make: Callable[[], Column]
    _column: Column | None = None

    def build(self) -> Column:
        if self._column is None:
            self._column = self.make()
        return self._column


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
class _KmTree:
    """Shortest road km from (or, ``reverse``, to) one road node within a bound: the nodes
    reached and each one's predecessor towards the start (-1 at the start), enough to
    rebuild a path. Labels are node ids."""

    nodes: np.ndarray  # sorted
    pred: np.ndarray
    mat: sp.csr_matrix  # the road km matrix searched (reversed when ``reverse``)
    arc_of: np.ndarray

    def arcs(self, node: int) -> list[int]:
        """Arcs between ``node`` and the start, listed from ``node`` (as :meth:`_Labels.arcs`)."""
        out: list[int] = []
        while True:
            p = int(self.pred[int(np.searchsorted(self.nodes, node))])
            if p < 0:
                return out
            lo, hi = self.mat.indptr[p], self.mat.indptr[p + 1]
            out.append(int(self.arc_of[lo + self.mat.indices[lo:hi].tolist().index(node)]))
            node = p


@dataclass
class _TerminalTrees:
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
class _TreeRoads:
    """The road legs between one place's road node and the terminals' road nodes, out of
    :class:`_TerminalTrees`; ``arcs(tree)`` lists a leg as :class:`_KmTree` does."""

    trees: _TerminalTrees
    node: int  # the place's road node (global)
    reverse: bool  # egress (terminal -> place) rather than access
    memo: dict[int, np.ndarray] = field(default_factory=dict)  # by tree: fixed

    def arcs(self, k: int) -> list[int]:
        hit = self.memo.get(k)
        if hit is None:
            hit = self.memo[k] = np.asarray(self._arcs(k), dtype=np.int64)
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
        # place -> terminal, listed from the terminal back (as _KmTree.arcs)
        out = MultimodalGraph.arcs_between(t.mat, t.arc_of, np.array(nodes))
        return [int(a) for a in out[::-1]]


@dataclass
class _Reach:
    """A place's bounded road search, with the transfers it reaches within the bound."""

    tree: _KmTree
    transfers: np.ndarray  # arc ids of transfers in (out of) the rail/pipeline layer
    road_km: np.ndarray  # road km between the place's road node and the transfer's


@dataclass
class _Access:
    """Per place: transfers reachable by road within the bound, with their best label."""

    labels: _Labels | _KmTree | _TreeRoads
    transfers: np.ndarray  # arc ids
    weight: np.ndarray  # road weight of the best label
    label: np.ndarray  # label id
    pos: np.ndarray  # index of the transfer's layer node among entry (exit) nodes


@dataclass
class _KmAccess(_Access):
    """An :class:`_Access` whose ``weight`` is road km (the same for every commodity,
    phase and round), kept per place, with the plan that takes the minimum per entry (exit)
    node: ``order`` sorts the transfers by ``pos``, ``starts`` opens each run of one
    ``pos`` in that order, ``upos`` is that ``pos``."""

    order: np.ndarray
    starts: np.ndarray
    upos: np.ndarray

    @staticmethod
    def plan(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(pos, kind="stable")
        sp = pos[order]
        starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]]) if len(sp) else sp
        return order, starts, sp[starts]


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


@dataclass
class _EndsTable:
    """:class:`_Ends` of many places at once: ``vals[index[place]]`` is the place's row
    (best weight to each entry node, or from each exit node); ``path(row, i)`` rebuilds
    the arcs of that best way."""

    index: dict[str, int]
    vals: np.ndarray  # (places, entry or exit nodes)
    path: Callable[[int, int], list[int]]


@dataclass
class _EndsPlan:
    """What :meth:`Pricer._ends_table` needs of the graph's places, their road ends
    searched by km (no road duals): fixed for every commodity, phase and round.

    Sidings (``sid_*``, flat, in each place's arc order) and road transfers: ``dense`` when
    every place reaches the same transfers (road ends of any length): one row of ``km`` per
    place, its columns the transfers ``rt_t`` sorted by node, ``starts`` opening each
    node's run and ``ukey`` that node; else flat ragged arrays ``rt_*`` with the plan that
    takes the minimum per (place, node) key ``ukey`` (``order``, ``starts``)."""

    index: dict[str, int]
    road_arc: np.ndarray  # per place, -1 when it has no road end (or none within the bound)
    sid_row: np.ndarray
    sid_pos: np.ndarray
    sid_arc: np.ndarray
    accs: list[_KmAccess | None]
    dense: bool
    km: np.ndarray  # dense: (places, transfers); else flat road km per (place, transfer)
    rt_row: np.ndarray
    rt_t: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    ukey: np.ndarray


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
        self._call_cache: dict[tuple, _Access] = {}
        self._sigma: dict[str, float] | None = None
        self._phase = 2
        # weight of each flow's cheapest chain of each kind at zero duals (phase 2): a lower
        # bound on its weight under any duals, since arc weights only grow as pi <= 0
        self._lb: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
        self.low: dict[str, float] = {}  # set by price()
        self.skipped = 0  # set by price()
        self._worker: _Worker | None = None  # see start_worker()
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
    def weights(self, commodity: CostClass, pi: np.ndarray, phase: int) -> np.ndarray:
        """Arc weights: generalised cost minus row dual (phase 2) or minus dual (phase 1)."""
        cost, _ = self.g.arc_costs(commodity)
        base = cost if phase == 2 else np.where(np.isfinite(cost), 0.0, np.inf)
        pi_ext = np.append(np.minimum(pi, 0.0), 0.0)
        return np.maximum(base - pi_ext[self.g.row], 0.0)

    def column(
        self, flow: Flow, arcs: list[int] | np.ndarray, *, penalty: bool = True
    ) -> Column:
        """A column for ``flow`` from a source-to-sink arc list (cost with any penalty of
        the flow's rule; without it when ``penalty`` is False)."""
        chain, rows = self.g.chain_from_arcs(
            arcs, self.g.cost_class(flow), max_access_km=self.max_access_km
        )
        cost = chain.cost_cny_per_t
        rule = self.rules.get(flow.id)
        if penalty and rule is not None and not chain.compliant:
            cost += rule.penalty_cny_per_t
        return Column(flow.id, chain, cost, rows)

    def ruled(self, column: Column) -> Column:
        """``column`` (built without penalty) costed under its flow's rule."""
        rule = self.rules[column.flow_id]
        if column.chain.compliant or rule.penalty_cny_per_t == 0.0:
            return column
        cost = column.chain.cost_cny_per_t + rule.penalty_cny_per_t
        return Column(column.flow_id, column.chain, cost, column.rows)

    def cheapest(self, flows: Sequence[Flow]) -> dict[str, dict[str, Column]]:
        """Each flow's cheapest chain of each kind (``"general"``, ``"compliant"``) at zero
        duals, i.e. capacities ignored, whatever its rule; costs without penalty.

        A kind is missing when the flow has no such chain. Memoised on the graph (by flows
        and ``max_access_km``): the rule's checks, the rule's run and the policy-off run
        all start from these. Also sets the lower bounds that let pricing skip a flow.
        """
        key = ("cheapest", tuple(flows), self.max_access_km)
        hit = self.g.memo.get(key)
        if hit is None:
            saved, self._sigma, self._phase = self._sigma, None, 2
            saved_lb = self._lb
            zero = np.zeros(len(self.g.rows))
            self._call_cache = {}
            by_comm: dict[CostClass, list[Flow]] = {}
            for f in flows:
                by_comm.setdefault(self.g.cost_class(f), []).append(f)
            cols: dict[str, dict[str, Column]] = {f.id: {} for f in flows}
            lb: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
            for commodity, group in by_comm.items():
                w = self.weights(commodity, zero, 2)
                self._lb = lb
                for cand in self._general(group, w, True, penalty=False):
                    cols[cand.flow.id]["general"] = cand.build()
                for cand in self._compliant(group, w, commodity, 2, True, True, penalty=False):
                    cols[cand.flow.id]["compliant"] = cand.build()
            self._sigma, self._lb = saved, saved_lb
            hit = (cols, lb)
            self.g.memo[key] = hit
        cols, lb = hit
        for kind in ("general", "compliant"):
            self._lb[kind].update(lb[kind])
        return cols

    # ------------------------------------------------------------------ pricing
    def price(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        *,
        phase: int,
        flows: list[Flow] | None = None,
        limit: int | None = None,
        skip: set[tuple] | frozenset[tuple] = frozenset(),
        skip_log: Sequence[tuple[bool, tuple]] | None = None,
        fast: bool = False,
    ) -> list[tuple[Column, float]]:
        """Each flow's most negative reduced-cost column, with its reduced cost.

        Parameters
        ----------
        pi : ndarray
            Duals of all rows of the graph (0 for rows not in the master), ``<= 0``.
        sigma : dict
            Duals of the demand rows by flow id.
        phase : int
            1 (feasibility: column cost 0) or 2 (cost).
        limit : int, optional
            Stop once this many flows have a column, taking flows by their lower bound
            (chain weight minus ``sigma_f``, any penalty left out), most negative first.
        skip : set
            Column signatures to pass over (those already in the master): a flow whose
            best chains are all there offers its next one, or nothing.
        skip_log : sequence, optional
            The changes that made ``skip``, in order: ``(True, signature)`` added,
            ``(False, signature)`` removed (:attr:`Master.seen_log`), growing from call to
            call. A pricing worker then keeps its copy of ``skip`` from the new entries
            alone instead of receiving its flows' part of ``skip`` at every call.
        fast : bool
            Partial pricing of general chains (see :meth:`candidates`): may miss a chain
            that prices out, so only an exact pricing that finds nothing ends the search.

        Only the chains taken are rebuilt from their arcs (:class:`Candidate`). Sets
        :attr:`low`: by flow, a lower bound on its most negative reduced cost over all
        chains (0 when none can be negative), exact for the flows whose chains were
        built; and :attr:`skipped`: flows whose best column was passed over.
        """
        flows = list(self.problem.flows) if flows is None else flows
        worker = self._worker
        if worker is not None and phase == 2 and np.any(pi < 0):
            try:
                return worker.price(self, pi, sigma, flows, limit, skip, skip_log, fast)
            except (EOFError, OSError) as exc:  # the worker is gone: price here
                _log.warning("pricing worker lost (%s); pricing in one process", exc)
                self.stop_worker()
        by_flow, lows = self._gather(pi, sigma, phase, flows, fast)
        found, low, self.skipped = self._build(
            by_flow, sorted(by_flow, key=lows.__getitem__), pi, sigma, phase, limit, skip
        )
        self.low = {fid: min(0.0, v) for fid, v in lows.items()} | low
        return found

    def _gather(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        phase: int,
        flows: list[Flow],
        fast: bool,
    ) -> tuple[dict[str, list[Candidate]], dict[str, float]]:
        """The flows' candidates (not built yet), and each flow's lower bound on its
        reduced cost (its lightest candidate's weight less ``sigma_f``)."""
        by_flow: dict[str, list[Candidate]] = {}
        cands = self.candidates(pi, phase=phase, flows=flows, sigma=sigma, lazy=True, fast=fast)
        for cand in cands:
            by_flow.setdefault(cand.flow.id, []).append(cand)
        lows = {
            fid: min(c.weight for c in cs) - sigma.get(fid, 0.0) for fid, cs in by_flow.items()
        }
        return by_flow, lows

    @staticmethod
    def _build(
        by_flow: dict[str, list[Candidate]],
        order: list[str],
        pi: np.ndarray,
        sigma: dict[str, float],
        phase: int,
        limit: int | None,
        skip: set[tuple] | frozenset[tuple],
    ) -> tuple[list[tuple[Column, float]], dict[str, float], int]:
        """Build the flows' candidates in ``order`` until ``limit`` flows have a column
        that prices out and is not in ``skip``: those columns with their reduced costs,
        each built flow's bound on its reduced cost, and the flows passed over by ``skip``."""
        pi_neg = np.minimum(pi, 0.0)
        found: list[tuple[Column, float]] = []
        low: dict[str, float] = {}
        skipped = 0
        for fid in order:
            if limit is not None and len(found) >= limit:
                break
            s = sigma.get(fid, 0.0)
            best: tuple[Column, float] | None = None
            bound = np.inf  # min over its chains: reduced cost if built, else weight - s
            for cand in sorted(by_flow[fid], key=lambda c: c.weight):
                if best is not None and cand.weight - s >= best[1]:
                    bound = min(bound, cand.weight - s)
                    continue  # no penalty makes it cheaper than the one in hand
                col = cand.build()
                cost = col.cost_cny_per_t if phase == 2 else 0.0
                rc = cost - s - sum(pi_neg[r] * k for r, k in col.rows.items())
                bound = min(bound, rc)
                if rc >= -1e-9 * max(1.0, abs(cost)):
                    continue
                if col.signature in skip:
                    skipped += 1
                    continue
                if best is None or rc < best[1]:
                    best = (col, rc)
            low[fid] = min(0.0, bound)
            if best is not None:
                found.append(best)
        return found, low, skipped

    # ------------------------------------------------------------------ a second process
    def start_worker(self) -> bool:
        """Price about half of the flows, by commodity, in a forked process from now on
        (:class:`_Worker`): phase 2 with capacity duals only. False (and nothing started)
        where a fork is not available or the commodities cannot be split."""
        if self._worker is not None:
            return True
        counts: dict[str, int] = {}
        for f in self.problem.flows:
            counts[f.commodity] = counts.get(f.commodity, 0) + 1
        if len(counts) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return False
        here = 0
        there: list[str] = []
        for c in sorted(counts, key=lambda c: (-counts[c], c)):  # largest first, lighter side
            if here <= sum(counts[t] for t in there):
                here += counts[c]
            else:
                there.append(c)
        try:
            self._worker = _Worker(self, frozenset(there))
        except (OSError, AssertionError) as exc:  # e.g. a daemonic process has no children
            _log.warning("no pricing worker (%s); pricing in one process", exc)
            return False
        return True

    def stop_worker(self) -> None:
        """End the pricing process, if any (pricing goes on in this one)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def capacity_free(self, flows: Sequence[Flow]) -> dict[str, Column]:
        """Each flow's cheapest chain using no finite capacity (penalty-free cost), for
        the flows that have one; memoised on the graph by flow."""
        memo = self.g.memo.setdefault(("free", self.max_access_km), {})
        todo = [f for f in flows if f not in memo]
        by_comm: dict[CostClass, list[Flow]] = {}
        for f in todo:
            by_comm.setdefault(self.g.cost_class(f), []).append(f)
            memo[f] = None
        saved, self._sigma = self._sigma, None
        for commodity, group in by_comm.items():
            cost, _ = self.g.arc_costs(commodity)
            w = np.where(self.g.row >= 0, np.inf, cost)
            by_id = {f.id: f for f in group}
            for cand in self._general(group, w, False, penalty=False):
                memo[by_id[cand.flow.id]] = cand.build()
        self._sigma = saved
        return {f.id: memo[f] for f in flows if memo[f] is not None}

    def free_start(self, flows: Sequence[Flow]) -> dict[str, Column]:
        """A chain using no finite capacity for each flow that has one: the shortest
        road-only chain when no road arc has a capacity (:meth:`_road_only`), else
        :meth:`capacity_free`. Costs without penalty."""
        g = self.g
        if np.any(g.row[g.road_edge] >= 0):
            return self.capacity_free(flows)
        self._collect_prefetch()
        memo = g.memo.setdefault(("road_only",), {})
        if any(f not in memo for f in flows):
            self._keep_starts(self._road_only([*self.problem.flows, *flows]))
        return {f.id: memo[f] for f in flows if memo[f] is not None}

    def _keep_starts(self, found: dict[Flow, Column | None]) -> None:
        """Road-only starts into the graph's memo; a flow's first one stays."""
        memo = self.g.memo.setdefault(("road_only",), {})
        memo.update((f, c) for f, c in found.items() if f not in memo)

    def _road_only(self, flows: Sequence[Flow]) -> dict[Flow, Column | None]:
        """The shortest road-only chain of each flow (None: none), by one km search per
        destination or origin for every commodity. Called with the problem's flows
        first, so the search's direction, and so the chain among equally short ones, does
        not depend on which flows ask."""
        from freight.explain import road_mask

        g = self.g
        todo = list(dict.fromkeys(flows))
        out: dict[Flow, Column | None] = dict.fromkeys(todo)
        w = np.where(road_mask(g), g.km.sum(axis=1), np.inf)  # km: any commodity
        saved, self._sigma = self._sigma, None
        for cand in self._general(todo, w, False, penalty=False):
            out[cand.flow] = cand.build()
        self._sigma = saved
        return out

    def candidates(
        self,
        pi: np.ndarray,
        *,
        phase: int,
        flows: list[Flow],
        sigma: dict[str, float] | None = None,
        lazy: bool = False,
        fast: bool = False,
    ) -> list[Any]:
        """Each flow's minimum-weight chain of every kind its rule allows: columns, or
        with ``lazy`` :class:`Candidate` objects that build them on demand.

        ``fast`` (phase 2, no road duals, two-way roads): general chains are searched
        only among road-main-road ones (road ends of any length, joined through the
        rail/pipeline layer as compliant ones are, :meth:`_far_ends`) and the flow's
        capacity-free start (:meth:`free_start`) -- a few small searches per destination instead of
        one over the whole graph. It misses a chain with a road leg between two main
        legs, which an exact pricing (``fast`` False) finds.

        With ``sigma``, chains whose weight minus ``sigma_f`` is >= 0 are skipped before
        they are rebuilt: their reduced cost (weight + any penalty - sigma_f) cannot be
        negative.
        """
        self._sigma = sigma
        self._phase = phase
        zero_duals = phase == 2 and not np.any(pi < 0)
        out: list[Candidate] = []
        self._call_cache = {}  # labels under this call's road duals
        by_comm: dict[CostClass, list[Flow]] = {}
        for f in flows:
            by_comm.setdefault(self.g.cost_class(f), []).append(f)
        for commodity, group in by_comm.items():
            w = self.weights(commodity, pi, phase)
            gen = [f for f in group if self.rules[f.id].general and self._may_price(f, "general")]
            comp = [
                f for f in group if self.rules[f.id].compliant and self._may_price(f, "compliant")
            ]
            if gen and fast and phase == 2 and self._roads_by_km(pi):
                out.extend(
                    self._compliant(gen, w, commodity, phase, True, False, kind="general")
                )
                free = self.free_start(gen)
                out.extend(
                    Candidate(
                        f,
                        "general",
                        free[f.id].cost_cny_per_t,
                        functools.partial(self.ruled, free[f.id]),
                    )
                    for f in gen
                    if f.id in free
                    and not self._priced_out(f, free[f.id].cost_cny_per_t, "general")
                )
            elif gen:
                out.extend(self._general(gen, w, zero_duals))
            if comp:
                road_duals_zero = self._roads_by_km(pi)
                out.extend(self._compliant(comp, w, commodity, phase, road_duals_zero, zero_duals))
        return out if lazy else [c.build() for c in out]

    def _roads_by_km(self, pi: np.ndarray) -> bool:
        """No road row has a dual: every road arc weighs its commodity's rate per km."""
        return not np.any(pi[self.g.row[self.g.road_edge & (self.g.row >= 0)]] < 0)

    def fast_possible(self) -> bool:
        """Whether ``fast`` pricing can apply (two-way roads, a rail/pipeline layer)."""
        return (
            len(self.entry_nodes) > 0
            and len(self.exit_nodes) > 0
            and self._terminal_trees() is not None
        )

    def _priced_out(self, flow: Flow, weight: float, kind: str = "compliant") -> bool:
        """No chain of this weight can price out for ``flow``: its reduced cost is at least
        ``weight - below`` (:meth:`_below`), which is no lower than ``-1e-9 max(1, |below|)``
        -- the pricing tolerance (a column in the master's basis has reduced cost 0, its
        weight equal to ``below`` up to rounding: without the tolerance it would be rebuilt
        every round, only to be found not negative)."""
        below = self._below(flow, kind)
        return bool(weight >= below - 1e-9 * max(1.0, abs(below))) if below < np.inf else False

    def _below(self, flow: Flow, kind: str) -> float:
        """Chains of ``kind`` can price out for ``flow`` only when lighter than this.

        A compliant chain: ``sigma_f``. A general one: ``sigma_f`` less the soft rule's
        penalty (phase 2) when the flow may also take compliant chains -- a non-compliant
        chain pays it, and a compliant chain that prices out is found by the compliant
        search anyway. Without duals (``sigma`` unset): no bound.
        """
        if self._sigma is None:
            return np.inf
        below = self._sigma.get(flow.id, 0.0)
        rule = self.rules.get(flow.id)
        if kind == "general" and self._phase == 2 and rule is not None and rule.compliant:
            below -= rule.penalty_cny_per_t
        return below

    def _may_price(self, flow: Flow, kind: str) -> bool:
        """False when no chain of ``kind`` can price out for ``flow``: its zero-dual weight
        (0 in phase 1 when it has a chain at all) already reaches :meth:`_below`."""
        if self._sigma is None:
            return True
        lb = self._lb[kind].get(flow.id)
        if lb is None:
            return True
        if self._phase == 1 and np.isfinite(lb):
            lb = 0.0
        return not self._priced_out(flow, lb, kind)

    def _general(
        self, flows: list[Flow], w: np.ndarray, zero_duals: bool, *, penalty: bool = True
    ) -> list[Candidate]:
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
        # stop each search where no flow of its group can price out any more
        limit = {k: max(self._below(f, "general") for f in fs) for k, fs in groups.items()}
        keys = sorted(groups, key=limit.__getitem__)
        starts = np.array([g.snk(k) if reverse else g.src(k) for k in keys], dtype=np.int64)
        chunk = max(1, int(_DIJKSTRA_BYTES // (12 * max(1, g.n_nodes))))
        out = []
        for lo in range(0, len(keys), chunk):
            dist, pred = dijkstra(
                mat,
                indices=starts[lo : lo + chunk],
                return_predecessors=True,
                limit=max(limit[k] for k in keys[lo : lo + chunk]),
            )
            for i, key in enumerate(keys[lo : lo + chunk]):
                s = int(starts[lo + i])
                for f in groups[key]:
                    t = g.src(f.origin) if reverse else g.snk(f.destination)
                    d = float(dist[i, t])
                    if zero_duals and (np.isfinite(d) or self._sigma is None):
                        self._lb["general"][f.id] = d  # (not beyond a limit: unknown)
                    if not np.isfinite(d) or self._priced_out(f, d, "general"):
                        continue

                    def make(
                        f: Flow = f, row: np.ndarray = pred[i], s: int = s, t: int = t
                    ) -> Column:
                        arcs = g.arcs_between(mat, arc_of, g.path_nodes(row, s, t))
                        return self.column(f, arcs[::-1] if reverse else arcs, penalty=penalty)

                    out.append(Candidate(f, "general", d, make))
        return out

    def _compliant(
        self,
        flows: list[Flow],
        w: np.ndarray,
        commodity: CostClass,
        phase: int,
        cacheable: bool,
        zero_duals: bool = False,
        *,
        penalty: bool = True,
        kind: str = "compliant",
    ) -> list[Candidate]:
        """Cheapest compliant chains: end weights at the entry (exit) nodes of every origin
        (destination), joined through the rail/pipeline layer by one super-node Dijkstra
        per destination -- or per origin, when the flows have fewer origins.

        ``kind="general"``: the same search with road ends of any length (:meth:`_far_ends`;
        needs ``cacheable``), i.e. the cheapest chain of road, then rail/pipeline, then
        road -- every general chain but those with a road leg between two main legs."""
        g = self.g
        bounded = kind == "compliant"
        zero_duals = zero_duals and bounded
        if len(self.entry_nodes) == 0 or len(self.exit_nodes) == 0:
            if zero_duals:
                self._lb["compliant"].update((f.id, np.inf) for f in flows)
            return []
        origins = sorted({f.origin for f in flows})
        dests = sorted({f.destination for f in flows})
        if cacheable and bounded:
            self._prefetch(origins, reverse=False)
            self._prefetch(dests, reverse=True)
        acc = self._ends_table(origins, w, commodity, phase, cacheable, False, bounded)
        egr = self._ends_table(dests, w, commodity, phase, cacheable, True, bounded)
        reverse = len(dests) < len(origins)
        near, far = (acc, egr) if reverse else (egr, acc)  # far: the super nodes' side
        near_nodes = self.local[self.entry_nodes if reverse else self.exit_nodes]
        far_nodes = self.local[self.exit_nodes if reverse else self.entry_nodes]
        far_pos = self.exit_pos if reverse else self.entry_pos
        n_main = len(self.main_nodes)
        mat, arc_of = g.csr(w, g.main_haul, local=self.local, size=n_main, reverse=reverse)
        groups: dict[str, list[Flow]] = {}
        for f in flows:
            groups.setdefault(f.destination if reverse else f.origin, []).append(f)
        far_any = np.isfinite(far.vals).any(axis=1)
        keys = [k for k in groups if far_any[far.index[k]]]
        if zero_duals:
            for k in groups.keys() - set(keys):
                self._lb["compliant"].update((f.id, np.inf) for f in groups[k])
        chunk = max(1, int(_DIJKSTRA_BYTES // (12 * (n_main + 1))))
        out = []
        for lo in range(0, len(keys), chunk):
            batch = keys[lo : lo + chunk]
            aug, aug_arc = _with_supers(
                mat, arc_of, [far.vals[far.index[k]] for k in batch], far_nodes
            )
            supers = n_main + np.arange(len(batch))
            dist, pred = dijkstra(aug, indices=supers, return_predecessors=True)
            for b, key in enumerate(batch):
                through = dist[b, near_nodes]  # layer weight from the near nodes to the key
                group = groups[key]
                rows = np.array(
                    [near.index[f.origin if reverse else f.destination] for f in group]
                )
                total = near.vals[rows] + through
                best_i = np.argmin(total, axis=1)
                bests = total[np.arange(len(group)), best_i]
                k_row = far.index[key]
                for f, i, best, n_row in zip(
                    group, best_i.tolist(), bests.tolist(), rows.tolist(), strict=True
                ):
                    if zero_duals:
                        self._lb["compliant"][f.id] = best
                    if not np.isfinite(best) or self._priced_out(f, best, kind):
                        continue

                    def make(
                        f: Flow = f,
                        row: np.ndarray = pred[b],
                        sup: int = int(supers[b]),
                        i: int = i,
                        n_row: int = n_row,
                        k_row: int = k_row,
                        aug: sp.csr_matrix = aug,
                        aug_arc: np.ndarray = aug_arc,
                    ) -> Column:
                        nodes = g.path_nodes(row, sup, int(near_nodes[i]))
                        first = int(nodes[1])  # the far node the super node's arc leads to
                        j = int(far_pos[self.main_nodes[first]])
                        mid = g.arcs_between(aug, aug_arc, nodes[1:]).tolist()
                        if reverse:
                            chain = near.path(n_row, i) + mid[::-1] + far.path(k_row, j)
                        else:
                            chain = far.path(k_row, j) + mid + near.path(n_row, i)
                        return self.column(f, chain, penalty=penalty)

                    out.append(Candidate(f, kind, best, make))
        return out

    def _ends_table(
        self,
        places: list[str],
        w: np.ndarray,
        commodity: CostClass,
        phase: int,
        cacheable: bool,
        reverse: bool,
        bounded: bool,
    ) -> _EndsTable:
        """:meth:`_ends` of every place in one table. With road weights by km (``cacheable``
        or not ``bounded``) the rows are computed together from the graph's
        :class:`_EndsPlan`: the same values, and ties broken the same way (a siding, the
        first in arc order, before a road end; the first transfer in order among equal
        road ends)."""
        if bounded and not cacheable:
            ends = [
                self._ends(p, w, commodity, phase, cacheable, reverse=reverse, bounded=bounded)
                for p in places
            ]
            vals = np.vstack([e.vals for e in ends])
            return _EndsTable(
                {p: k for k, p in enumerate(places)}, vals, lambda r, i: ends[r].path(i)
            )
        plan = self._ends_plan(reverse, bounded)
        n_pos = len(self.exit_nodes if reverse else self.entry_nodes)
        g = self.g
        rows = np.array([plan.index[p] for p in places], dtype=np.int64)
        at = np.full(len(plan.index), -1, dtype=np.int64)  # plan row -> row of the table
        at[rows] = np.arange(len(rows))
        # only the rows asked for (a table of every place is 2,939 x 1,345 at province)
        ws = w[plan.sid_arc]
        mine = at[plan.sid_row] >= 0
        vals = np.full((len(rows), n_pos), np.inf)
        np.minimum.at(vals, (at[plan.sid_row[mine]], plan.sid_pos[mine]), ws[mine])
        w_road = np.where(plan.road_arc >= 0, w[plan.road_arc], np.inf)
        road_rate = g.costs.generalised_cny_per_tkm("road", commodity_of(commodity))
        rate = road_rate if phase == 2 else 0.0
        road_best = np.full(vals.shape, np.inf)
        if plan.dense:  # ``km``'s columns sorted by node
            val = w_road[rows, None] + rate * plan.km[rows] + w[plan.rt_t][None, :]
            road_best[:, plan.ukey] = np.minimum.reduceat(val, plan.starts, axis=1)
        elif len(plan.rt_row):
            val = w_road[plan.rt_row] + rate * plan.km + w[plan.rt_t]
            best = np.minimum.reduceat(val[plan.order], plan.starts)
            key_row = at[plan.ukey // n_pos]
            keep = key_row >= 0
            road_best[key_row[keep], plan.ukey[keep] % n_pos] = best[keep]
        better = road_best < vals  # a siding keeps a tie (it was offered first)
        vals = np.where(better, road_best, vals)

        def path(r: int, i: int) -> list[int]:
            pr = int(rows[r])
            if not better[r, i]:
                sel = (plan.sid_row == pr) & (plan.sid_pos == i) & (ws == vals[r, i])
                return [int(plan.sid_arc[np.flatnonzero(sel)[0]])]
            acc = plan.accs[pr]
            assert acc is not None
            road_arc = int(plan.road_arc[pr])
            val = float(w[road_arc]) + rate * acc.weight + w[acc.transfers]
            k = int(np.flatnonzero((acc.pos == i) & (val == vals[r, i]))[0])
            t = int(acc.transfers[k])
            legs = acc.labels.arcs(int(acc.label[k]))
            if reverse:
                return [t] + legs + [road_arc]
            return [road_arc] + legs[::-1] + [t]

        return _EndsTable({p: k for k, p in enumerate(places)}, vals, path)

    def _ends_plan(self, reverse: bool, bounded: bool) -> _EndsPlan:
        """The :class:`_EndsPlan` of every place of the graph (kept on the graph)."""
        key = ("ends_plan", reverse, bounded, self.max_access_km)
        hit = self.g.memo.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        g = self.g
        places = g.place_ids
        pos_of = self.exit_pos if reverse else self.entry_pos
        if bounded:
            self._prefetch(places, reverse=reverse)
        road_arc = np.full(len(places), -1, dtype=np.int64)
        sid_row: list[int] = []
        sid_pos: list[int] = []
        sid_arc: list[int] = []
        accs: list[_KmAccess | None] = []
        for r, p in enumerate(places):
            acc = None
            for a in self._end_arcs(p, reverse):
                if g.arc_mode[a] == 0:
                    road_arc[r] = a
                else:
                    sid_row.append(r)
                    sid_pos.append(int(pos_of[g.tail[a] if reverse else g.head[a]]))
                    sid_arc.append(a)
            if road_arc[r] >= 0:
                a = int(road_arc[r])
                if not bounded:
                    acc = self._far_ends(p, a, reverse=reverse)
                elif self.max_access_km - float(g.km[a, 0]) >= -1e-9:
                    acc = self._access_by_km(p, reverse=reverse)
                if acc is None or len(acc.transfers) == 0:
                    road_arc[r], acc = -1, None
            accs.append(acc)
        n_pos = len(self.exit_nodes if reverse else self.entry_nodes)
        live = [r for r, a in enumerate(accs) if a is not None]
        empty = np.zeros(0, dtype=np.int64)
        if not bounded:  # every place reaches the same transfers, by km (inf: not at all)
            n_t = len(self.road_out_transfers if reverse else self.road_in_transfers)
            km = np.full((len(places), n_t), np.inf)
            for r in live:
                km[r] = accs[r].weight  # type: ignore[union-attr]
            shared = accs[live[0]] if live else None
            rt_row = order = empty
            if shared is not None:  # sorted by node once: each round reduces in place
                km = km[:, shared.order]
                rt_t, starts, ukey = shared.transfers[shared.order], shared.starts, shared.upos
            else:
                rt_t = starts = ukey = empty
        else:
            parts = [(r, a) for r, a in enumerate(accs) if a is not None]
            rt_row = np.concatenate(
                [np.full(len(a.transfers), r, dtype=np.int64) for r, a in parts] or [empty]
            )
            rt_t = np.concatenate([a.transfers for _, a in parts] or [empty])
            km = np.concatenate([a.weight for _, a in parts] or [np.zeros(0)])
            rt_pos = np.concatenate([a.pos for _, a in parts] or [empty])
            flat_key = rt_row * n_pos + rt_pos
            order = np.argsort(flat_key, kind="stable")
            sk = flat_key[order]
            starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]]) if len(sk) else empty
            ukey = sk[starts] if len(sk) else empty
        plan = _EndsPlan(
            {p: k for k, p in enumerate(places)},
            road_arc,
            np.asarray(sid_row, dtype=np.int64),
            np.asarray(sid_pos, dtype=np.int64),
            np.asarray(sid_arc, dtype=np.int64),
            accs,
            not bounded,
            km,
            rt_row,
            rt_t,
            order,
            starts,
            ukey,
        )
        self.g.memo[key] = plan
        return plan

    def _ends(
        self,
        place: str,
        w: np.ndarray,
        commodity: CostClass,
        phase: int,
        cacheable: bool,
        *,
        reverse: bool,
        bounded: bool = True,
    ) -> _Ends:
        """Best weight (and arcs) from the origin to each entry node, or from each exit
        node to the destination, over sidings and road access/egress within the bound
        (of any length when not ``bounded``: :meth:`_far_ends`, road weights by km).

        Pricing calls it for road ends under road duals only; with road weights by km
        :meth:`_ends_table` computes all places at once, and this one-place search is
        what the tests hold that table to."""
        g = self.g
        pos = self.exit_pos if reverse else self.entry_pos
        ends = _Ends(np.full(len(self.exit_nodes if reverse else self.entry_nodes), np.inf))
        road_arc = None
        for a in self._end_arcs(place, reverse):
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
        acc: _Access
        if not bounded:
            acc = self._far_ends(place, road_arc, reverse=reverse)
        elif budget < -1e-9:
            return ends
        elif cacheable:  # road weights proportional to km: the km search is the answer
            acc = self._access_by_km(place, reverse=reverse)
        else:
            key = (place, commodity, phase, reverse)
            found = self._call_cache.get(key)
            if found is None:
                start = int(g.tail[road_arc] if reverse else g.head[road_arc])
                found = self._access(start, budget, w, reverse=reverse)
                self._call_cache[key] = found
            acc = found
        if len(acc.transfers) == 0:
            return ends
        road_best = np.full(len(ends.vals), np.inf)
        if isinstance(acc, _KmAccess):
            road_rate = g.costs.generalised_cny_per_tkm("road", commodity_of(commodity))
            rate = road_rate if phase == 2 else 0.0
            val = float(w[road_arc]) + rate * acc.weight + w[acc.transfers]
            road_best[acc.upos] = np.minimum.reduceat(val[acc.order], acc.starts)
        else:
            val = float(w[road_arc]) + acc.weight + w[acc.transfers]
            np.minimum.at(road_best, acc.pos, val)
        # a siding keeps a tie (it was offered first)
        better = road_best < ends.vals
        ends.vals = np.where(better, road_best, ends.vals)
        ends.road = _RoadEnds(acc, val, road_arc, reverse, better)
        return ends

    def _end_arcs(self, place: str, reverse: bool) -> list[int]:
        g = self.g
        end = g.snk(place) if reverse else g.src(place)
        ptr, arcs = g.in_arcs if reverse else g.out_arcs
        return [int(a) for a in arcs[ptr[end] : ptr[end + 1]]]

    # ------------------------------------------------------------------ road ends by km
    def _road_km(self, reverse: bool) -> tuple[sp.csr_matrix, np.ndarray]:
        key = ("road_km", reverse)
        if key not in self.g.memo:
            g = self.g
            self.g.memo[key] = g.csr(g.km[:, 0], g.road_edge, reverse=reverse)
        return self.g.memo[key]  # type: ignore[no-any-return]

    def _reaches(self, reverse: bool) -> dict[str, _Reach]:
        return self.g.memo.setdefault(("reach", reverse, self.max_access_km), {})  # type: ignore[no-any-return]

    def _prefetch(self, places: Sequence[str], *, reverse: bool) -> None:
        """Bounded road km searches of the places not searched yet, batched through scipy
        (one Dijkstra per place, stopped at the km bound)."""
        g = self.g
        cache = self._reaches(reverse)
        todo: list[tuple[str, int, float]] = []
        for p in places:
            if p in cache:
                continue
            road = [a for a in self._end_arcs(p, reverse) if g.arc_mode[a] == 0]
            budget = self.max_access_km - float(g.km[road[0], 0]) if road else -1.0
            if budget < -1e-9:
                continue
            todo.append((p, int(g.tail[road[0]] if reverse else g.head[road[0]]), budget))
        if not todo:
            return
        mat, arc_of = self._road_km(reverse)
        transfers = self.road_out_transfers if reverse else self.road_in_transfers
        t_node = g.head[transfers] if reverse else g.tail[transfers]
        t_km = g.km[transfers, 0]
        tol = 1e-9 * max(1.0, self.max_access_km)
        chunk = max(1, int(_DIJKSTRA_BYTES // (12 * max(1, g.n_nodes))))
        for lo in range(0, len(todo), chunk):
            batch = todo[lo : lo + chunk]
            limit = max(b for _, _, b in batch) + tol
            starts = [s for _, s, _ in batch]
            dist, pred = dijkstra(
                mat, indices=starts, limit=limit, return_predecessors=True, min_only=False
            )
            for i, (p, _, budget) in enumerate(batch):
                d = dist[i]
                nodes = np.flatnonzero(d <= budget + tol)
                prev = pred[i, nodes].astype(np.int64)
                prev[prev < 0] = -1
                km = d[t_node] + t_km
                ok = np.flatnonzero(km <= budget + tol)
                cache[p] = _Reach(_KmTree(nodes, prev, mat, arc_of), transfers[ok], d[t_node[ok]])

    def prefetch_terminal_trees(self) -> bool:
        """Start building :class:`_TerminalTrees` in a forked process, then, when no road
        arc has a capacity, every flow's road-only start (:meth:`free_start`), for the
        first :meth:`fast_possible`, fast pricing or :meth:`free_start` to collect: the
        caller goes on meanwhile (province: 4.2-5.4 s of road searches beside the flows'
        checks, then 1.1 s of starts; pickling the 134 MB of trees took 0.11 s and
        unpickling them 0.07 s, measured apart from the pipe). False when they are built
        already, or a fork is not available."""
        key = ("terminal_trees",)
        if key in self.g.memo or (*key, "pending") in self.g.memo:
            return False
        if "fork" not in multiprocessing.get_all_start_methods():
            return False
        g = self.g
        starts = not np.any(g.row[g.road_edge] >= 0) and ("road_only",) not in g.memo

        def build() -> tuple[_TerminalTrees | None, dict[Flow, Column | None] | None]:
            return self._terminal_trees(), self._road_only(self.problem.flows) if starts else None

        try:
            forked = _Forked(build)
        except (OSError, AssertionError) as exc:  # e.g. a daemonic process has no children
            _log.warning("terminal trees built here (%s)", exc)
            return False
        self.g.memo[(*key, "pending")] = forked
        weakref.finalize(self.g, forked.cancel)  # never collected: ends with the graph
        return True

    def _collect_prefetch(self) -> None:
        """Put what :meth:`prefetch_terminal_trees`' fork built, if one is pending, in the
        graph's memo (waiting for it); if the fork failed, nothing (built here on demand)."""
        pending = self.g.memo.pop(("terminal_trees", "pending"), None)
        if pending is None:
            return
        try:
            trees, starts = pending.result()
        except (EOFError, OSError, RuntimeError) as exc:
            _log.warning("terminal trees from the fork lost (%s); building them here", exc)
            return
        self.g.memo[("terminal_trees",)] = trees
        if starts is not None:
            self._keep_starts(starts)

    def _terminal_trees(self) -> _TerminalTrees | None:
        """:class:`_TerminalTrees`, built once per graph (memo); None when some road arc
        has no twin of equal km the other way."""
        key = ("terminal_trees",)
        self._collect_prefetch()
        if key in self.g.memo:
            return self.g.memo[key]  # type: ignore[no-any-return]
        g = self.g
        road_nodes = np.unique(np.concatenate([g.tail[g.road_edge], g.head[g.road_edge]]))
        local = np.full(g.n_nodes, -1, dtype=np.int64)
        local[road_nodes] = np.arange(len(road_nodes))
        mat, arc_of = g.csr(g.km[:, 0], g.road_edge, local=local, size=len(road_nodes))
        trees: _TerminalTrees | None = None
        if (mat != mat.T).nnz == 0:
            roots = np.unique(
                np.concatenate(
                    [g.tail[self.road_in_transfers], g.head[self.road_out_transfers]]
                )
            )
            places = sorted(
                {
                    int(g.head[a] if g.kind[a] == SOURCE else g.tail[a])
                    for a in np.flatnonzero(
                        ((g.kind == SOURCE) | (g.kind == SINK)) & (g.arc_mode == 0)
                    )
                }
            )
            tree = np.full(g.n_nodes, -1, dtype=np.int64)
            tree[roots] = np.arange(len(roots))
            pred = np.empty((len(roots), len(road_nodes)), dtype=np.int32)
            km = np.empty((len(roots), len(places)))
            chunk = max(1, int(_DIJKSTRA_BYTES // (12 * max(1, len(road_nodes)))))
            for lo in range(0, len(roots), chunk):
                dist, pr = dijkstra(
                    mat, indices=local[roots[lo : lo + chunk]], return_predecessors=True
                )
                pred[lo : lo + chunk] = pr
                km[lo : lo + chunk] = dist[:, local[places]]
            trees = _TerminalTrees(
                local, mat, arc_of, tree, pred, {p: km[:, i] for i, p in enumerate(places)}
            )
        self.g.memo[key] = trees
        return trees

    def _far_ends(self, place: str, road_arc: int, *, reverse: bool) -> _KmAccess:
        """:meth:`_access_by_km` without the km bound: road legs of any length between the
        place and every terminal's road node, from :class:`_TerminalTrees` (kept per place)."""
        memo = self.g.memo.setdefault(("far_ends", reverse), {})
        hit = memo.get(place)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        trees = self._terminal_trees()
        assert trees is not None
        g = self.g
        shared = self.g.memo.get(("far_plan", reverse))
        if shared is None:
            t = self.road_out_transfers if reverse else self.road_in_transfers
            k = trees.tree[g.head[t] if reverse else g.tail[t]]
            pos = self.exit_pos[g.tail[t]] if reverse else self.entry_pos[g.head[t]]
            shared = (t, k, pos, *_KmAccess.plan(pos))
            self.g.memo[("far_plan", reverse)] = shared
        t, k, pos, order, starts, upos = shared
        node = int(g.tail[road_arc] if reverse else g.head[road_arc])
        km = trees.km[node][k]  # inf where the road does not reach: weight inf
        acc = _KmAccess(_TreeRoads(trees, node, reverse), t, km, k, pos, order, starts, upos)
        memo[place] = acc
        return acc

    def _access_by_km(self, place: str, *, reverse: bool) -> _KmAccess:
        """:meth:`_access` when every road arc weighs ``rate`` per km (no road duals): the
        shortest road path within the bound is also the lightest, so one km search per
        place serves every commodity, phase and pricing round (kept per place)."""
        memo = self.g.memo.setdefault(("near_ends", reverse, self.max_access_km), {})
        hit = memo.get(place)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        self._prefetch([place], reverse=reverse)
        reach = self._reaches(reverse)[place]
        t = reach.transfers
        g = self.g
        pos = self.exit_pos[g.tail[t]] if reverse else self.entry_pos[g.head[t]]
        label = g.head[t] if reverse else g.tail[t]
        acc = _KmAccess(reach.tree, t, reach.road_km, label, pos, *_KmAccess.plan(pos))
        memo[place] = acc
        return acc

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


def _with_supers(
    mat: sp.csr_matrix, arc_of: np.ndarray, vals: list[np.ndarray], nodes: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``mat`` with one extra node per entry of ``vals``, appended after its nodes, whose
    arcs lead to ``nodes`` with weights ``vals[k]`` (finite ones only; arc id -1)."""
    n, k = mat.shape[0], len(vals)
    fin = [np.isfinite(v) for v in vals]
    counts = np.array([int(f.sum()) for f in fin], dtype=np.int64)
    indptr = np.concatenate([mat.indptr, mat.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([mat.indices] + [nodes[f] for f in fin]).astype(mat.indices.dtype)
    data = np.concatenate([mat.data] + [v[f] for v, f in zip(vals, fin, strict=True)])
    aug = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    return aug, np.concatenate([arc_of, np.full(int(counts.sum()), -1, dtype=arc_of.dtype)])



class _Worker:
    """A forked copy of a :class:`Pricer` that prices the flows of some commodities.

    The fork inherits the pricer and everything kept on its graph so far; each process
    then keeps its own caches. One pricing is two exchanges over a pipe, each side working
    meanwhile: (1) the worker gathers its flows' candidates and returns their lower
    bounds, while this process gathers its own; (2) with the bounds of both, the first
    ``limit`` flows in their joint order are split into a quota per side, each side builds
    its flows in order until its quota has columns (at least one when it has candidates,
    so a side whose flows are all checked finds nothing only when none of them prices
    out) and the worker returns its columns. Pricing stays exact: with ``limit`` None both
    sides build every flow, as one process would; with a limit, the two quotas may take a
    column or two more than one process would, and other flows among equals.
    """

    def __init__(self, pricer: Pricer, commodities: frozenset[str]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.commodities = commodities
        self.their_ids = {f.id for f in pricer.problem.flows if f.commodity in commodities}
        self.log_pos = 0  # entries of the skip log the worker has applied
        self.log: Sequence[tuple[bool, tuple]] | None = None
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(
            target=_serve, args=(pricer, theirs, self.conn, os.getpid()), daemon=True
        )
        self.proc.start()
        theirs.close()

    def _receive(self) -> Any:
        out = self.conn.recv()
        if isinstance(out, _Failure):
            raise RuntimeError(f"pricing worker failed: {out.text}")
        return out

    def price(
        self,
        pricer: Pricer,
        pi: np.ndarray,
        sigma: dict[str, float],
        flows: list[Flow],
        limit: int | None,
        skip: set[tuple] | frozenset[tuple],
        skip_log: Sequence[tuple[bool, tuple]] | None,
        fast: bool,
    ) -> list[tuple[Column, float]]:
        """:meth:`Pricer.price` of ``flows`` (phase 2), split between the two processes.

        The worker's part of ``skip`` goes over in full, or, given ``skip_log`` (the same
        log as at the last call, grown), as the log's new entries for its flows."""
        theirs = {f.id for f in flows if f.commodity in self.commodities}
        mine = [f for f in flows if f.id not in theirs]
        their_sigma = {fid: v for fid, v in sigma.items() if fid in theirs}
        self.conn.send(("gather", pi, their_sigma, sorted(theirs), fast))
        by_flow, lows = pricer._gather(pi, sigma, 2, mine, fast)
        their_lows: dict[str, float] = self._receive()
        both = lows | their_lows
        quota_mine: int | None = None
        quota_theirs: int | None = None
        if limit is not None:
            first = sorted(both, key=both.__getitem__)[:limit]
            n_theirs = sum(1 for fid in first if fid in their_lows)
            quota_theirs = max(1, n_theirs)
            quota_mine = max(1, len(first) - n_theirs)
        if skip_log is not None and (self.log is None or self.log is skip_log):
            ids = self.their_ids
            news = [e for e in skip_log[self.log_pos :] if e[1][0] in ids]
            self.log, self.log_pos = skip_log, len(skip_log)
            self.conn.send(("build", quota_theirs, None, news))
        else:
            self.log, self.log_pos = None, 0
            self.conn.send(("build", quota_theirs, {sig for sig in skip if sig[0] in theirs}, None))
        found, low, skipped = pricer._build(
            by_flow, sorted(by_flow, key=lows.__getitem__), pi, sigma, 2, quota_mine, skip
        )
        their_found, their_low, their_skipped = self._receive()
        pricer.low = {fid: min(0.0, v) for fid, v in both.items()} | low | their_low
        pricer.skipped = skipped + their_skipped
        return found + their_found  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.terminate()
        self.conn.close()


@dataclass
class _Failure:
    text: str


class _Forked:
    """``fn()`` run in a forked process; :meth:`result` waits for its (pickled) value."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, theirs = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(
            target=_send_result, args=(fn, theirs, self.conn, os.getpid()), daemon=True
        )
        self.proc.start()
        theirs.close()

    def result(self) -> Any:
        try:
            out = self.conn.recv()
        finally:
            self.conn.close()
            self.proc.join(timeout=5)
        if isinstance(out, _Failure):
            raise RuntimeError(f"forked process failed: {out.text}")
        return out

    def cancel(self) -> None:
        """End the process if it is still there (its result not wanted)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)
        self.conn.close()


_PARENT_POLL_S = 1.0
"""A forked helper waiting for its parent's next message checks this often that the
parent is still there."""


def _in_child(parents_end: Any, parent: int) -> None:
    """First thing in a forked helper (its own process, so its own signal handlers):

    - close its copy of the parent's end of the pipe, so the parent's death (even by
      SIGKILL) closes the pipe and the helper's ``recv`` ends (it blocked forever, holding
      ~330 MB, when it kept that end open);
    - ignore Ctrl-C, which the terminal sends to the whole process group: the parent
      handles it and stops its helpers (each printed a traceback of its own);
    - die quietly on SIGTERM (``Process.terminate``), not by the parent's handler;
    - on Linux, have the kernel send it SIGTERM when the parent dies
      (``PR_SET_PDEATHSIG``), so it does not finish a long computation for no one.
    """
    parents_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(Exception):  # best effort, Linux only
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before that
        os._exit(0)


def _send_result(fn: Callable[[], Any], conn: Any, parents_end: Any, parent: int) -> None:
    _in_child(parents_end, parent)
    try:
        out = fn()
    except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
        out = _Failure(traceback.format_exc(limit=5))
    with contextlib.suppress(OSError):  # the parent is gone: no one to tell
        conn.send(out)
    conn.close()


def _serve(pricer: Pricer, conn: Any, parents_end: Any, parent: int) -> None:
    """The worker's loop: gather, then build, for each pricing; ``None`` ends it, and so
    does the parent's death (the pipe closes, or the parent is no longer its parent)."""
    _in_child(parents_end, parent)
    by_id = {f.id: f for f in pricer.problem.flows}
    state: tuple = ()
    mirror: set[tuple] = set()  # the parent's skip for this worker's flows, from its log
    while True:
        try:
            while not conn.poll(_PARENT_POLL_S):
                if os.getppid() != parent:
                    return
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            if msg[0] == "gather":
                _, pi, sigma, fids, fast = msg
                by_flow, lows = pricer._gather(pi, sigma, 2, [by_id[f] for f in fids], fast)
                state = (by_flow, lows, pi, sigma)
                conn.send(lows)
            else:
                _, quota, skip, news = msg
                if skip is not None:  # in full (and the log starts again)
                    mirror = set()
                else:
                    for added, sig in news:
                        if added:
                            mirror.add(sig)
                        else:
                            mirror.discard(sig)
                    skip = mirror
                by_flow, lows, pi, sigma = state
                order = sorted(by_flow, key=lows.__getitem__)
                conn.send(pricer._build(by_flow, order, pi, sigma, 2, quota, skip))
                state = ()
        except OSError:  # the pipe is gone with the parent
            return
        except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
            try:
                conn.send(_Failure(traceback.format_exc(limit=5)))
            except OSError:
                return
