"""The road ends of compliant chains, for exact pricing: from an origin to every entry
node of the rail/pipeline layer, and from every exit node to a destination, over the
place's own sidings or a road leg within ``max_access_km``
(:mod:`freight.colgen.road_legs`).

With road weights by km (no road duals), all places' ends are combined per round in a few
array operations (:meth:`RoadEnds.table` over an :class:`EndsPlan`, built once per graph);
under road duals, place by place (:meth:`RoadEnds.ends`) from the Pareto searches. Ties
are broken the same way everywhere: a siding, the first in arc order, before a road end;
the first transfer in order among equal road ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from freight import tolerances as tol
from freight.colgen.caches import ChainCache
from freight.colgen.options import SolveOptions
from freight.colgen.road_legs import Access, KmAccess, Layer, RoadLegs
from freight.expanded_graph import CostClass, MultimodalGraph, commodity_of

__all__ = ["Ends", "EndsPlan", "EndsTable", "FarEnds", "KmAccess", "Layer", "RoadEnds"]


@dataclass
class _RoadEnd:
    acc: Access
    val: np.ndarray  # total weight by transfer (road arc + road path + lift)
    road_arc: int
    reverse: bool
    better: np.ndarray  # by entry (exit) node: road beats any siding


@dataclass
class Ends:
    """Best weight to each entry node (from an origin) or from each exit node (to a
    destination), and the arcs of the best way, built on demand."""

    vals: np.ndarray
    sidings: dict[int, list[int]] = field(default_factory=dict)
    road: _RoadEnd | None = None

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
class EndsTable:
    """:class:`Ends` of many places at once: ``vals[index[place]]`` is the place's row
    (best weight to each entry node, or from each exit node); ``path(row, i)`` rebuilds
    the arcs of that best way."""

    index: dict[str, int]
    vals: np.ndarray  # (places, entry or exit nodes)
    path: Callable[[int, int], list[int]]


@dataclass
class EndsPlan:
    """What :meth:`RoadEnds.table` needs of the graph's places, their road ends searched
    by km (no road duals): fixed for every commodity, phase and round.

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
    accs: list[KmAccess | None]
    dense: bool
    km: np.ndarray  # dense: (places, transfers); else flat road km per (place, transfer)
    rt_row: np.ndarray
    rt_t: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    ukey: np.ndarray


class FarEnds(Protocol):
    """Road ends of any length (fast pricing's, :mod:`freight.colgen.fast_pricing`)."""

    def access(self, place: str, road_arc: int, *, reverse: bool) -> KmAccess: ...


class RoadEnds(RoadLegs):
    """The road ends of every place of a graph, for one ``max_access_km`` (see the module
    docstring): its road legs (:class:`~freight.colgen.road_legs.RoadLegs`) and its
    sidings, combined per entry (exit) node. ``far``, when set (fast pricing), gives road
    ends of any length."""

    def __init__(
        self, graph: MultimodalGraph, layer: Layer, max_access_km: float, options: SolveOptions
    ) -> None:
        super().__init__(graph, layer, max_access_km, options)
        self.far: FarEnds | None = None

    # ------------------------------------------------------------------ all places at once
    def table(
        self,
        places: list[str],
        w: np.ndarray,
        commodity: CostClass,
        phase: int,
        cacheable: bool,
        reverse: bool,
        bounded: bool,
        labels: dict | None = None,
    ) -> EndsTable:
        """:meth:`ends` of every place in one table. With road weights by km (``cacheable``
        or not ``bounded``) the rows are computed together from the graph's
        :class:`EndsPlan`: the same values, and ties broken the same way. ``labels``: the
        Pareto searches of this pricing call, by (place, commodity, phase, reverse)."""
        if bounded and not cacheable:
            found = labels if labels is not None else {}
            ends = [
                self.ends(p, w, commodity, phase, cacheable, reverse=reverse, labels=found)
                for p in places
            ]
            vals = np.vstack([e.vals for e in ends])
            return EndsTable(
                {p: k for k, p in enumerate(places)}, vals, lambda r, i: ends[r].path(i)
            )
        plan = self.plan(reverse, bounded)
        lay = self.layer
        n_pos = len(lay.exit_nodes if reverse else lay.entry_nodes)
        g = self.g
        rows = np.array([plan.index[p] for p in places], dtype=np.int64)
        at = np.full(len(plan.index), -1, dtype=np.int64)  # plan row -> row of the table
        at[rows] = np.arange(len(rows))
        # only the rows asked for (a table of every place can be thousands by a thousand)
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

        return EndsTable({p: k for k, p in enumerate(places)}, vals, path)

    def plan(self, reverse: bool, bounded: bool) -> EndsPlan:
        """The :class:`EndsPlan` of every place of the graph (kept on the graph)."""
        plans = self.g.derived(ChainCache, self.max_access_km).ends_plan
        hit = plans.get((reverse, bounded))
        if hit is not None:
            return hit
        places = self.g.place_ids
        if bounded:
            self.prefetch(places, reverse=reverse)
        road_arc, sid_row, sid_pos, sid_arc, accs = self._place_ends(places, reverse, bounded)
        lay = self.layer
        n_pos = len(lay.exit_nodes if reverse else lay.entry_nodes)
        live = [r for r, a in enumerate(accs) if a is not None]
        empty = np.zeros(0, dtype=np.int64)
        if not bounded:  # every place reaches the same transfers, by km (inf: not at all)
            n_t = len(lay.road_out_transfers if reverse else lay.road_in_transfers)
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
        plan = EndsPlan(
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
        plans[(reverse, bounded)] = plan
        return plan

    def _place_ends(
        self, places: list[str], reverse: bool, bounded: bool
    ) -> tuple[np.ndarray, list[int], list[int], list[int], list[KmAccess | None]]:
        """Per place: its road arc (-1: none usable), its sidings (row, entry/exit
        position, arc: flat) and its road ends by km (None: none)."""
        g = self.g
        pos_of = self.layer.exit_pos if reverse else self.layer.entry_pos
        road_arc = np.full(len(places), -1, dtype=np.int64)
        sid_row: list[int] = []
        sid_pos: list[int] = []
        sid_arc: list[int] = []
        accs: list[KmAccess | None] = []
        for r, p in enumerate(places):
            acc = None
            for a in self.end_arcs(p, reverse):
                if g.arc_mode[a] == 0:
                    road_arc[r] = a
                else:
                    sid_row.append(r)
                    sid_pos.append(int(pos_of[g.tail[a] if reverse else g.head[a]]))
                    sid_arc.append(a)
            if road_arc[r] >= 0:
                a = int(road_arc[r])
                if not bounded:
                    assert self.far is not None, "road ends of any length need fast pricing"
                    acc = self.far.access(p, a, reverse=reverse)
                elif self.max_access_km - float(g.km[a, 0]) >= -tol.KM_REL:
                    acc = self.access_by_km(p, reverse=reverse)
                if acc is None or len(acc.transfers) == 0:
                    road_arc[r], acc = -1, None
            accs.append(acc)
        return road_arc, sid_row, sid_pos, sid_arc, accs

    # ------------------------------------------------------------------ one place
    def ends(
        self,
        place: str,
        w: np.ndarray,
        commodity: CostClass,
        phase: int,
        cacheable: bool,
        *,
        reverse: bool,
        bounded: bool = True,
        labels: dict | None = None,
    ) -> Ends:
        """Best weight (and arcs) from the origin to each entry node, or from each exit
        node to the destination, over sidings and road access/egress within the bound
        (of any length when not ``bounded``: fast pricing's road ends by km).

        Pricing calls it for road ends under road duals only (``labels``: the call's
        Pareto searches, reused across its commodities' flows); with road weights by km
        :meth:`table` computes all places at once, and this one-place search is what the
        tests hold that table to."""
        g = self.g
        lay = self.layer
        pos = lay.exit_pos if reverse else lay.entry_pos
        ends = Ends(np.full(len(lay.exit_nodes if reverse else lay.entry_nodes), np.inf))
        road_arc = None
        for a in self.end_arcs(place, reverse):
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
        acc: Access
        if not bounded:
            assert self.far is not None, "road ends of any length need fast pricing"
            acc = self.far.access(place, road_arc, reverse=reverse)
        elif budget < -tol.KM_REL:
            return ends
        elif cacheable:  # road weights proportional to km: the km search is the answer
            acc = self.access_by_km(place, reverse=reverse)
        else:
            found = labels if labels is not None else {}
            key = (place, commodity, phase, reverse)
            hit = found.get(key)
            if hit is None:
                start = int(g.tail[road_arc] if reverse else g.head[road_arc])
                hit = found[key] = self.access(start, budget, w, reverse=reverse)
            acc = hit
        if len(acc.transfers) == 0:
            return ends
        road_best = np.full(len(ends.vals), np.inf)
        if isinstance(acc, KmAccess):
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
        ends.road = _RoadEnd(acc, val, road_arc, reverse, better)
        return ends
