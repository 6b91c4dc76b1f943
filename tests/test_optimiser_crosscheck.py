"""Cross-checks of the column generation against independent algorithms.

1. One commodity, one origin, no capacities, rule off: the optimum equals
   ``networkx.min_cost_flow_cost`` on an expanded graph built here from scratch.
2. With edge and terminal capacities, rule off / hard / soft: the optimum equals an
   arc-based multicommodity LP (one copy of the expanded graph per flow; for flows under
   the rule a copy whose road access/egress states carry the km used, so the
   ``max_access_km`` bound is exact), solved by ``scipy.optimize.linprog(method="highs")``.

Costs, km and tonnes are integers so the network simplex is exact.
"""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from freight.problem import Flow, Policy, Status
from freight.solve import solve
from tests import tinynet as tn

RATE = {"road": 3, "rail": 1, "pipeline": 1}
ENTRY = {"road": 1, "rail": 4, "pipeline": 2}


def random_instance(
    seed: int, *, n_flows: int, capacities: bool, one_origin: bool, reserved: bool = False
):
    """A random small instance; ``reserved``: some rail edges open only to shipper "A"
    (a private siding), flows shipped by "A" or "B" (drawn apart, so the instance is
    otherwise the one of the same seed without)."""
    rng = random.Random(seed)
    nr, nl = rng.randint(3, 6), rng.randint(2, 5)
    road = [(i, rng.randrange(1, i), rng.randint(1, 6)) for i in range(2, nr + 1)]
    for _ in range(rng.randint(0, 3)):
        u, v = rng.sample(range(1, nr + 1), 2)
        if not any({u, v} == {e[0], e[1]} for e in road):
            road.append((u, v, rng.randint(1, 6)))
    if capacities:  # a few road edges with capacities: exercises the Pareto access search
        road = [
            (u, v, km, {"capacity_t": float(rng.randint(10, 40))})
            if rng.random() < 0.25
            else (u, v, km)
            for u, v, km in road
        ]
    rail = []
    for i in range(2, nl + 1):
        attrs = {}
        if capacities and rng.random() < 0.5:
            attrs["capacity_t"] = float(rng.randint(3, 25))
        if rng.random() < 0.1:
            attrs["freight"] = False
        rail.append((100 + i, 100 + rng.randrange(1, i), rng.randint(2, 15), attrs))
    pipe = []
    if rng.random() < 0.5:
        pipe.append(
            (201, 202, rng.randint(2, 12), {"commodities": rng.choice([frozenset({"oil"}), None])})
        )
    places = []
    n_places = rng.randint(3, 6)
    for k in range(n_places):
        links = {"road": (rng.randint(1, nr), float(rng.randint(0, 2)))}
        if rng.random() < 0.6:
            links["rail"] = (100 + rng.randint(1, nl), float(rng.randint(0, 1)))
        if pipe and rng.random() < 0.4:
            links["pipeline"] = (rng.choice([201, 202]), float(rng.randint(0, 1)))
        cap = float(rng.randint(4, 30)) if capacities and rng.random() < 0.4 else math.inf
        places.append(
            tn.place(
                f"P{k}",
                links,
                handling=float(rng.randint(0, 3)),
                capacity=cap,
                kind="station" if len(links) > 1 else "shipper",
            )
        )
    net = tn.network(road=road, rail=rail, pipeline=pipe, places=places)
    flows = []
    for i in range(n_flows):
        o = "P0" if one_origin else f"P{rng.randrange(n_places)}"
        d = rng.choice([f"P{k}" for k in range(n_places) if f"P{k}" != o])
        comm = "coal" if one_origin else rng.choice(["coal", "coal", "oil"])
        flows.append(Flow(f"f{i}", comm, o, d, float(rng.randint(1, 20))))
    if reserved:
        side = random.Random(seed + 1)
        rail = [
            (u, v, km, {**attrs, "users": {"A"}}) if side.random() < 0.4 else (u, v, km, attrs)
            for u, v, km, attrs in rail
        ]
        net = tn.network(road=road, rail=rail, pipeline=pipe, places=places)
        flows = [
            Flow(
                f.id,
                f.commodity,
                f.origin,
                f.destination,
                f.tonnes,
                shipper=side.choice(["A", "B"]),
            )
            for f in flows
        ]
    policy = Policy(
        commodities=frozenset({"coal", "oil"}),
        threshold_km=float(rng.randint(3, 15)),
        max_access_km=float(rng.randint(2, 6)),
        enforcement="off",
        penalty_cny_per_t=float(rng.randint(1, 20)),
    )
    cost = tn.costs(
        road=(RATE["road"], ENTRY["road"], 60.0),
        rail=(RATE["rail"], ENTRY["rail"], 10.0),
        pipeline=(RATE["pipeline"], ENTRY["pipeline"], 5.0),
    )
    return tn.problem(net, flows, cost=cost, policy=policy)


# ---------------------------------------------------------------- independent expansion
def _usable(net, mode, data, commodity, shipper=""):
    if mode == "rail" and not data["freight"]:
        return False
    if "users" in data and shipper not in data["users"]:
        return False  # a private siding
    c = data["commodities"]
    return c is None or commodity in c


def general_arcs(net, commodity, penalty=0.0, shipper=""):
    """(tail, head, cost, resource) of the plain expanded graph; ``penalty`` on sources."""
    arcs = []
    for mode, g in net.graphs.items():
        for u, v, d in g.edges(data=True):
            if _usable(net, mode, d, commodity, shipper):
                for a, b in ((u, v), (v, u)):
                    arcs.append(
                        ((mode, a), (mode, b), RATE[mode] * d["length_km"], ("edge", mode, a, b))
                    )
    for pid, p in net.places.items():
        lk = net.links[pid]
        r = lk["road"]
        arcs.append(
            (
                ("src", pid),
                ("road", r.node),
                RATE["road"] * r.offset_km + ENTRY["road"] + penalty,
                None,
            )
        )
        arcs.append((("road", r.node), ("snk", pid), RATE["road"] * r.offset_km, None))
        for m, link in lk.items():
            if m == "road":
                continue
            c = RATE[m] * link.offset_km + p.handling_cny_per_t
            arcs.append((("src", pid), (m, link.node), c + ENTRY[m] + penalty, ("terminal", pid)))
            arcs.append(((m, link.node), ("snk", pid), c, ("terminal", pid)))
        for a in lk:
            for b in lk:
                if a != b:
                    c = (
                        RATE[a] * lk[a].offset_km
                        + RATE[b] * lk[b].offset_km
                        + p.handling_cny_per_t
                        + ENTRY[b]
                    )
                    arcs.append(((a, lk[a].node), (b, lk[b].node), c, ("terminal", pid)))
    return arcs


def compliant_arcs(net, commodity, origin, destination, max_km, shipper=""):
    """The expanded graph of compliant chains: road states carry the km used so far."""
    M = int(max_km)
    arcs = []
    road = net.graphs["road"]
    for stage in ("acc", "egr"):
        for u, v, d in road.edges(data=True):
            for a, b in ((u, v), (v, u)):
                for k in range(M + 1 - int(d["length_km"])):
                    arcs.append(
                        (
                            (stage, a, k),
                            (stage, b, k + int(d["length_km"])),
                            RATE["road"] * d["length_km"],
                            ("edge", "road", a, b),
                        )
                    )
    for mode in ("rail", "pipeline"):
        for u, v, d in net.graphs[mode].edges(data=True):
            if _usable(net, mode, d, commodity, shipper):
                for a, b in ((u, v), (v, u)):
                    arcs.append(
                        ((mode, a), (mode, b), RATE[mode] * d["length_km"], ("edge", mode, a, b))
                    )
    for pid, p in net.places.items():
        lk = net.links[pid]
        h = p.handling_cny_per_t
        ro = int(lk["road"].offset_km)
        if pid == origin and ro <= M:
            arcs.append(
                (
                    ("src", pid),
                    ("acc", lk["road"].node, ro),
                    RATE["road"] * ro + ENTRY["road"],
                    None,
                )
            )
        if pid == destination:
            for k in range(M + 1 - ro):
                arcs.append((("egr", lk["road"].node, k), ("snk", pid), RATE["road"] * ro, None))
        for m, link in lk.items():
            if m == "road":
                continue
            c = RATE[m] * link.offset_km + h
            arcs.append((("src", pid), (m, link.node), c + ENTRY[m], ("terminal", pid)))
            arcs.append(((m, link.node), ("snk", pid), c, ("terminal", pid)))
            for k in range(M + 1 - ro):  # access leg ends here: road -> m
                arcs.append(
                    (
                        ("acc", lk["road"].node, k),
                        (m, link.node),
                        c + RATE["road"] * ro + ENTRY[m],
                        ("terminal", pid),
                    )
                )
            if ro <= M:  # egress leg starts here: m -> road
                arcs.append(
                    (
                        (m, link.node),
                        ("egr", lk["road"].node, ro),
                        c + RATE["road"] * ro + ENTRY["road"],
                        ("terminal", pid),
                    )
                )
            for m2, link2 in lk.items():
                if m2 not in ("road", m):
                    arcs.append(
                        (
                            (m, link.node),
                            (m2, link2.node),
                            c + RATE[m2] * link2.offset_km + ENTRY[m2],
                            ("terminal", pid),
                        )
                    )
    return arcs


def eligible(prob, flow):
    net, pol = prob.network, prob.policy
    lo, ld = net.links[flow.origin]["road"], net.links[flow.destination]["road"]
    haul = nx.shortest_path_length(net.graphs["road"], lo.node, ld.node, weight="length_km")
    haul += lo.offset_km + ld.offset_km
    g = nx.DiGraph()
    g.add_edges_from(
        (t, h)
        for t, h, _, _ in compliant_arcs(
            net, flow.commodity, flow.origin, flow.destination, pol.max_access_km, flow.shipper
        )
    )
    reach = (
        ("src", flow.origin) in g
        and ("snk", flow.destination) in g
        and nx.has_path(g, ("src", flow.origin), ("snk", flow.destination))
    )
    return flow.commodity in pol.commodities and haul >= pol.threshold_km and reach


def arc_lp(prob):
    """Arc-based multicommodity LP; returns the optimum or None when infeasible."""
    net, pol = prob.network, prob.policy
    cols, caps = [], {}
    for fi, f in enumerate(prob.flows):
        elig = pol.enforcement != "off" and eligible(prob, f)
        copies = []
        if not elig or pol.enforcement == "soft":
            pen = pol.penalty_cny_per_t if elig else 0.0
            copies.append(general_arcs(net, f.commodity, pen, f.shipper))
        if elig:
            copies.append(
                compliant_arcs(
                    net, f.commodity, f.origin, f.destination, pol.max_access_km, f.shipper
                )
            )
        for ci, arcs in enumerate(copies):
            for t, h, c, res in arcs:
                cols.append((fi, (ci, t), (ci, h), c, res))
    for mode, g in net.graphs.items():
        for u, v, d in g.edges(data=True):
            if math.isfinite(d["capacity_t"]):
                caps[("edge", mode, u, v)] = caps[("edge", mode, v, u)] = d["capacity_t"]
    for pid, p in net.places.items():
        if math.isfinite(p.capacity_t):
            caps[("terminal", pid)] = p.capacity_t
    node_id: dict = {}
    eq_r, eq_c, eq_v, ub_r, ub_c, cost = [], [], [], [], [], []
    cap_row = {k: i for i, k in enumerate(caps)}
    for j, (fi, t, h, c, res) in enumerate(cols):
        # src/snk nodes are shared by the copies of a flow: drop the copy index there
        t = t[1] if t[1][0] == "src" else t
        h = h[1] if h[1][0] == "snk" else h
        for node, sign in ((t, 1.0), (h, -1.0)):
            key = (fi, node)
            eq_r.append(node_id.setdefault(key, len(node_id)))
            eq_c.append(j)
            eq_v.append(sign)
        cost.append(c)
        if res in cap_row:
            ub_r.append(cap_row[res])
            ub_c.append(j)
    b_eq = np.zeros(len(node_id))
    for fi, f in enumerate(prob.flows):
        for node, val in ((("src", f.origin), f.tonnes), (("snk", f.destination), -f.tonnes)):
            if (fi, node) not in node_id:
                return None
            b_eq[node_id[(fi, node)]] += val
    a_eq = sp.csr_matrix((eq_v, (eq_r, eq_c)), shape=(len(node_id), len(cols)))
    kw = {}
    if caps:
        kw["A_ub"] = sp.csr_matrix((np.ones(len(ub_r)), (ub_r, ub_c)), shape=(len(caps), len(cols)))
        kw["b_ub"] = np.array(list(caps.values()))
    res = linprog(np.array(cost), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs", **kw)
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return res.fun


def nx_min_cost(prob):
    """networkx min-cost flow on the plain expanded graph (one origin, no capacities)."""
    g = nx.DiGraph()
    for i, (t, h, c, _) in enumerate(general_arcs(prob.network, "coal")):
        mid = ("arc", i)  # a middle node per arc: parallel arcs stay distinct
        g.add_edge(t, mid, weight=int(round(c)))
        g.add_edge(mid, h, weight=0)
    total = sum(f.tonnes for f in prob.flows)
    g.add_node("S", demand=-int(total))
    g.add_edge("S", ("src", prob.flows[0].origin), weight=0)
    for f in prob.flows:  # each destination absorbs exactly its own tonnes
        node = ("snk", f.destination)
        g.nodes[node]["demand"] = g.nodes[node].get("demand", 0) + int(f.tonnes)
    try:
        return nx.min_cost_flow_cost(g)
    except nx.NetworkXUnfeasible:
        return None


SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.integers(0, 10**9))
def test_uncapacitated_single_commodity_equals_networkx(seed):
    prob = random_instance(seed, n_flows=3, capacities=False, one_origin=True)
    expected = nx_min_cost(prob)
    sol = solve(prob)
    if expected is None:
        assert sol.status is Status.INFEASIBLE
        return
    assert sol.status is Status.OPTIMAL
    assert sol.objective_cny == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert sol.iterations <= 2  # no capacity: the first columns are optimal


@pytest.mark.parametrize("reserved", [False, True], ids=["open", "private_sidings"])
@pytest.mark.parametrize("enforcement", ["off", "hard", "soft"])
@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_capacitated_equals_arc_lp(enforcement, reserved, seed):
    """Private sidings: an edge with ``users`` is usable only by those shippers' flows,
    in the arc LP by leaving it out of the others' copies of the graph."""
    prob = random_instance(seed, n_flows=4, capacities=True, one_origin=False, reserved=reserved)
    prob = tn.problem(
        prob.network,
        prob.flows,
        cost=prob.costs,
        policy=Policy(**{**prob.policy.__dict__, "enforcement": enforcement}),
    )
    expected = arc_lp(prob)
    sol = solve(prob)
    if expected is None:
        assert sol.status is Status.INFEASIBLE, sol.objective_cny
        assert sol.message
        return
    assert sol.status is Status.OPTIMAL, sol.message
    assert sol.objective_cny == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert sol.stats["stalled"] == 0
    for f in prob.flows:  # conservation
        assert sol.tonnes_of(f.id) == pytest.approx(f.tonnes, rel=1e-7)
