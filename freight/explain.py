"""What the rule says about each flow: haul distance, eligibility, and why tonnes stay on road.

A flow is *eligible* when its commodity is covered by the policy, its haul (shortest road km
origin -> destination, link offsets included; or great-circle km) is at least the threshold,
and a compliant chain exists when capacities are ignored (road access <= max_access_km, one
or more rail/pipeline legs joined at terminals, road egress <= max_access_km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from freight.network_view import SINK, SOURCE, Column, MultimodalGraph
from freight.pricing import FlowRule, Pricer
from freight.problem import Assignment, Binding, Flow, FlowStatus, Problem

REASON_CODES = (
    "below_threshold",
    "commodity_not_covered",
    "no_access",
    "capacity",
    "cheaper_not_eligible",
)


@dataclass(frozen=True)
class FlowCheck:
    """The rule's view of one flow, before any optimisation."""

    haul_km: float
    covered: bool
    above_threshold: bool
    has_access: bool
    cheapest_compliant: Column | None

    @property
    def eligible(self) -> bool:
        return self.covered and self.above_threshold and self.has_access


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance on a 6371.0088 km sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def road_mask(graph: MultimodalGraph) -> np.ndarray:
    """Arcs of road-only chains: road edges and the road links of places."""
    return graph.road_edge | (
        ((graph.kind == SOURCE) | (graph.kind == SINK)) & (graph.arc_mode == 0)
    )


def road_haul_km(problem: Problem, graph: MultimodalGraph) -> dict[str, float]:
    """Shortest road km origin -> destination of every flow, link offsets included.

    One Dijkstra per origin, or per destination on the reversed road graph when the flows
    have fewer destinations, in batches that keep only the distances to the other ends.
    Memoised on the graph by the flows (the checks before solving and the rule's checks
    both ask).
    """
    key = ("road_haul", problem.flows)
    hit = graph.memo.get(key)
    if hit is not None:
        return dict(hit)
    out: dict[str, float] = {}
    if not problem.flows:
        return out
    origins = sorted({f.origin for f in problem.flows})
    dests = sorted({f.destination for f in problem.flows})
    reverse = len(dests) < len(origins)
    km = graph.km.sum(axis=1)
    mat, _ = graph.csr(km, road_mask(graph), reverse=reverse)
    starts, ends = (dests, origins) if reverse else (origins, dests)
    start_nodes = [graph.snk(p) if reverse else graph.src(p) for p in starts]
    end_nodes = np.array([graph.src(p) if reverse else graph.snk(p) for p in ends])
    chunk = max(1, int(2e8 // (8 * max(1, graph.n_nodes))))
    table = np.empty((len(starts), len(ends)))
    for lo in range(0, len(starts), chunk):
        dist = dijkstra(mat, indices=start_nodes[lo : lo + chunk])
        table[lo : lo + chunk] = dist[:, end_nodes]
    row = {p: i for i, p in enumerate(starts)}
    col = {p: i for i, p in enumerate(ends)}
    for f in problem.flows:
        a, b = (f.destination, f.origin) if reverse else (f.origin, f.destination)
        out[f.id] = float(table[row[a], col[b]])
    graph.memo[key] = dict(out)
    return out


def check_flows(problem: Problem, graph: MultimodalGraph) -> dict[str, FlowCheck]:
    """Haul, coverage and access of every flow (capacities ignored).

    Memoised on ``graph`` by the flows and every policy field but the enforcement and the
    penalty, so the policy-off run reuses the rule run's checks.
    """
    pol = problem.policy
    key = (
        "checks",
        problem.flows,
        pol.commodities,
        pol.threshold_km,
        pol.distance,
        pol.max_access_km,
    )
    hit = graph.memo.get(key)
    if hit is not None:
        return dict(hit)
    if pol.distance == "great_circle":
        pl = problem.network.places
        haul = {
            f.id: great_circle_km(
                pl[f.origin].lon, pl[f.origin].lat, pl[f.destination].lon, pl[f.destination].lat
            )
            for f in problem.flows
        }
    else:
        haul = road_haul_km(problem, graph)
    cheapest = Pricer(graph, problem, {}).cheapest(problem.flows)
    tol = 1e-9 * max(1.0, pol.threshold_km)
    checks = {
        f.id: FlowCheck(
            haul_km=haul[f.id],
            covered=f.commodity in pol.commodities,
            above_threshold=haul[f.id] >= pol.threshold_km - tol,
            has_access="compliant" in cheapest[f.id],
            cheapest_compliant=cheapest[f.id].get("compliant"),
        )
        for f in problem.flows
    }
    graph.memo[key] = checks
    return dict(checks)


def rules_for(problem: Problem, checks: dict[str, FlowCheck]) -> dict[str, FlowRule]:
    """Which chains each flow may use under the problem's enforcement."""
    pol = problem.policy
    rules = {}
    for f in problem.flows:
        if pol.enforcement == "off" or not checks[f.id].eligible:
            rules[f.id] = FlowRule(general=True, compliant=False)
        elif pol.enforcement == "hard":
            rules[f.id] = FlowRule(general=False, compliant=True)
        else:
            rules[f.id] = FlowRule(
                general=True, compliant=True, penalty_cny_per_t=pol.penalty_cny_per_t
            )
    return rules


def _capacity_names(
    col: Column, graph: MultimodalGraph, used: dict[int, float], bindings: dict[str, Binding]
) -> list[str]:
    names = []
    for r in col.rows:
        row = graph.rows[r]
        full = used.get(r, 0.0) >= row.capacity_t * (1 - 1e-7) - 1e-6
        b = bindings.get(row.name)
        if b is None and not full:
            continue
        shadow = b.shadow_cny_per_t if b is not None else 0.0
        names.append(
            f"{row.name} ({row.label}, {row.capacity_t:,.0f} t, 影子价格 shadow {shadow:.2f} CNY/t)"
        )
    return names


def explain_flow(
    flow: Flow,
    check: FlowCheck,
    problem: Problem,
    graph: MultimodalGraph,
    road_t: float,
    used: dict[int, float],
    bindings: dict[str, Binding],
) -> tuple[str, str]:
    """The reason code and sentence (Chinese / English) for the flow's road tonnes."""
    pol = problem.policy
    if road_t <= 1e-9 * max(1.0, flow.tonnes):
        return "", ""
    if not check.covered:
        covered = ", ".join(sorted(pol.commodities))
        return (
            "commodity_not_covered",
            f"货类 {flow.commodity} 不在政策货类（{covered}）内 / commodity "
            f"{flow.commodity} is not covered by the rule ({covered})",
        )
    if not check.above_threshold:
        return (
            "below_threshold",
            f"运距 {check.haul_km:.0f} km 低于 {pol.threshold_km:.0f} km 门槛 / haul "
            f"{check.haul_km:.0f} km below the {pol.threshold_km:.0f} km threshold",
        )
    if not check.has_access:
        return (
            "no_access",
            f"两端 {pol.max_access_km:.0f} km 内无可用的铁路或管道场站（或管道不收此货类）"
            f" / no rail or pipeline terminal usable for {flow.commodity} within "
            f"{pol.max_access_km:.0f} km of both ends",
        )
    if pol.enforcement == "off":
        return (
            "cheaper_not_eligible",
            "政策未执行，公路更便宜 / the rule is not enforced and road is cheaper",
        )
    col = check.cheapest_compliant
    names = _capacity_names(col, graph, used, bindings) if col is not None else []
    if names:
        return (
            "capacity",
            "合规链运力已满："
            + "; ".join(names)
            + " / compliant capacity exhausted: "
            + "; ".join(names),
        )
    if pol.enforcement == "soft":
        return (
            "cheaper_not_eligible",
            f"软约束：公路加罚款 {pol.penalty_cny_per_t:.2f} 元/吨更便宜 / soft rule: road "
            f"plus the {pol.penalty_cny_per_t:.2f} CNY/t penalty is cheaper",
        )
    return "", ""


def flow_statuses(
    problem: Problem,
    graph: MultimodalGraph,
    checks: dict[str, FlowCheck],
    assignments: list[Assignment] | tuple[Assignment, ...],
    bindings: list[Binding] | tuple[Binding, ...],
) -> dict[str, FlowStatus]:
    """A status with reason for every flow, given the optimum's assignments."""
    used: dict[int, float] = {}
    road_t: dict[str, float] = {}
    for a in assignments:
        for r, k in graph.rows_of_chain(a.chain).items():
            used[r] = used.get(r, 0.0) + k * a.tonnes
        if a.chain.line_haul_mode() == "road":
            road_t[a.flow_id] = road_t.get(a.flow_id, 0.0) + a.tonnes
    by_name = {b.name: b for b in bindings}
    out = {}
    for f in problem.flows:
        c = checks[f.id]
        code, text = explain_flow(f, c, problem, graph, road_t.get(f.id, 0.0), used, by_name)
        out[f.id] = FlowStatus(
            flow_id=f.id,
            haul_km=c.haul_km,
            eligible=c.eligible,
            covered=c.covered,
            has_access=c.has_access,
            reason=text,
            reason_code=code,
        )
    return out
