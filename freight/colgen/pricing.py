"""Exact pricing: each flow's chain of least reduced cost, by shortest paths.

With duals ``pi <= 0`` on the capacity rows and ``sigma_f`` on the demand rows, the reduced
cost of a chain ``c`` of flow ``f`` is ``cost_c - sigma_f - sum_r pi_r a_rc``. Weighting
every arc by its generalised cost minus the dual of the row it uses (``>= 0``) turns the
search for the most negative reduced cost into shortest paths (:meth:`Pricer.weights`):

- *general* chains (any legs): one Dijkstra per origin (or per destination, on the
  reversed graph, when the flows have fewer destinations) on the whole expanded graph,
  from the origin's source node to every sink (:meth:`Pricer.general`);
- *compliant* chains (road access <= max_access_km, rail/pipeline main haul, road egress
  <= max_access_km): the best weight from each origin to every entry node of the
  rail/pipeline layer and from every exit node to each destination
  (:mod:`freight.colgen.road_ends`), joined through the layer by one Dijkstra per
  destination (or per origin, whichever are fewer) from a *super node* whose arcs to the
  layer's exit (entry) nodes carry those end weights -- the min over entry and exit
  terminals without forming the entries x exits table (:meth:`Pricer.compliant`).

Phase 1 (feasibility) prices with the duals alone: arc weight ``-pi`` (Farkas pricing).

A search passes over what cannot price out: a flow whose zero-dual chain already weighs
``sigma_f`` or more (arc weights only grow as ``pi <= 0``), and stops each Dijkstra at the
largest ``sigma_f`` of its flows (:class:`Bounds`). Only the chains taken are rebuilt from
their arcs (:class:`Candidate`). Nothing here changes state but the caches on the graph
and the zero-dual lower bounds the pricer keeps (:attr:`Pricer.lower_bounds`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from freight import tolerances as tol
from freight.colgen.caches import ChainCache
from freight.colgen.options import SolveOptions
from freight.colgen.road_ends import Layer, RoadEnds
from freight.expanded_graph import Column, CostClass, MultimodalGraph
from freight.problem import Flow, Problem


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
class Priced:
    """What a pricing found: each flow's most negative column not in the master, with its
    reduced cost (``columns``); by flow, a lower bound on its most negative reduced cost
    over all chains (``low``, 0 when none can be negative; exact for the flows whose
    chains were built); and how many flows' best columns were passed over as already in
    the master (``skipped``)."""

    columns: list[tuple[Column, float]]
    low: dict[str, float]
    skipped: int


@dataclass(frozen=True)
class Bounds:
    """The demand duals a search may stop at (``sigma``: None for searches without duals,
    e.g. at zero duals, which stop at nothing), and the phase they are of."""

    sigma: dict[str, float] | None
    phase: int = 2


NO_DUALS = Bounds(None)


class FastSearch(Protocol):
    """Fast pricing's search for general chains (:mod:`freight.colgen.fast_pricing`)."""

    def candidates(
        self,
        pricer: Pricer,
        flows: list[Flow],
        w: np.ndarray,
        commodity: CostClass,
        bounds: Bounds,
    ) -> list[Candidate]: ...


class Pricer:
    """Finds, for each flow, its minimum reduced-cost chain of every kind it may use.

    Parameters
    ----------
    graph : MultimodalGraph
        The expanded network.
    flows : sequence of Flow
        The problem's flows.
    max_access_km : float
        The rule's bound on a compliant chain's road legs.
    rules : dict
        :class:`FlowRule` by flow id.
    options : SolveOptions, optional
        For ``search_batch_bytes``.
    """

    def __init__(
        self,
        graph: MultimodalGraph,
        flows: Sequence[Flow],
        max_access_km: float,
        rules: dict[str, FlowRule],
        *,
        options: SolveOptions | None = None,
    ) -> None:
        self.options = options if options is not None else SolveOptions()
        self.g = graph
        self.flows = tuple(flows)
        self.max_access_km = max_access_km
        self.rules = rules
        self.layer = Layer.of(graph)
        self.ends = RoadEnds(graph, self.layer, max_access_km, self.options)
        # weight of each flow's cheapest chain of each kind at zero duals (phase 2): a lower
        # bound on its weight under any duals, since arc weights only grow as pi <= 0
        self.lower_bounds: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
        self.fast: FastSearch | None = None  # set by freight.colgen.fast_pricing.attach

    @classmethod
    def for_problem(
        cls,
        graph: MultimodalGraph,
        problem: Problem,
        rules: dict[str, FlowRule],
        *,
        options: SolveOptions | None = None,
    ) -> Pricer:
        """The pricer of ``problem``'s flows under its rule's ``max_access_km``."""
        return cls(graph, problem.flows, problem.policy.max_access_km, rules, options=options)

    # ------------------------------------------------------------------ weights and columns
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

    def by_cost_class(self, flows: Sequence[Flow]) -> dict[CostClass, list[Flow]]:
        """The flows grouped by cost class, in their order."""
        out: dict[CostClass, list[Flow]] = {}
        for f in flows:
            out.setdefault(self.g.cost_class(f), []).append(f)
        return out

    def cheapest(self, flows: Sequence[Flow]) -> dict[str, dict[str, Column]]:
        """Each flow's cheapest chain of each kind (``"general"``, ``"compliant"``) at zero
        duals, i.e. capacities ignored, whatever its rule; costs without penalty.

        A kind is missing when the flow has no such chain. Kept on the graph (by flows, in
        :class:`~freight.colgen.caches.ChainCache`): the rule's checks, the rule's run and
        the policy-off run all start from these. Also sets the lower bounds that let
        pricing pass over a flow.
        """
        key = tuple(flows)
        cache = self.g.derived(ChainCache, self.max_access_km).cheapest
        hit = cache.get(key)
        if hit is None:
            zero = np.zeros(len(self.g.rows))
            cols: dict[str, dict[str, Column]] = {f.id: {} for f in flows}
            lb: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
            for commodity, group in self.by_cost_class(flows).items():
                w = self.weights(commodity, zero, 2)
                for cand in self.general(group, w, NO_DUALS, lb, penalty=False):
                    cols[cand.flow.id]["general"] = cand.build()
                found = self.compliant(group, w, commodity, NO_DUALS, True, lb, penalty=False)
                for cand in found:
                    cols[cand.flow.id]["compliant"] = cand.build()
            hit = cache[key] = (cols, lb)
        cols, lb = hit
        for kind in ("general", "compliant"):
            self.lower_bounds[kind].update(lb[kind])
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
        fast: bool = False,
    ) -> Priced:
        """Each flow's most negative reduced-cost column (:class:`Priced`).

        Parameters
        ----------
        pi : ndarray
            Duals of all rows of the graph (0 for rows not in the master), ``<= 0``.
        sigma : dict
            Duals of the demand rows by flow id.
        phase : int
            1 (feasibility: column cost 0) or 2 (cost).
        flows : list of Flow, optional
            The flows to price (default: all).
        limit : int, optional
            Stop once this many flows have a column, taking flows by their lower bound
            (chain weight minus ``sigma_f``, any penalty left out), most negative first.
        skip : set
            Column signatures to pass over (those already in the master): a flow whose
            best chains are all there offers its next one, or nothing.
        fast : bool
            Fast pricing of general chains (:mod:`freight.colgen.fast_pricing`): may miss
            a chain that prices out, so only an exact pricing that finds nothing ends the
            search.
        """
        flows = list(self.flows) if flows is None else flows
        by_flow, lows = self.gather(pi, sigma, phase, flows, fast)
        order = sorted(by_flow, key=lows.__getitem__)
        found, low, skipped = self.build(by_flow, order, pi, sigma, phase, limit, skip)
        return Priced(found, {fid: min(0.0, v) for fid, v in lows.items()} | low, skipped)

    def gather(
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
        for cand in self.candidates(pi, phase=phase, flows=flows, sigma=sigma, fast=fast):
            by_flow.setdefault(cand.flow.id, []).append(cand)
        lows = {
            fid: min(c.weight for c in cs) - sigma.get(fid, 0.0) for fid, cs in by_flow.items()
        }
        return by_flow, lows

    @staticmethod
    def build(
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
                if rc >= -tol.REDUCED_COST_REL * max(1.0, abs(cost)):
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

    def candidates(
        self,
        pi: np.ndarray,
        *,
        phase: int,
        flows: list[Flow],
        sigma: dict[str, float] | None = None,
        fast: bool = False,
    ) -> list[Candidate]:
        """Each flow's minimum-weight chain of every kind its rule allows, as
        :class:`Candidate` objects that build their columns on demand.

        ``fast`` (phase 2, no road duals, fast pricing attached): general chains are
        searched by :attr:`fast` instead of over the whole graph. With ``sigma``, chains
        whose weight minus ``sigma_f`` is >= 0 are passed over before they are rebuilt:
        their reduced cost (weight + any penalty - sigma_f) cannot be negative.
        """
        bounds = Bounds(sigma, phase)
        zero_duals = phase == 2 and not np.any(pi < 0)
        record = self.lower_bounds if zero_duals else None
        labels: dict = {}  # road searches under this call's road duals, by place
        out: list[Candidate] = []
        for commodity, group in self.by_cost_class(flows).items():
            w = self.weights(commodity, pi, phase)
            gen = [
                f for f in group
                if self.rules[f.id].general and self.may_price(f, "general", bounds)
            ]  # fmt: skip
            comp = [
                f for f in group
                if self.rules[f.id].compliant and self.may_price(f, "compliant", bounds)
            ]  # fmt: skip
            if gen and fast and phase == 2 and self.roads_by_km(pi):
                assert self.fast is not None, "fast pricing is not attached"
                out.extend(self.fast.candidates(self, gen, w, commodity, bounds))
            elif gen:
                out.extend(self.general(gen, w, bounds, record))
            if comp:
                by_km = self.roads_by_km(pi)
                out.extend(
                    self.compliant(comp, w, commodity, bounds, by_km, record, labels=labels)
                )
        return out

    def roads_by_km(self, pi: np.ndarray) -> bool:
        """No road row has a dual: every road arc weighs its commodity's rate per km."""
        return not np.any(pi[self.g.row[self.g.road_edge & (self.g.row >= 0)]] < 0)

    def priced_out(self, flow: Flow, weight: float, kind: str, bounds: Bounds) -> bool:
        """No chain of this weight can price out for ``flow``: its reduced cost is at least
        ``weight - below`` (:meth:`below`), which is no lower than the pricing tolerance
        (:data:`~freight.tolerances.REDUCED_COST_REL`): a column in the master's basis has
        weight equal to ``below`` up to rounding, and would otherwise be rebuilt every
        round only to be found not negative."""
        below = self.below(flow, kind, bounds)
        if below == np.inf:
            return False
        return bool(weight >= below - tol.REDUCED_COST_REL * max(1.0, abs(below)))

    def below(self, flow: Flow, kind: str, bounds: Bounds) -> float:
        """Chains of ``kind`` can price out for ``flow`` only when lighter than this.

        A compliant chain: ``sigma_f``. A general one: ``sigma_f`` less the soft rule's
        penalty (phase 2) when the flow may also take compliant chains -- a non-compliant
        chain pays it, and a compliant chain that prices out is found by the compliant
        search anyway. Without duals: no bound.
        """
        if bounds.sigma is None:
            return np.inf
        below = bounds.sigma.get(flow.id, 0.0)
        rule = self.rules.get(flow.id)
        if kind == "general" and bounds.phase == 2 and rule is not None and rule.compliant:
            below -= rule.penalty_cny_per_t
        return below

    def may_price(self, flow: Flow, kind: str, bounds: Bounds) -> bool:
        """False when no chain of ``kind`` can price out for ``flow``: its zero-dual weight
        (0 in phase 1 when it has a chain at all) already reaches :meth:`below`."""
        if bounds.sigma is None:
            return True
        lb = self.lower_bounds[kind].get(flow.id)
        if lb is None:
            return True
        if bounds.phase == 1 and np.isfinite(lb):
            lb = 0.0
        return not self.priced_out(flow, lb, kind, bounds)

    # ------------------------------------------------------------------ the two searches
    def general(
        self,
        flows: list[Flow],
        w: np.ndarray,
        bounds: Bounds,
        record: dict[str, dict[str, float]] | None = None,
        *,
        penalty: bool = True,
    ) -> list[Candidate]:
        """Shortest general chains, one Dijkstra per origin, or per destination on the
        reversed graph when the flows to price have fewer destinations (batched).
        ``record``: where to keep each flow's weight as its zero-dual lower bound."""
        g = self.g
        origins = {f.origin for f in flows}
        dests = {f.destination for f in flows}
        reverse = len(dests) < len(origins)
        mat, arc_of = g.csr(w, np.ones(len(w), dtype=bool), reverse=reverse)
        groups: dict[str, list[Flow]] = {}
        for f in flows:
            groups.setdefault(f.destination if reverse else f.origin, []).append(f)
        # stop each search where no flow of its group can price out any more
        limit = {k: max(self.below(f, "general", bounds) for f in fs) for k, fs in groups.items()}
        keys = sorted(groups, key=limit.__getitem__)
        starts = np.array([g.snk(k) if reverse else g.src(k) for k in keys], dtype=np.int64)
        chunk = max(1, int(self.options.search_batch_bytes // (12 * max(1, g.n_nodes))))
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
                    if record is not None and (np.isfinite(d) or bounds.sigma is None):
                        record["general"][f.id] = d  # (not beyond a limit: unknown)
                    if not np.isfinite(d) or self.priced_out(f, d, "general", bounds):
                        continue

                    def make(
                        f: Flow = f, row: np.ndarray = pred[i], s: int = s, t: int = t
                    ) -> Column:
                        arcs = g.arcs_between(mat, arc_of, g.path_nodes(row, s, t))
                        return self.column(f, arcs[::-1] if reverse else arcs, penalty=penalty)

                    out.append(Candidate(f, "general", d, make))
        return out

    def compliant(  # noqa: C901 -- one search: ends, the layer's Dijkstras, the chains
        self,
        flows: list[Flow],
        w: np.ndarray,
        commodity: CostClass,
        bounds: Bounds,
        cacheable: bool,
        record: dict[str, dict[str, float]] | None = None,
        *,
        penalty: bool = True,
        kind: str = "compliant",
        labels: dict | None = None,
    ) -> list[Candidate]:
        """Cheapest compliant chains: end weights at the entry (exit) nodes of every origin
        (destination), joined through the rail/pipeline layer by one super-node Dijkstra
        per destination -- or per origin, when the flows have fewer origins.

        ``cacheable``: road arcs weigh by km (no road duals), so the road ends come from
        the km searches kept on the graph. ``kind="general"``: the same search with road
        ends of any length (fast pricing's; needs ``cacheable``), i.e. the cheapest chain
        of road, then rail/pipeline, then road -- every general chain but those with a road
        leg between two main legs. ``record``: where to keep each flow's weight as its
        zero-dual lower bound (compliant kind only)."""
        g = self.g
        lay = self.layer
        phase = bounds.phase
        bounded = kind == "compliant"
        record = record if bounded else None
        if len(lay.entry_nodes) == 0 or len(lay.exit_nodes) == 0:
            if record is not None:
                record["compliant"].update((f.id, np.inf) for f in flows)
            return []
        origins = sorted({f.origin for f in flows})
        dests = sorted({f.destination for f in flows})
        if cacheable and bounded:
            self.ends.prefetch(origins, reverse=False)
            self.ends.prefetch(dests, reverse=True)
        ends = functools.partial(self.ends.table, w=w, commodity=commodity, phase=phase,
                                 cacheable=cacheable, bounded=bounded, labels=labels)  # fmt: skip
        acc = ends(origins, reverse=False)
        egr = ends(dests, reverse=True)
        reverse = len(dests) < len(origins)
        near, far = (acc, egr) if reverse else (egr, acc)  # far: the super nodes' side
        near_nodes = lay.local[lay.entry_nodes if reverse else lay.exit_nodes]
        far_nodes = lay.local[lay.exit_nodes if reverse else lay.entry_nodes]
        far_pos = lay.exit_pos if reverse else lay.entry_pos
        n_main = len(lay.main_nodes)
        mat, arc_of = g.csr(w, g.main_haul, local=lay.local, size=n_main, reverse=reverse)
        groups: dict[str, list[Flow]] = {}
        for f in flows:
            groups.setdefault(f.destination if reverse else f.origin, []).append(f)
        far_any = np.isfinite(far.vals).any(axis=1)
        keys = [k for k in groups if far_any[far.index[k]]]
        if record is not None:
            for k in groups.keys() - set(keys):
                record["compliant"].update((f.id, np.inf) for f in groups[k])
        chunk = max(1, int(self.options.search_batch_bytes // (12 * (n_main + 1))))
        out = []
        for lo in range(0, len(keys), chunk):
            batch = keys[lo : lo + chunk]
            aug, aug_arc = with_supers(
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
                    if record is not None:
                        record["compliant"][f.id] = best
                    if not np.isfinite(best) or self.priced_out(f, best, kind, bounds):
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
                        j = int(far_pos[lay.main_nodes[first]])
                        mid = g.arcs_between(aug, aug_arc, nodes[1:]).tolist()
                        if reverse:
                            chain = near.path(n_row, i) + mid[::-1] + far.path(k_row, j)
                        else:
                            chain = far.path(k_row, j) + mid + near.path(n_row, i)
                        return self.column(f, chain, penalty=penalty)

                    out.append(Candidate(f, kind, best, make))
        return out


def with_supers(
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
