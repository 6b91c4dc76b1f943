"""An independent reference solver: the arc-based multicommodity LP, built with numpy/scipy and
solved by highspy directly (no PuLP, no column generation).

The model (the one ``freight/expanded_graph.py`` states, re-implemented here from the Network):

- Expanded directed graph: a node per ``(mode, graph node)``; both directions of every
  graph edge (rail edges with ``freight=False`` left out, pipeline edges only for the
  commodities they allow); at a terminal, a *transfer* arc between any two of its linked
  modes (a lift); from each place a *source* arc to the road graph, and to a non-road graph
  when the place is a terminal of that mode (a siding, a lift); *sink* arcs likewise.
- Arc cost per tonne = generalised ``cny_per_tkm`` (money + carbon price) x km (link offsets
  included: a transfer arc carries both offsets, a source/sink arc its own) + the
  ``cny_per_t`` of the mode entered (source arcs and the new mode of a transfer) + the
  terminal's handling on every lift.
- Capacity rows: one per direction of every edge with a finite ``capacity_t`` and one per
  terminal with a finite ``capacity_t`` (every lift counts once), shared by all flows.

Flows are aggregated by (destination, commodity) -- one LP "commodity" per group with many
sources and one sink; that is exact, as no constraint is per flow beyond supply.

**The rule** (``policy.enforcement`` "hard" or "soft"). A flow is *eligible* when its
commodity is covered and its haul (shortest road km between the places, link offsets
included, or great-circle km) is at least ``threshold_km``, and it *has access* when a
compliant chain exists at all (ignoring capacities). A compliant chain is: an optional road
access leg of at most ``max_access_km``, then rail/pipeline legs joined at terminals, then an
optional road egress leg of at most ``max_access_km``. Each group gets a second, *compliant*
layer: a copy of the rail and pipeline graphs (same capacity rows), the non-road transfers,
the sidings, and one direct arc per (origin, terminal) for the access leg and per (terminal,
destination) for the egress leg whose shortest road km (offsets included) is within
``max_access_km``, costed at that shortest distance. Eligible flows with access split their
tonnes between the compliant layer and the ordinary (*free*) layer; in the free layer they
pay ``penalty_cny_per_t`` (soft) or may not go at all (hard). Eligible flows without access
are exempt (they route freely, no penalty).

**Exactness.** Off: exact. Hard/soft: exact when road edges carry no capacity (then the
cheapest road leg between two points is a shortest-km path, because road cost is linear in
km plus one entry charge, so replacing access and egress legs by shortest-distance arcs loses
nothing). :func:`solve_reference` refuses the rule when a road edge has a finite capacity.
A compliant chain of the free layer that happens to be compliant pays the penalty there,
but the same chain without penalty exists in the compliant layer, so the optimum is unchanged.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, dijkstra

MODES: tuple[str, ...] = ("road", "rail", "pipeline")
_M = {m: i for i, m in enumerate(MODES)}


@dataclass(frozen=True)
class ReferenceResult:
    """What the reference returns.

    ``seconds`` is the HiGHS run time, ``build_seconds`` the time to build the arrays.
    ``binding`` counts capacity rows at their bound (slack < 1e-6 relative).
    """

    status: str
    objective_cny: float
    seconds: float
    build_seconds: float
    enforcement: str
    n_cols: int
    n_rows: int
    n_groups: int
    binding: int
    eligible_flows: int = 0
    flows_with_access: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class _Arcs:
    """Growable arc arrays."""

    def __init__(self) -> None:
        self.tail: list[int] = []
        self.head: list[int] = []
        self.km: list[tuple[float, float, float]] = []
        self.ent: list[int] = []  # mode entered, -1 none
        self.hand: list[float] = []
        self.row: list[int] = []
        self.comm: list[frozenset[str] | None] = []

    def add(self, t: int, h: int, km: tuple[float, float, float], ent: int, hand: float,
            row: int, comm: frozenset[str] | None = None) -> None:
        self.tail.append(t)
        self.head.append(h)
        self.km.append(km)
        self.ent.append(ent)
        self.hand.append(hand)
        self.row.append(row)
        self.comm.append(comm)

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.tail)
        return {
            "tail": np.asarray(self.tail, dtype=np.int64),
            "head": np.asarray(self.head, dtype=np.int64),
            "km": np.asarray(self.km, dtype=float).reshape(n, 3),
            "ent": np.asarray(self.ent, dtype=np.int64),
            "hand": np.asarray(self.hand, dtype=float),
            "row": np.asarray(self.row, dtype=np.int64),
        }


def _km3(mode: str, km: float) -> tuple[float, float, float]:
    out = [0.0, 0.0, 0.0]
    out[_M[mode]] = km
    return out[0], out[1], out[2]


class _Expanded:
    """The expanded graph's layer nodes, edge arcs, transfers, capacity rows, place arcs."""

    def __init__(self, network: Any) -> None:
        self.net = network
        self.index: dict[tuple[str, int], int] = {}
        self.node_mode: list[int] = []
        for m in MODES:
            g = network.graphs.get(m)
            if g is None:
                continue
            for n in sorted(g.nodes):
                self.index[(m, n)] = len(self.node_mode)
                self.node_mode.append(_M[m])
        self.n = len(self.node_mode)
        self.caps: list[float] = []
        self.cap_key: dict[tuple, int] = {}
        self.edges = _Arcs()
        road_caps = 0
        for m in MODES:
            g = network.graphs.get(m)
            if g is None:
                continue
            for u, v, d in g.edges(data=True):
                if m == "rail" and not d.get("freight", True):
                    continue
                cap = float(d.get("capacity_t", math.inf))
                comm = d.get("commodities") if m == "pipeline" else None
                for a, b in ((u, v), (v, u)):
                    r = self._cap(("edge", m, a, b), cap)
                    road_caps += m == "road" and r >= 0
                    self.edges.add(self.index[(m, a)], self.index[(m, b)],
                                   _km3(m, float(d["length_km"])), -1, 0.0, r, comm)
        self.road_capacitated = road_caps > 0
        # per place: linked modes -> (layer node, offset km); terminal row
        self.linked: dict[str, dict[str, tuple[int, float]]] = {}
        self.term_row: dict[str, int] = {}
        self.transfers = _Arcs()
        for pid in sorted(network.places):
            p = network.places[pid]
            links = network.links.get(pid, {})
            lk = {m: (self.index[(m, links[m].node)], float(links[m].offset_km))
                  for m in MODES if m in links and (m, links[m].node) in self.index}
            self.linked[pid] = lk
            terminal = any(m != "road" for m in p.modes)
            self.term_row[pid] = self._cap(("terminal", pid), p.capacity_t) if terminal else -1
            if terminal and len(lk) >= 2:
                for a in lk:
                    for b in lk:
                        if a != b:
                            km = [0.0, 0.0, 0.0]
                            km[_M[a]] += lk[a][1]
                            km[_M[b]] += lk[b][1]
                            self.transfers.add(lk[a][0], lk[b][0], (km[0], km[1], km[2]),
                                               _M[b], p.handling_cny_per_t, self.term_row[pid])
        self.E = self.edges.arrays()
        self.E_comm = self.edges.comm
        self.T = self.transfers.arrays()

    def _cap(self, key: tuple, cap: float) -> int:
        if not math.isfinite(cap):
            return -1
        if key not in self.cap_key:
            self.cap_key[key] = len(self.caps)
            self.caps.append(cap)
        return self.cap_key[key]

    def place_arcs(self, pid: str, *, sink: bool, nonroad_only: bool = False
                   ) -> list[tuple[int, tuple[float, float, float], int, float, int]]:
        """(layer node, km, mode entered, handling, row) of a place's source or sink arcs."""
        p = self.net.places[pid]
        terminal = any(m != "road" for m in p.modes)
        out = []
        for m, (node, off) in self.linked[pid].items():
            lift = m != "road"
            if (lift and not terminal) or (nonroad_only and not lift):
                continue
            out.append((node, _km3(m, off), -1 if sink else _M[m],
                        p.handling_cny_per_t if lift else 0.0,
                        self.term_row[pid] if lift else -1))
        return out


def _unit_costs(costs: Any, commodity: str) -> tuple[np.ndarray, np.ndarray]:
    g = np.array([costs.generalised_cny_per_tkm(m, commodity) for m in MODES])
    e = np.array([costs.of(m, commodity).cny_per_t for m in MODES] + [0.0])  # index -1 -> 0
    return g, e


def _road_matrix(x: _Expanded) -> tuple[sp.csr_matrix, np.ndarray]:
    """Road graph as a CSR matrix over local road indices; returns it and layer->local map."""
    road_nodes = np.flatnonzero(np.asarray(x.node_mode) == 0)
    local = np.full(x.n, -1, dtype=np.int64)
    local[road_nodes] = np.arange(len(road_nodes))
    E = x.E
    sel = np.flatnonzero(E["km"][:, 0] > 0) if len(E["tail"]) else np.zeros(0, dtype=np.int64)
    sel = sel[(local[E["tail"][sel]] >= 0) & (local[E["head"][sel]] >= 0)]
    n = len(road_nodes)
    # zero-length road edges would vanish in a sparse matrix: give them a tiny length
    w = np.maximum(E["km"][sel, 0], 1e-12)
    mat = sp.coo_matrix((w, (local[E["tail"][sel]], local[E["head"][sel]])), shape=(n, n)).tocsr()
    mat.sum_duplicates()
    return mat, local


def _road_km(x: _Expanded, mat: sp.csr_matrix, local: np.ndarray, pids: list[str],
             limit: float = np.inf) -> np.ndarray:
    """Shortest road km from each place's road node to every road node (offset included)."""
    src = np.array([local[x.linked[p]["road"][0]] for p in pids], dtype=np.int64)
    uniq, inv = np.unique(src, return_inverse=True)
    if len(uniq) == 0:
        return np.zeros((0, mat.shape[0]))
    dist = dijkstra(mat, directed=True, indices=uniq, limit=limit)
    offs = np.array([x.linked[p]["road"][1] for p in pids])
    return dist[inv] + offs[:, None]


def solve_reference(  # noqa: C901,PLR0912,PLR0915 -- the independent formulation kept in one piece, to be read against the model
    problem: Any,
    *,
    enforcement: str | None = None,
    threads: int | None = None,
    time_limit_s: float | None = None,
    exempt_without_access: bool = True,
    solver: str = "simplex",
    verbose: bool = False,
) -> ReferenceResult:
    """Solve ``problem`` as one arc-based LP with HiGHS.

    Parameters
    ----------
    problem : freight.problem.Problem
        Network, flows, costs, policy.
    enforcement : {"off", "soft", "hard"}, optional
        Override the problem's policy enforcement ("off" is the exact cross-check).
    threads : int, optional
        HiGHS threads.
    time_limit_s : float, optional
        HiGHS time limit.
    exempt_without_access : bool
        Eligible flows with no compliant chain route freely (True, as ``freight.rule``
        defines eligibility) or are held to the rule.
    solver : {"simplex", "ipm", "choose"}
        HiGHS LP algorithm (``ipm`` runs crossover, so the optimum is a vertex either way).

    Examples
    --------
    >>> res = solve_reference(problem, enforcement="off")  # doctest: +SKIP
    >>> res.objective_cny  # doctest: +SKIP
    """
    import highspy

    t0 = time.perf_counter()
    policy = problem.policy
    enf = enforcement or policy.enforcement
    net = problem.network
    x = _Expanded(net)
    if enf != "off" and x.road_capacitated:
        raise ValueError("reference: the rule is exact only with uncapacitated roads")
    mat, local = _road_matrix(x)

    flows = problem.flows
    # --- eligibility --------------------------------------------------------------------
    pair_t: dict[tuple[str, str], dict[str, float]] = {}
    for f in flows:
        pair_t.setdefault((f.destination, f.commodity), {})
        d = pair_t[(f.destination, f.commodity)]
        d[f.origin] = d.get(f.origin, 0.0) + f.tonnes
    eligible: set[tuple[str, str, str]] = set()  # (origin, destination, commodity)
    if enf != "off":
        origins = sorted({f.origin for f in flows})
        if policy.distance == "road":
            dist = _road_km(x, mat, local, origins)
            orow = {o: i for i, o in enumerate(origins)}
        for f in flows:
            if f.commodity not in policy.commodities:
                continue
            if policy.distance == "road":
                dnode, doff = x.linked[f.destination]["road"]
                haul = dist[orow[f.origin], local[dnode]] + doff
            else:
                from networks.io import point_km

                po, pd_ = net.places[f.origin], net.places[f.destination]
                haul = point_km(po.lon, po.lat, pd_.lon, pd_.lat)
            if haul >= policy.threshold_km - 1e-9:
                eligible.add((f.origin, f.destination, f.commodity))

    # --- access / egress distances to terminals ------------------------------------------
    D = policy.max_access_km
    terminals = [p for p in sorted(net.places)
                 if any(m != "road" for m in net.places[p].modes)
                 and any(m != "road" for m in x.linked[p]) and "road" in x.linked[p]]
    t_road = np.array([local[x.linked[t]["road"][0]] for t in terminals], dtype=np.int64)
    t_off = np.array([x.linked[t]["road"][1] for t in terminals])
    near: dict[str, list[tuple[str, float]]] = {}
    if enf != "off" and terminals:
        ends = sorted({e for (o, d, _) in eligible for e in (o, d)})
        if ends:
            dd = _road_km(x, mat, local, ends, limit=D + 1e-9)
            for i, e in enumerate(ends):
                kms = dd[i, t_road] + t_off
                tol = D + 1e-9 * max(1.0, D)
                near[e] = [(terminals[k], float(kms[k])) for k in np.flatnonzero(kms <= tol)]

    # --- the LP, group by group ------------------------------------------------------------
    cols_tail: list[np.ndarray] = []
    cols_head: list[np.ndarray] = []
    cols_cost: list[np.ndarray] = []
    cols_cap: list[np.ndarray] = []
    cols_ub: list[np.ndarray] = []
    rhs: list[np.ndarray] = []
    n_rows = 0
    E, T = x.E, x.T
    nonroad_edge = E["km"][:, 0] == 0  # edges of rail/pipeline
    mode_of = np.asarray(x.node_mode, dtype=np.int64)
    nonroad_tr = (mode_of[T["tail"]] != 0) & (mode_of[T["head"]] != 0)
    nr_nodes = np.flatnonzero(np.asarray(x.node_mode) != 0)
    nr_local = np.full(x.n, -1, dtype=np.int64)
    nr_local[nr_nodes] = np.arange(len(nr_nodes))
    n_elig = n_access = 0
    groups = sorted(pair_t)
    for dest, comm in groups:
        g, e = _unit_costs(problem.costs, comm)
        e_road = e[0]
        supplies = pair_t[(dest, comm)]
        origins = sorted(supplies)
        base = n_rows
        # free layer: rows base .. base+n-1 layer nodes, then sink, then one per origin source
        sink = base + x.n
        src_row = {o: sink + 1 + i for i, o in enumerate(origins)}
        n_rows = sink + 1 + len(origins)
        b = np.zeros(n_rows - base)
        b[x.n] = -sum(supplies.values())
        banned = np.array([c is not None and comm not in c for c in x.E_comm], dtype=bool)
        ok = ~banned
        cost_e = E["km"] @ g + e[E["ent"]] + E["hand"]
        tails = [base + E["tail"][ok]]
        heads = [base + E["head"][ok]]
        cost = [cost_e[ok]]
        cap = [E["row"][ok]]
        if len(T["tail"]):
            tails.append(base + T["tail"])
            heads.append(base + T["head"])
            cost.append(T["km"] @ g + e[T["ent"]] + T["hand"])
            cap.append(T["row"])
        pa_t, pa_h, pa_c, pa_r = [], [], [], []
        for node, km, _ent, hand, row in x.place_arcs(dest, sink=True):
            pa_t.append(base + node)
            pa_h.append(sink)
            pa_c.append(float(np.dot(km, g)) + hand)
            pa_r.append(row)
        # compliant layer rows (allocated lazily)
        comp_base = -1
        comp_src: dict[str, int] = {}
        for o in origins:
            for node, km, ent, hand, row in x.place_arcs(o, sink=False):
                pa_t.append(src_row[o])
                pa_h.append(base + node)
                pa_c.append(float(np.dot(km, g)) + e[ent] + hand)
                pa_r.append(row)
        elig_o = [o for o in origins if (o, dest, comm) in eligible]
        if elig_o:
            comp_base = n_rows
            n_rows += len(nr_nodes)
            for o in elig_o:
                comp_src[o] = n_rows
                n_rows += 1
            b = np.concatenate([b, np.zeros(n_rows - comp_base)])
            # rail/pipeline edges and non-road transfers, copied
            okc = ok & nonroad_edge
            tails.append(comp_base + nr_local[E["tail"][okc]])
            heads.append(comp_base + nr_local[E["head"][okc]])
            cost.append(cost_e[okc])
            cap.append(E["row"][okc])
            if nonroad_tr.any():
                tails.append(comp_base + nr_local[T["tail"][nonroad_tr]])
                heads.append(comp_base + nr_local[T["head"][nonroad_tr]])
                cost.append((T["km"] @ g + e[T["ent"]] + T["hand"])[nonroad_tr])
                cap.append(T["row"][nonroad_tr])
            # destination: siding sink arcs and egress arcs from terminals
            c_t, c_h, c_c, c_r = [], [], [], []
            for node, km, _ent, hand, row in x.place_arcs(dest, sink=True,
                                                           nonroad_only=True):
                c_t.append(comp_base + nr_local[node])
                c_h.append(sink)
                c_c.append(float(np.dot(km, g)) + hand)
                c_r.append(row)
            dnode, doff = x.linked[dest]["road"]
            for t, km_eg in near.get(dest, ()):
                p = net.places[t]
                for m, (node, off) in x.linked[t].items():
                    if m == "road":
                        continue
                    # transfer m -> road at t (m offset, road entry, handling) + road leg
                    c_t.append(comp_base + nr_local[node])
                    c_h.append(sink)
                    c_c.append(g[_M[m]] * off + e_road + p.handling_cny_per_t + g[0] * km_eg)
                    c_r.append(x.term_row[t])
            for o in elig_o:
                for node, km, ent, hand, row in x.place_arcs(o, sink=False, nonroad_only=True):
                    c_t.append(comp_src[o])
                    c_h.append(comp_base + nr_local[node])
                    c_c.append(float(np.dot(km, g)) + e[ent] + hand)
                    c_r.append(row)
                for t, km_ac in near.get(o, ()):
                    p = net.places[t]
                    for m, (node, off) in x.linked[t].items():
                        if m == "road":
                            continue
                        c_t.append(comp_src[o])
                        c_h.append(comp_base + nr_local[node])
                        c_c.append(g[0] * km_ac + e_road + p.handling_cny_per_t
                                   + g[_M[m]] * off + e[_M[m]])
                        c_r.append(x.term_row[t])
            pa_t += c_t
            pa_h += c_h
            pa_c += c_c
            pa_r += c_r
        tails.append(np.asarray(pa_t, dtype=np.int64))
        heads.append(np.asarray(pa_h, dtype=np.int64))
        cost.append(np.asarray(pa_c, dtype=float))
        cap.append(np.asarray(pa_r, dtype=np.int64))
        tl, hd, cs, cp = (np.concatenate(tails), np.concatenate(heads), np.concatenate(cost),
                          np.concatenate(cap))
        keep = np.isfinite(cs)
        tl, hd, cs, cp = tl[keep], hd[keep], cs[keep], cp[keep]
        # access check per eligible origin: is the sink reachable in the compliant layer?
        access: dict[str, bool] = {}
        if elig_o:
            sel = np.flatnonzero(tl >= comp_base)
            if len(sel):
                nn = n_rows - base
                adj = sp.csr_matrix((np.ones(len(sel)), (tl[sel] - base, hd[sel] - base)),
                                    shape=(nn, nn))
                for o in elig_o:
                    order = breadth_first_order(adj, comp_src[o] - base, directed=True,
                                                return_predecessors=False)
                    access[o] = bool(np.any(order == sink - base))
        # supply columns: y (free) and y (compliant) for eligible, fixed rhs otherwise
        s_t, s_h, s_c, s_ub = [], [], [], []
        for o in origins:
            t_o = supplies[o]
            if o in comp_src and access.get(o, False):
                n_elig += 1
                n_access += 1
                # demand: y_free + y_comp = t  -> model as arcs from a super-source row
                sup = n_rows
                n_rows += 1
                b = np.concatenate([b, [t_o]])
                s_t += [sup, sup]
                s_h += [src_row[o], comp_src[o]]
                pen = policy.penalty_cny_per_t if enf == "soft" else 0.0
                s_c += [pen, 0.0]
                s_ub += [0.0 if enf == "hard" else np.inf, np.inf]
            else:
                if o in comp_src:
                    n_elig += 1
                    if not exempt_without_access:
                        pen = policy.penalty_cny_per_t if enf == "soft" else 0.0
                        if enf == "hard":
                            raise ValueError(f"reference: eligible origin {o} has no access")
                        sup = n_rows
                        n_rows += 1
                        b = np.concatenate([b, [t_o]])
                        s_t.append(sup)
                        s_h.append(src_row[o])
                        s_c.append(pen)
                        s_ub.append(np.inf)
                        continue
                b[src_row[o] - base] = t_o
        tl = np.concatenate([tl, np.asarray(s_t, dtype=np.int64)])
        hd = np.concatenate([hd, np.asarray(s_h, dtype=np.int64)])
        cs = np.concatenate([cs, np.asarray(s_c, dtype=float)])
        cp = np.concatenate([cp, np.full(len(s_t), -1, dtype=np.int64)])
        ub = np.concatenate([np.full(len(tl) - len(s_t), np.inf), np.asarray(s_ub, dtype=float)])
        cols_tail.append(tl)
        cols_head.append(hd)
        cols_cost.append(cs)
        cols_cap.append(cp)
        cols_ub.append(ub)
        rhs.append(b)

    tail = np.concatenate(cols_tail)
    head = np.concatenate(cols_head)
    cost = np.concatenate(cols_cost)
    capr = np.concatenate(cols_cap)
    ub = np.concatenate(cols_ub)
    b = np.concatenate(rhs)
    n_flow_rows = n_rows
    ncap = len(x.caps)
    ncol = len(tail)
    has_cap = capr >= 0
    rows = np.concatenate([tail, head, n_flow_rows + capr[has_cap]])
    cols = np.concatenate([np.arange(ncol), np.arange(ncol), np.flatnonzero(has_cap)])
    vals = np.concatenate([np.ones(ncol), -np.ones(ncol), np.ones(int(has_cap.sum()))])
    A = sp.csc_matrix((vals, (rows, cols)), shape=(n_flow_rows + ncap, ncol))
    A.sum_duplicates()
    lower = np.concatenate([b, np.full(ncap, -np.inf)])
    upper = np.concatenate([b, np.asarray(x.caps, dtype=float)])

    lp = highspy.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.where(np.isinf(ub), highspy.kHighsInf, ub)
    lp.row_lower_ = np.where(np.isinf(lower), -highspy.kHighsInf, lower)
    lp.row_upper_ = np.where(np.isinf(upper), highspy.kHighsInf, upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    build_s = time.perf_counter() - t0

    # highspy's base model, its output off before it can print HiGHS's banner on stdout
    # (what freight.model.quiet_highs does; this module stays independent of freight)
    h = highspy._Highs()  # noqa: SLF001
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("solver", solver)
    if threads:
        h.setOptionValue("threads", int(threads))
    if time_limit_s:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    t1 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t1
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    obj = float(info.objective_function_value) if status == "Optimal" else math.nan
    binding = 0
    if status == "Optimal" and ncap:
        act = np.asarray(h.getSolution().row_value)[n_flow_rows:]
        caps = np.asarray(x.caps)
        binding = int(np.sum(act >= caps * (1 - 1e-6) - 1e-6))
    return ReferenceResult(
        status=status,
        objective_cny=obj,
        seconds=seconds,
        build_seconds=build_s,
        enforcement=enf,
        n_cols=ncol,
        n_rows=int(A.shape[0]),
        n_groups=len(groups),
        binding=binding,
        eligible_flows=n_elig,
        flows_with_access=n_access,
        extra={"iterations": int(info.simplex_iteration_count + info.ipm_iteration_count)},
    )
