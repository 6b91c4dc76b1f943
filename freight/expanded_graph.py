"""The multimodal network as one expanded directed graph held in sparse arrays.

Nodes are ``(mode, graph node)`` for every node of the road, rail and pipeline graphs, plus a
source node and a sink node for every place. Arcs:

- *edge* arcs: both directions of every usable graph edge (rail edges with
  ``freight=False`` are left out; pipeline edges carry only the commodities they allow);
- *transfer* arcs at a terminal between two of the modes it is linked to (a lift);
- *source* arcs from a place to the road graph (no lift: truck loading is in the road rate)
  and, when the place is itself a terminal of a non-road mode (a siding), to that mode's
  graph (a lift); *sink* arcs likewise into a place.

**Lift.** Every lift at a terminal -- a mode change between two legs, or loading/unloading a
rail or pipeline leg directly at an origin/destination place that is itself a terminal of
that mode (a siding) -- costs the terminal's ``handling_cny_per_t`` and counts once against
its ``capacity_t``. Road legs start and end at places without a lift.

**Reserved lines.** An edge with ``users`` (a private siding, :mod:`networks.sidings`) is
open only to flows whose ``shipper`` is one of them (case ignored). Costs are therefore
those of a flow's *cost class* (:meth:`MultimodalGraph.cost_class`): its commodity, or,
for a shipper that some reserved edge lists, ``(commodity, shipper)``. A class's arc costs
are its commodity's, with the reserved arcs it may not use at ``inf``, exactly as
pipeline arcs are for commodities they do not take; without reserved edges the classes are
the commodities and nothing changes.

**Cost of a chain per tonne** = sum over legs of generalised ``cny_per_tkm`` x km (link
offsets included) + ``cny_per_t`` of the mode at every entry into a mode + handling of every
lift. Generalised = money + carbon price x CO2.

(Longer than 500 lines on purpose: building the arcs and reading chains back from them
share the per-arc arrays, and each half alone would be the other's internals.)
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import networkx as nx
import numpy as np
import scipy.sparse as sp

from freight import tolerances as tol
from freight.problem import MODES, Chain, Costs, Flow, Leg
from networks import Network, Place

MODE_INDEX = {m: i for i, m in enumerate(MODES)}
EDGE, TRANSFER, SOURCE, SINK = 0, 1, 2, 3
RowKey = tuple
_T = TypeVar("_T")
#: What arc costs depend on: a commodity id, or (commodity, shipper) for a shipper that a
#: reserved edge lists (see the module docstring).
CostClass = str | tuple[str, str]


def commodity_of(cost_class: CostClass) -> str:
    """The commodity of a cost class."""
    return cost_class if isinstance(cost_class, str) else cost_class[0]


_LP_SAFE = re.compile(r"[A-Za-z0-9_]{1,40}")


def lp_key(text: str) -> str:
    """A stable ASCII key for an id in LP names (letters, digits, underscore), one per id.

    An id that is already such a name (at most 40 characters) is its own key; any other
    id -- 甲站, "a b", a long one -- keeps its ASCII letters and digits (at most 24) and
    gets the first 10 hex digits of the SHA-256 of its UTF-8 bytes: ``甲站`` ->
    ``u103377fc13``, ``"Xinfa 1"`` -> ``Xinfa_1_`` + digest. Replacing every
    other character by ``_`` (as before) made 甲站 and 乙站 one name, ``terminal___``. The
    same id gives the same key in every run and process (a warm start's basis and rows
    are keyed by name); the labels for people are the rows' ``label`` (bottlenecks.csv)
    and the names table an exported LP comes with (:meth:`freight.model.Master.export_lp`).

    Examples
    --------
    >>> lp_key("mine_01"), lp_key("甲站") != lp_key("乙站")
    ('mine_01', True)
    """
    text = str(text)
    if _LP_SAFE.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    ascii_part = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")[:24]
    return f"{ascii_part}_{digest}" if ascii_part else f"u{digest}"


class ArcArrays(NamedTuple):
    """Per-arc attributes as arrays (:attr:`MultimodalGraph.arc_arrays`)."""

    kind: np.ndarray
    row: np.ndarray
    km: np.ndarray  # over all modes
    head_node: np.ndarray  # the head's node id in its mode's graph, -1 at a place
    tail_km: np.ndarray  # km in the tail's mode
    head_km: np.ndarray  # km in the head's mode
    mode: np.ndarray
    head_mode: np.ndarray
    place: list[str]  # the place id of a lift, source or sink arc, else ""


@dataclass(frozen=True)
class Row:
    """A capacity the master LP protects: one direction of an edge, or a terminal."""

    key: RowKey  # ("edge", mode, u, v) or ("terminal", place_id)
    name: str  # cap_<mode>_<u>_<v> or terminal_<place_id>
    kind: str  # "edge" | "terminal"
    capacity_t: float
    label: str
    lon: float
    lat: float


@dataclass
class Column:
    """A chain offered to one flow, with its cost (penalty included) and row usage."""

    flow_id: str
    chain: Chain
    cost_cny_per_t: float
    rows: dict[int, int]

    @functools.cached_property
    def signature(self) -> tuple:
        """Identity of the column: flow, lifts and legs (kept: asked for at every round)."""
        return (
            self.flow_id,
            self.chain.lifts,
            tuple((leg.mode, leg.nodes, round(leg.km, 9)) for leg in self.chain.legs),
        )


def is_compliant(legs: tuple[Leg, ...] | list[Leg], max_access_km: float) -> bool:
    """Whether legs form the rule's rail/pipeline chain.

    An optional road access leg of at most ``max_access_km`` from the origin, then one or
    more rail/pipeline legs joined directly at terminals, then an optional road egress leg
    of at most ``max_access_km`` to the destination.
    """
    legs = list(legs)
    tol_km = tol.KM_REL * max(1.0, max_access_km)
    if legs and legs[0].mode == "road":
        if legs[0].km > max_access_km + tol_km:
            return False
        legs = legs[1:]
    if legs and legs[-1].mode == "road":
        if legs[-1].km > max_access_km + tol_km:
            return False
        legs = legs[:-1]
    return bool(legs) and all(leg.mode != "road" for leg in legs)


def lightest_csr(
    tail: np.ndarray, head: np.ndarray, weights: np.ndarray, n: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """An ``n`` x ``n`` CSR matrix of the arcs ``tail -> head`` with finite ``weights``:
    of parallel arcs the lightest (the first of equals), and, aligned with the matrix's
    data, the index of the arc each entry stands for."""
    ok = np.flatnonzero(np.isfinite(weights))
    order = ok[np.lexsort((weights[ok], head[ok], tail[ok]))]
    t, h = tail[order], head[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    order, t, h = order[keep], t[keep], h[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, t + 1, 1)
    return sp.csr_matrix((weights[order], h, np.cumsum(indptr)), shape=(n, n)), order


class MultimodalGraph:
    """The expanded graph of a :class:`~networks.Network` for a set of :class:`Costs`.

    Parameters
    ----------
    network : Network
        Graphs, places and links.
    costs : Costs
        Cost factors by mode and commodity.
    """

    def __init__(self, network: Network, costs: Costs) -> None:
        self.network = network
        self.costs = costs
        self.node_mode: list[int] = []
        self.node_graph: list[int] = []
        self.node_index: dict[tuple[str, int], int] = {}
        for m in MODES:
            g = network.graphs.get(m)
            if g is None:
                continue
            for n in sorted(g.nodes):
                self.node_index[(m, n)] = len(self.node_mode)
                self.node_mode.append(MODE_INDEX[m])
                self.node_graph.append(n)
        self.n_layer = len(self.node_mode)
        self.place_ids = sorted(network.places)
        self.place_index = {p: i for i, p in enumerate(self.place_ids)}
        self.n_nodes = self.n_layer + 2 * len(self.place_ids)
        self.rows: list[Row] = []
        self.row_index: dict[RowKey, int] = {}
        self.row_names: set[str] = set()  # every row's LP name, unique
        self._build_arcs()
        self._cost_cache: dict[CostClass, tuple[np.ndarray, np.ndarray]] = {}
        self._derived: dict[tuple[type, tuple[Hashable, ...]], object] = {}

    def derived(self, kind: type[_T], *key: Hashable) -> _T:
        """The ``kind`` object kept on this graph for ``key``, made by ``kind()`` the first
        time it is asked for.

        What is computed from the graph alone (and the key: a ``max_access_km``, say) --
        bounded road searches, zero-dual cheapest chains, the rule's checks -- goes in a
        typed cache class of the module that computes it, kept here for every later
        pricing and for the policy-off run on the same graph; :meth:`recosted` starts
        with none.
        """
        hit = self._derived.get((kind, key))
        if hit is None:
            hit = self._derived[(kind, key)] = kind()
        assert isinstance(hit, kind)
        return hit

    # ------------------------------------------------------------------ building
    def src(self, place_id: str) -> int:
        return self.n_layer + 2 * self.place_index[place_id]

    def snk(self, place_id: str) -> int:
        return self.n_layer + 2 * self.place_index[place_id] + 1

    def _row(self, key: RowKey, capacity: float, label: str, lon: float, lat: float) -> int:
        if not math.isfinite(capacity):
            return -1
        if key not in self.row_index:
            if key[0] == "edge":
                name = f"cap_{key[1]}_{key[2]}_{key[3]}"
            else:
                name = f"terminal_{lp_key(key[1])}"
            if name in self.row_names:  # an id that looks like another's key: still unique
                name = f"{name}_{len(self.rows)}"
            self.row_names.add(name)
            self.row_index[key] = len(self.rows)
            self.rows.append(Row(key, name, key[0], float(capacity), label, lon, lat))
        return self.row_index[key]

    def _build_arcs(self) -> None:
        """The arcs, in order: both directions of every usable edge, mode by mode; then,
        place by place, its source and sink arcs and its transfers (:class:`_ArcLists`)."""
        arcs = _ArcLists()
        for m in MODES:
            g = self.network.graphs.get(m)
            if g is not None:
                self._edge_arcs(arcs, m, g)
        for pid in self.place_ids:
            self._place_arcs(arcs, pid)
        self.tail = np.asarray(arcs.tail, dtype=np.int64)
        self.head = np.asarray(arcs.head, dtype=np.int64)
        self.km = np.asarray(arcs.km, dtype=float).reshape(-1, 3)
        self.entries = np.asarray(arcs.entries, dtype=float).reshape(-1, 3)
        self.handling = np.asarray(arcs.handling, dtype=float)
        # a lift: a transfer, or a place's source/sink arc into or out of a non-road mode
        self.is_lift = np.asarray(arcs.lift, dtype=bool)
        self.row = np.asarray(arcs.row, dtype=np.int64)
        self.kind = np.asarray(arcs.kind, dtype=np.int8)
        self.place = np.asarray(arcs.place, dtype=np.int64)
        self.arc_commodities = arcs.commodities
        self.reserved: dict[int, frozenset[str]] = arcs.reserved
        self.reserved_for: frozenset[str] = frozenset().union(*arcs.reserved.values())
        # mode of the arc's head layer node (for transfers: the new mode); for sinks: tail
        node_mode = np.asarray(self.node_mode + [-1] * (2 * len(self.place_ids)), dtype=np.int64)
        self.tail_mode = node_mode[self.tail]
        self.head_mode = node_mode[self.head]
        self.arc_mode = np.where(self.kind == SINK, self.tail_mode, self.head_mode)
        is_layer = (self.kind == EDGE) | (self.kind == TRANSFER)
        self.road_edge = (self.kind == EDGE) & (self.arc_mode == MODE_INDEX["road"])
        self.main_haul = is_layer & (self.tail_mode != 0) & (self.head_mode != 0)
        self.out_arcs = _adjacency(self.tail, self.n_nodes)
        self.in_arcs = _adjacency(self.head, self.n_nodes)
        self.merged: dict[int, int] = {}
        self._merge_series_rows()

    def _edge_arcs(self, arcs: _ArcLists, m: str, g: nx.Graph) -> None:
        """Both directions of every edge of mode ``m``'s graph that carries freight."""
        mi = MODE_INDEX[m]
        for u, v, d in g.edges(data=True):
            if m == "rail" and not d.get("freight", True):
                continue
            length = float(d["length_km"])
            cap = float(d.get("capacity_t", math.inf))
            commodities = d.get("commodities") if m == "pipeline" else None
            users = d.get("users")
            name = d.get("name", "") or ""
            for a, b in ((u, v), (v, u)):
                kms = [0.0, 0.0, 0.0]
                kms[mi] = length
                xa, ya = g.nodes[a].get("x", 0.0), g.nodes[a].get("y", 0.0)
                xb, yb = g.nodes[b].get("x", 0.0), g.nodes[b].get("y", 0.0)
                label = f"{m} {name or ''} {a}→{b}".replace("  ", " ")
                r = self._row(("edge", m, a, b), cap, label, (xa + xb) / 2, (ya + yb) / 2)
                t, h = self.node_index[(m, a)], self.node_index[(m, b)]
                arcs.add(t, h, kms, [0, 0, 0], 0.0, r, EDGE, -1, commodities, users)

    def _place_arcs(self, arcs: _ArcLists, pid: str) -> None:
        """A place's source and sink arcs to each mode it is linked to (a lift into a
        non-road mode at a terminal only: a siding), and at a terminal of two or more
        modes, a transfer between each ordered pair."""
        place = self.network.places[pid]
        links = self.network.links.get(pid, {})
        pi = self.place_index[pid]
        linked = [m for m in MODES if m in links and (m, links[m].node) in self.node_index]
        term_row = -1
        if place.is_terminal:
            term_row = self._row(
                ("terminal", pid), place.capacity_t, f"{place.name} ({pid})", place.lon, place.lat
            )
        for m in linked:
            mi = MODE_INDEX[m]
            node = self.node_index[(m, links[m].node)]
            kms = [0.0, 0.0, 0.0]
            kms[mi] = float(links[m].offset_km)
            entries = [0, 0, 0]
            entries[mi] = 1
            lift = m != "road"
            if lift and not place.is_terminal:
                continue
            h = place.handling_cny_per_t if lift else 0.0
            r = term_row if lift else -1
            arcs.add(self.src(pid), node, kms, entries, h, r, SOURCE, pi, lift=lift)
            arcs.add(node, self.snk(pid), kms, [0, 0, 0], h, r, SINK, pi, lift=lift)
        if not place.is_terminal or len(linked) < 2:
            return
        for a in linked:
            for b in linked:
                if a == b:
                    continue
                kms = [0.0, 0.0, 0.0]
                kms[MODE_INDEX[a]] += float(links[a].offset_km)
                kms[MODE_INDEX[b]] += float(links[b].offset_km)
                entries = [0, 0, 0]
                entries[MODE_INDEX[b]] = 1
                t, h = self.node_index[(a, links[a].node)], self.node_index[(b, links[b].node)]
                hand = place.handling_cny_per_t
                arcs.add(t, h, kms, entries, hand, term_row, TRANSFER, pi, lift=True)

    def _merge_series_rows(self) -> None:
        """Keep one capacity row per run of arcs in series.

        A *pass-through* node has exactly two edge neighbours and no other arc (no place,
        no transfer): a simple path that enters it along one edge leaves along the other.
        So a run of arcs through pass-through nodes is used whole or not at all, by every
        chain (chains are simple paths), and its tightest capacity implies the others. The
        run's tightest row stays on its arc (``self.row``); the other arcs get no row and
        their rows map to it in :attr:`merged` (row -> row kept). Exact, and it keeps the
        master free of the duplicate rows a line cut into many edges would bring.
        """
        n = self.n_nodes
        edge = self.kind == EDGE
        out_e = np.bincount(self.tail[edge], minlength=n)
        in_e = np.bincount(self.head[edge], minlength=n)
        other = np.bincount(self.tail[~edge], minlength=n) + np.bincount(
            self.head[~edge], minlength=n
        )
        through = (out_e == 2) & (in_e == 2) & (other == 0)
        ptr, ids = self.out_arcs
        starts = np.flatnonzero(edge & ~through[self.tail] & through[self.head])
        for a in starts.tolist():
            run, cur = [a], a
            while through[self.head[cur]] and len(run) <= n:
                v = int(self.head[cur])
                x, y = (int(b) for b in ids[ptr[v] : ptr[v + 1]])
                cur = x if self.head[x] != self.tail[cur] else y
                run.append(cur)
            capped = [(self.rows[self.row[b]].capacity_t, i) for i, b in enumerate(run)
                      if self.row[b] >= 0]  # fmt: skip
            if len(capped) < 2:
                continue
            keep = int(self.row[run[min(capped)[1]]])
            for b in run:
                if self.row[b] >= 0 and self.row[b] != keep:
                    self.merged[int(self.row[b])] = keep
                    self.row[b] = -1

    def road_only_arcs(self) -> np.ndarray:
        """Arcs a road-only chain may use: road edges and the road links of places."""
        return self.road_edge | (
            ((self.kind == SOURCE) | (self.kind == SINK)) & (self.arc_mode == 0)
        )

    # ------------------------------------------------------------------ costs
    def cost_class(self, flow: Flow) -> CostClass:
        """The cost class of ``flow``: ``(commodity, shipper)`` when a reserved edge lists
        its shipper, else its commodity (see the module docstring)."""
        shipper = flow.shipper.strip().casefold()
        return (flow.commodity, shipper) if shipper in self.reserved_for else flow.commodity

    def arc_costs(self, cost_class: CostClass) -> tuple[np.ndarray, np.ndarray]:
        """Generalised cost (CNY/t) and CO2 (g/t) of every arc for a cost class (a
        commodity, or ``(commodity, shipper)``: :meth:`cost_class`).

        Arcs the class may not use cost ``inf``: pipeline edges that do not take the
        commodity, and reserved edges that do not list the shipper.
        """
        if cost_class not in self._cost_cache:
            commodity = commodity_of(cost_class)
            shipper = None if isinstance(cost_class, str) else cost_class[1]
            g = np.array([self.costs.generalised_cny_per_tkm(m, commodity) for m in MODES])
            e = np.array([self.costs.of(m, commodity).cny_per_t for m in MODES])
            co2 = np.array([self.costs.of(m, commodity).co2_g_per_tkm for m in MODES])
            cost = self.km @ g + self.entries @ e + self.handling
            lift_cost = self.costs.lift_cny_per_t(commodity)
            if lift_cost:
                cost = cost + lift_cost * self.is_lift
            banned = np.array(
                [c is not None and commodity not in c for c in self.arc_commodities], dtype=bool
            )
            for a, users in self.reserved.items():
                banned[a] |= shipper not in users
            cost = np.where(banned, np.inf, cost)
            self._cost_cache[cost_class] = (cost, self.km @ co2)
        return self._cost_cache[cost_class]

    def recosted(self, costs: Costs, places: dict[str, Place]) -> MultimodalGraph:
        """This graph under other cost factors and handling charges, sharing its arcs.

        The arcs, rows and capacities stay (they do not depend on costs); what depends on
        them -- the handling of every lift, the per-commodity arc costs, the caches
        (:meth:`derived`) -- is made anew. ``places`` must be this graph's places with
        other handling charges.
        """
        out = copy.copy(self)
        out.costs = costs
        out.network = dataclasses.replace(self.network, places=places)
        hand = np.zeros(len(self.kind))
        lift = np.flatnonzero(self.is_lift)
        pid = [self.place_ids[p] for p in self.place[lift].tolist()]
        hand[lift] = [places[p].handling_cny_per_t for p in pid]
        out.handling = hand
        out._cost_cache = {}  # noqa: SLF001 -- a copy of this very class
        out._derived = {}  # noqa: SLF001 -- a copy of this very class
        return out

    def detached(self) -> MultimodalGraph:
        """This graph without the networkx graphs it was built from (its ``network`` keeps
        the places and links, and the caches stay): what a helper process needs, pickled
        in a fraction of the time and memory. Nothing reads those graphs once the arcs
        are built."""
        out = copy.copy(self)
        out.network = dataclasses.replace(self.network, graphs={})
        return out

    def chain_cost(self, chain: Chain, commodity: str) -> tuple[float, float]:
        """Cost (CNY/t) and CO2 (g/t) of ``chain`` from its legs and lifts under this
        graph's costs: each leg its km at the mode's generalised rate plus the mode's
        ``cny_per_t`` once, each lift its place's handling plus the dwell's time cost --
        what the chain's arcs sum to (:meth:`arc_costs`), up to rounding."""
        cost = co2 = 0.0
        for leg in chain.legs:
            f = self.costs.of(leg.mode, commodity)
            cost += self.costs.generalised_cny_per_tkm(leg.mode, commodity) * leg.km
            cost += f.cny_per_t
            co2 += f.co2_g_per_tkm * leg.km
        lift = self.costs.lift_cny_per_t(commodity)
        places = self.network.places
        for pid in chain.lifts:
            cost += places[pid].handling_cny_per_t + lift
        return cost, co2

    # ------------------------------------------------------------------ sparse graphs
    def csr(
        self,
        weights: np.ndarray,
        mask: np.ndarray,
        *,
        local: np.ndarray | None = None,
        size: int | None = None,
        reverse: bool = False,
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """A CSR matrix of the arcs in ``mask`` with finite ``weights``.

        Parallel arcs keep the lightest; returns the matrix and, aligned with its data,
        the arc index each entry stands for. ``local`` (global node -> local index) and
        ``size`` build the matrix on a subset of nodes; ``reverse`` turns every arc around.
        """
        sel = np.flatnonzero(mask)
        tail, head = (self.head, self.tail) if reverse else (self.tail, self.head)
        n = self.n_nodes
        if local is not None:
            tail, head, n = local[tail], local[head], int(size)  # type: ignore[arg-type]
        mat, order = lightest_csr(tail[sel], head[sel], weights[sel], n)
        return mat, sel[order]

    @staticmethod
    def path_nodes(pred: np.ndarray, source: int, target: int) -> np.ndarray:
        """The nodes of the shortest path from ``source`` to ``target`` of a predecessor row."""
        nodes = [target]
        item = pred.item
        node = target
        while node != source:
            node = int(item(node))
            if node < 0:
                raise ValueError("target not reached")
            nodes.append(node)
        return np.array(nodes[::-1], dtype=np.int64)

    @staticmethod
    def arcs_between(mat: sp.csr_matrix, arc_of: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """The arcs (``arc_of`` of the matrix entries) joining consecutive ``nodes``,
        found for the whole path at once: every entry of each tail's row is compared with
        the next node (rows hold one entry per head, see :meth:`csr`)."""
        tails, heads = nodes[:-1], nodes[1:]
        if len(tails) == 0:
            return np.zeros(0, dtype=np.int64)
        lo = mat.indptr[tails]
        deg = mat.indptr[tails + 1] - lo
        width = int(deg.max())
        idx = lo[:, None] + np.arange(width)
        ok = np.arange(width) < deg[:, None]
        idx = np.where(ok, idx, 0)
        hit = ok & (mat.indices[idx] == heads[:, None])
        if not hit.any(axis=1).all():
            raise ValueError("no arc between consecutive nodes")
        return np.asarray(arc_of[lo + hit.argmax(axis=1)], dtype=np.int64)

    @classmethod
    def path_arcs(
        cls, mat: sp.csr_matrix, arc_of: np.ndarray, pred: np.ndarray, source: int, target: int
    ) -> list[int]:
        """The arcs of the shortest path to ``target`` from a predecessor row."""
        nodes = cls.path_nodes(pred, source, target)
        return [int(a) for a in cls.arcs_between(mat, arc_of, nodes)]

    # ------------------------------------------------------------------ chains
    def chain_from_arcs(
        self, arcs: list[int] | np.ndarray, cost_class: CostClass, *, max_access_km: float
    ) -> tuple[Chain, dict[int, int]]:
        """Turn a source-to-sink arc sequence into a :class:`Chain` and its row usage.

        The arcs are split into legs where they change mode (the source, transfer and sink
        arcs); each leg's nodes and km are sliced from per-arc arrays built once per graph
        (:attr:`arc_arrays`), not read arc by arc (a chain has ~100 road arcs).
        A leg's km is summed in travel order, as arc-by-arc addition would.
        """
        cost, co2 = self.arc_costs(cost_class)
        kind, row, ksum, heads, tkm, hkm, amode, hmode, lift = self.arc_arrays
        a = np.asarray(arcs, dtype=np.int64)
        k = kind[a]
        bounds = np.flatnonzero(k != EDGE).tolist()
        if not bounds or bounds[0] != 0 or k[-1] != SINK:
            raise ValueError("a chain's arcs run from a source arc to a sink arc")
        rows: dict[int, int] = {}
        r = row[a]
        for x in r[r >= 0].tolist():
            rows[x] = rows.get(x, 0) + 1
        hs = heads[a].tolist()
        ks = ksum[a].tolist()
        ends = a[bounds].tolist()
        legs: list[Leg] = []
        lifts: list[str] = []
        mode = int(amode[ends[0]])
        start = ks[0]
        if mode != 0:
            lifts.append(lift[ends[0]])
        for b0, b1, arc in zip(bounds[:-1], bounds[1:], ends[1:], strict=True):
            if k[b1] == TRANSFER:
                km = sum([start, *ks[b0 + 1 : b1], float(tkm[arc])])
                legs.append(Leg(MODES[mode], tuple(hs[b0:b1]), km))
                lifts.append(lift[arc])
                mode = int(hmode[arc])
                start = float(hkm[arc])
            else:  # the sink
                km = sum([start, *ks[b0 + 1 : b1], ks[b1]])
                legs.append(Leg(MODES[mode], tuple(hs[b0:b1]), km))
                if mode != 0:
                    lifts.append(lift[arc])
        chain = Chain(
            legs=tuple(legs),
            lifts=tuple(lifts),
            cost_cny_per_t=float(cost[a].sum()),
            co2_g_per_t=float(co2[a].sum()),
            compliant=is_compliant(legs, max_access_km),
        )
        return chain, rows

    @functools.cached_property
    def arc_arrays(self) -> ArcArrays:
        """Per-arc attributes a chain is sliced from (:meth:`chain_from_arcs`), built once:
        they depend on the arcs alone, not on costs."""
        n = len(self.kind)
        idx = np.arange(n)
        node_graph = np.append(np.asarray(self.node_graph, dtype=np.int64), -1)
        return ArcArrays(
            np.asarray(self.kind),
            np.asarray(self.row),
            self.km.sum(axis=1),
            node_graph[np.where(self.head < self.n_layer, self.head, -1)],
            self.km[idx, self.tail_mode],
            self.km[idx, self.head_mode],
            np.asarray(self.arc_mode),
            np.asarray(self.head_mode),
            [self.place_ids[p] if p >= 0 else "" for p in self.place.tolist()],
        )

    def rows_of_chain(self, chain: Chain) -> dict[int, int]:
        """Row usage of a chain given by its legs and lifts (for warm starts); rows
        merged into another row of their series (:attr:`merged`) are left out."""
        rows: dict[int, int] = {}
        for leg in chain.legs:
            for a, b in zip(leg.nodes[:-1], leg.nodes[1:], strict=True):
                r = self.row_index.get(("edge", leg.mode, a, b))
                if r is not None and r not in self.merged:
                    rows[r] = rows.get(r, 0) + 1
        for pid in chain.lifts:
            r = self.row_index.get(("terminal", pid))
            if r is not None:
                rows[r] = rows.get(r, 0) + 1
        return rows


@dataclass
class _ArcLists:
    """The arcs of a graph being built, attribute by attribute, in arc order."""

    tail: list[int] = dataclasses.field(default_factory=list)
    head: list[int] = dataclasses.field(default_factory=list)
    km: list[list[float]] = dataclasses.field(default_factory=list)  # by mode
    entries: list[list[int]] = dataclasses.field(default_factory=list)  # into each mode
    handling: list[float] = dataclasses.field(default_factory=list)
    row: list[int] = dataclasses.field(default_factory=list)
    kind: list[int] = dataclasses.field(default_factory=list)
    place: list[int] = dataclasses.field(default_factory=list)
    commodities: list[frozenset[str] | None] = dataclasses.field(default_factory=list)
    lift: list[bool] = dataclasses.field(default_factory=list)
    reserved: dict[int, frozenset[str]] = dataclasses.field(default_factory=dict)  # by arc

    def add(  # noqa: PLR0913 -- one argument per attribute of an arc
        self,
        tail: int,
        head: int,
        km: list[float],
        entries: list[int],
        handling: float,
        row: int,
        kind: int,
        place: int,
        commodities: frozenset[str] | None = None,
        users: frozenset[str] | None = None,
        *,
        lift: bool = False,
    ) -> None:
        """Append one arc; ``users``: the shippers a reserved edge is open to (casefolded
        here)."""
        self.lift.append(lift)
        self.tail.append(tail)
        if users:
            self.reserved[len(self.tail) - 1] = frozenset(u.casefold() for u in users)
        self.head.append(head)
        self.km.append(km)
        self.entries.append(entries)
        self.handling.append(handling)
        self.row.append(row)
        self.kind.append(kind)
        self.place.append(place)
        self.commodities.append(commodities)


def _adjacency(nodes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR-like (indptr, arc ids) grouping arcs by ``nodes``."""
    order = np.argsort(nodes, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, nodes + 1, 1)
    return np.cumsum(indptr), order
