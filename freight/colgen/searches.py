"""The two shortest-path searches of pricing: a flow's lightest chain under arc weights.

- *general* chains (any legs): one Dijkstra per origin (or per destination, on the
  reversed graph, when the flows have fewer destinations) over the whole expanded graph,
  from the origin's source node to every sink (:meth:`ChainSearch.general`);
- *compliant* chains (road access <= max_access_km, rail/pipeline main haul, road egress
  <= max_access_km): the best weight from each origin to every entry node of the
  rail/pipeline layer and from every exit node to each destination
  (:mod:`freight.colgen.road_ends`), joined through the layer by one Dijkstra per
  destination (or per origin, whichever are fewer) from a *super node* whose arcs to the
  layer's exit (entry) nodes carry those end weights -- the min over entry and exit
  terminals without forming the entries x exits table (:meth:`ChainSearch.compliant`).

A search passes over what cannot price out (:class:`Bounds`: a chain whose weight reaches
its flow's demand dual) and stops each Dijkstra at the largest dual of its flows; only the
chains taken are rebuilt from their arcs (:class:`Candidate`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from freight import tolerances as tol
from freight.colgen.options import SolveOptions
from freight.colgen.road_ends import EndsTable, Layer, RoadEnds
from freight.expanded_graph import Column, CostClass, MultimodalGraph
from freight.problem import Flow


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


@dataclass(frozen=True)
class Bounds:
    """The demand duals a search may stop at (``sigma``: None for searches without duals,
    e.g. at zero duals, which stop at nothing), and the phase they are of."""

    sigma: dict[str, float] | None
    phase: int = 2


NO_DUALS = Bounds(None)


class ChainSearch:
    """Shortest chains of the flows of a graph under a rule (see the module docstring).

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

    def compliant(  # noqa: PLR0913 -- the search's inputs; ``kind``, ``penalty`` and ``labels`` keyword-only
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
        zero-dual lower bound (compliant kind only). ``labels``: the road searches under
        road duals of this pricing call."""
        lay = self.layer
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
        ends = functools.partial(self.ends.table, w=w, commodity=commodity, phase=bounds.phase,
                                 cacheable=cacheable, bounded=bounded, labels=labels)  # fmt: skip
        acc = ends(origins, reverse=False)
        egr = ends(dests, reverse=True)
        reverse = len(dests) < len(origins)
        join = _LayerJoin.of(self, w, acc, egr, reverse)
        groups: dict[str, list[Flow]] = {}
        for f in flows:
            groups.setdefault(f.destination if reverse else f.origin, []).append(f)
        far_any = np.isfinite(join.far.vals).any(axis=1)
        keys = [k for k in groups if far_any[join.far.index[k]]]
        if record is not None:
            for k in groups.keys() - set(keys):
                record["compliant"].update((f.id, np.inf) for f in groups[k])
        chunk = max(1, int(self.options.search_batch_bytes // (12 * (len(lay.main_nodes) + 1))))
        out: list[Candidate] = []
        for lo in range(0, len(keys), chunk):
            batch = keys[lo : lo + chunk]
            out += join.candidates(self, batch, groups, bounds, record, kind, penalty)
        return out


@dataclass
class _LayerJoin:
    """The rail/pipeline layer between the end tables of one compliant search: ``far`` is
    the side of the super nodes (origins, or destinations when ``reverse``), ``near`` the
    side the Dijkstras reach; ``mat`` the layer's arcs (reversed when ``reverse``) on its
    local node ids."""

    near: EndsTable
    far: EndsTable
    reverse: bool
    near_nodes: np.ndarray
    far_nodes: np.ndarray
    far_pos: np.ndarray
    main_nodes: np.ndarray
    mat: sp.csr_matrix
    arc_of: np.ndarray

    @classmethod
    def of(
        cls, search: ChainSearch, w: np.ndarray, acc: EndsTable, egr: EndsTable, reverse: bool
    ) -> _LayerJoin:
        lay = search.layer
        near, far = (acc, egr) if reverse else (egr, acc)  # far: the super nodes' side
        mat, arc_of = search.g.csr(
            w, search.g.main_haul, local=lay.local, size=len(lay.main_nodes), reverse=reverse
        )
        return cls(
            near,
            far,
            reverse,
            lay.local[lay.entry_nodes if reverse else lay.exit_nodes],
            lay.local[lay.exit_nodes if reverse else lay.entry_nodes],
            lay.exit_pos if reverse else lay.entry_pos,
            lay.main_nodes,
            mat,
            arc_of,
        )

    def candidates(
        self,
        search: ChainSearch,
        batch: list[str],
        groups: dict[str, list[Flow]],
        bounds: Bounds,
        record: dict[str, dict[str, float]] | None,
        kind: str,
        penalty: bool,
    ) -> list[Candidate]:
        """One Dijkstra from each super node of ``batch`` through the layer: each flow's
        lightest chain over every entry and exit node."""
        near, far, reverse = self.near, self.far, self.reverse
        n_main = len(self.main_nodes)
        aug, aug_arc = with_supers(
            self.mat, self.arc_of, [far.vals[far.index[k]] for k in batch], self.far_nodes
        )
        supers = n_main + np.arange(len(batch))
        dist, pred = dijkstra(aug, indices=supers, return_predecessors=True)
        out = []
        for b, key in enumerate(batch):
            through = dist[b, self.near_nodes]  # layer weight from the near nodes to the key
            group = groups[key]
            rows = np.array([near.index[f.origin if reverse else f.destination] for f in group])
            total = near.vals[rows] + through
            best_i = np.argmin(total, axis=1)
            bests = total[np.arange(len(group)), best_i]
            k_row = far.index[key]
            for f, i, best, n_row in zip(
                group, best_i.tolist(), bests.tolist(), rows.tolist(), strict=True
            ):
                if record is not None:
                    record["compliant"][f.id] = best
                if not np.isfinite(best) or search.priced_out(f, best, kind, bounds):
                    continue
                path = functools.partial(self._arcs, aug, aug_arc, pred[b], int(supers[b]),
                                         i, n_row, k_row)  # fmt: skip
                out.append(Candidate(f, kind, best, _maker(search, f, path, penalty)))
        return out

    def _arcs(
        self,
        aug: sp.csr_matrix,
        aug_arc: np.ndarray,
        row: np.ndarray,
        sup: int,
        i: int,
        n_row: int,
        k_row: int,
    ) -> list[int]:
        """The arcs of the chain from super node ``sup`` to near node ``i``."""
        g = MultimodalGraph
        nodes = g.path_nodes(row, sup, int(self.near_nodes[i]))
        first = int(nodes[1])  # the far node the super node's arc leads to
        j = int(self.far_pos[self.main_nodes[first]])
        mid = g.arcs_between(aug, aug_arc, nodes[1:]).tolist()
        if self.reverse:
            return self.near.path(n_row, i) + mid[::-1] + self.far.path(k_row, j)
        return self.far.path(k_row, j) + mid + self.near.path(n_row, i)


def _maker(
    search: ChainSearch, flow: Flow, path: Callable[[], list[int]], penalty: bool
) -> Callable[[], Column]:
    """The column of ``flow`` over the arcs ``path()`` gives, built when called."""
    return lambda: search.column(flow, path(), penalty=penalty)


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
