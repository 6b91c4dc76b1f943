"""Calibration: the smallest change to chosen cost parameters that makes today's choices
the least-cost ones, with the rule off (inverse optimisation).

A model that predicts what a rule changes must first reproduce what shippers do without it.
Each flow's *baseline chain* (:func:`freight.baseline.baseline`: the cheapest chain of its
baseline mode at the prior costs) is the observation: a road-only chain when its baseline
mode is road, a chain using rail or pipeline otherwise. The *class* of a chain is
road-only or not; the observation is the class, and an *alternative* of a flow is a chain
of the other class.

**The inverse LP** (Ahuja & Orlin, Operations Research 49(5), 2001, under a weighted L1
norm). Chain costs are linear in the calibrated parameters θ: ``c_k(θ) = c_k(θ0) + φ_k ·
(θ − θ0)``, where ``φ_kp`` is what one unit more of parameter p adds to chain k (found by
costing k with p one unit higher; checked linear). Today's flows may saturate capacities;
a saturated row r gets a dual ``π_r ≤ 0`` (every other row has ``π_r = 0``, by
complementary slackness), and a chain's reduced cost is ``c_k(θ) − Σ_r π_r a_rk``. Today's
choice is optimal in the model without the rule exactly when, for every flow f with
baseline chain b and every alternative k::

    rc_b(θ, π) − rc_k(θ, π) ≤ m_f − margin_f,      m_f ≥ 0,   lower_p ≤ θ_p ≤ upper_p

with misfit ``m_f = 0``. ``margin_fk`` is the scenario's ``calibration.margin_cny_per_t``
(so that today's choice is cheaper by that much, not a tie a solver may break either way),
except 0 where k is the baseline chain of another flow with the same origin, destination
and commodity (a split today can only be a tie, or a capacity's shadow price). Two LPs,
one after the other (lexicographic): first the least tonne-weighted misfit
``M* = min Σ_f t_f m_f``; then, with ``Σ_f t_f m_f ≤ M*``, the least weighted change
``Σ_p w_p |θ_p − θ0_p| / (upper_p − lower_p)``.

**Exact by constraint generation.** The alternatives start as each flow's cheapest one at
θ0; after each pair of solves, the cheapest alternative of every flow at the solution's
(θ, π) is found by exact shortest paths on the expanded graph (a road-only search, or a
search on two copies of the graph, before and after a rail or pipeline arc, so that every
path found uses one), and added where it violates its flow's row. The loop ends when none
does: the solution is then feasible for the LP with every chain as an alternative, and
optimal for it, since the restricted LPs are relaxations of it.

(Over 500 lines on purpose: the inverse LP, its constraint generation, its report and its
files are one argument, read top to bottom.)
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

from freight.baseline import baseline
from freight.expanded_graph import EDGE, SINK, SOURCE, CostClass, MultimodalGraph, lightest_csr
from freight.model import SmallLP, SmallLPResult
from freight.problem import Chain, Flow, Problem
from freight.progress import Progress
from freight.scenario import CalibratedParameter, Scenario, build_problem, load_scenario
from freight.spreadsheet import write_csv
from networks import InputError, InputErrors, Network, load_network

_FEASIBILITY = 1e-6
"""CNY/t: a row counts as violated when it is off by more than this (the LP's own
feasibility tolerance is 1e-7 on rows of this scale)."""
_SATURATED = 1e-6
"""Share of its capacity left below which today's use saturates a row."""
_MAX_ROUNDS = 200
_NO_CAP = 1e30
"""Right-hand side that switches the misfit cap off (HiGHS reads it as infinite)."""


@dataclass(frozen=True)
class ParameterFit:
    """One calibrated parameter: its prior, its calibrated value, and whether a bound binds."""

    key: str
    unit: str
    prior: float
    value: float
    lower: float
    upper: float
    binds: str  # "lower", "upper" or ""
    source: str
    prior_source: str


@dataclass(frozen=True)
class FlowFit:
    """How well one flow's baseline is reproduced at the calibrated costs.

    Costs are at the calibrated parameters; ``*_reduced`` add the capacities' shadow prices
    (of the rows today's flows saturate). ``misfit_cny_per_t`` is by how much the baseline
    chain's reduced cost exceeds the cheapest alternative's (0 when it is least-cost).
    """

    flow_id: str
    commodity: str
    origin: str
    destination: str
    tonnes: float
    baseline_mode: str
    baseline_chain: str
    baseline_cny_per_t: float
    baseline_reduced_cny_per_t: float
    alternative_chain: str
    alternative_cny_per_t: float
    alternative_reduced_cny_per_t: float
    misfit_cny_per_t: float
    reproduced: bool
    explanation: str  # "", "tie", "capacity: <row>", or why the flow could not be fitted


@dataclass(frozen=True)
class Calibration:
    """The outcome of :func:`calibrate`."""

    scenario: Scenario
    parameters: tuple[ParameterFit, ...]
    flows: tuple[FlowFit, ...]
    duals: dict[str, float]  # shadow price (CNY/t, <= 0) of each saturated capacity row
    over_capacity: tuple[str, ...]  # rows today's flows load beyond their capacity
    rounds: int
    tolerance_cny_per_t: float

    @property
    def reproduced_share(self) -> float:
        """Share of baseline tonnes whose flow is reproduced within the tolerance."""
        total = sum(f.tonnes for f in self.flows)
        return sum(f.tonnes for f in self.flows if f.reproduced) / total if total else 1.0

    def fit_line(self) -> str:
        n = sum(f.reproduced for f in self.flows)
        return (
            f"重现 reproduced {self.reproduced_share:.1%} of baseline tonnes ({n} of "
            f"{len(self.flows)} flows) within {self.tolerance_cny_per_t:g} CNY/t"
        )


# --- chains and their classes -----------------------------------------------------------


def _road_only(chain: Chain) -> bool:
    return all(leg.mode == "road" for leg in chain.legs)


def describe(chain: Chain) -> str:
    """A chain in a few words: modes with km, and the places of its lifts."""
    legs = " + ".join(f"{leg.mode} {leg.km:.0f} km" for leg in chain.legs)
    return f"{legs} via {', '.join(chain.lifts)}" if chain.lifts else legs


class _Costing:
    """Chain costs as linear functions of the calibrated parameters.

    ``at(θ)`` is the graph under the parameters' values θ; ``features(chain, c)`` gives
    ``(c_k(θ0), φ_k)``.
    """

    def __init__(
        self,
        path: Path,
        scenario: Scenario,
        network: Network,
        graph: MultimodalGraph,
        params: tuple[CalibratedParameter, ...],
    ) -> None:
        self.path = path
        self.scenario = scenario
        self.network = network
        self.graph = graph
        self.params = params
        self.prior = np.array([_value(scenario, p.key) for p in params])
        self._unit = [self.at(self.prior + np.eye(len(params))[i]) for i in range(len(params))]
        self._cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def at(self, theta: np.ndarray) -> MultimodalGraph:
        """The expanded graph under parameter values ``theta`` (arcs shared)."""
        over = {p.key: float(t) for p, t in zip(self.params, theta, strict=True)}
        problem = build_problem(load_scenario(self.path, over), self.network)
        return self.graph.recosted(problem.costs, problem.network.places)

    def check_linear(self, chains: list[tuple[Chain, str]]) -> list[str]:
        """Parameters whose effect on these chains is not linear (e.g. a speed)."""
        bad = []
        for i, p in enumerate(self.params):
            twice = self.at(self.prior + 2.0 * np.eye(len(self.params))[i])
            for chain, c in chains:
                base = self.graph.chain_cost(chain, c)[0]
                one = self._unit[i].chain_cost(chain, c)[0] - base
                two = twice.chain_cost(chain, c)[0] - base
                if abs(two - 2.0 * one) > 1e-6 * max(1.0, abs(two)):
                    bad.append(p.key)
                    break
        return bad

    def features(self, chain: Chain, commodity: str) -> tuple[float, np.ndarray]:
        key = (chain.legs, chain.lifts, commodity)
        hit = self._cache.get(key)
        if hit is None:
            base = self.graph.chain_cost(chain, commodity)[0]
            phi = np.array([g.chain_cost(chain, commodity)[0] - base for g in self._unit])
            hit = self._cache[key] = (base, phi)
        return hit


def _value(scenario: Scenario, key: str) -> float:
    value = scenario.parameters[key].value
    assert isinstance(value, float)
    return value


# --- pricing: the cheapest chain of the other class -------------------------------------


def cheapest_alternatives(
    graph: MultimodalGraph,
    flows: list[Flow],
    road_baseline: dict[str, bool],
    pi: dict[int, float],
    *,
    max_access_km: float,
) -> dict[str, Chain]:
    """Each flow's cheapest chain of the other class at reduced costs (arc cost minus the
    duals ``pi`` of the rows its arcs use): a chain using rail or pipeline for a flow whose
    baseline is road-only, a road-only chain otherwise. Flows with none are left out.

    The first search runs on two copies of the expanded graph: a path starts in copy 0 and
    ends in copy 1, and only a rail or pipeline edge leads from copy 0 to copy 1, so every
    path found runs some km by rail or pipeline (a lift on and off at one terminal is not
    a rail chain).
    """
    n = graph.n_nodes
    road = graph.arc_mode == 0
    road_arcs = graph.road_edge | (((graph.kind == SOURCE) | (graph.kind == SINK)) & road)
    main = (graph.kind == EDGE) & ~road  # rail and pipeline edges: copy 0 -> copy 1
    same = ~main  # every other arc stays in its copy
    dual = np.zeros(len(graph.kind))
    if pi:
        rows = np.array(sorted(pi))
        vals = np.array([-pi[r] for r in rows.tolist()])
        at = np.full(len(graph.rows), 0.0)
        at[rows] = vals
        has = graph.row >= 0
        dual[has] = at[graph.row[has]]
    out: dict[str, Chain] = {}
    by_key: dict[tuple[CostClass, str, bool], list[Flow]] = {}
    for f in flows:
        by_key.setdefault((graph.cost_class(f), f.origin, road_baseline[f.id]), []).append(f)
    for (cost_class, origin, from_road), group in sorted(by_key.items(), key=lambda kv: str(kv[0])):
        cost, _ = graph.arc_costs(cost_class)
        w = cost + dual
        if from_road:  # chains running on rail or pipeline: the two copies
            tail = np.concatenate([graph.tail[same], graph.tail[same] + n,
                                   graph.tail[main], graph.tail[main] + n])
            head = np.concatenate([graph.head[same], graph.head[same] + n,
                                   graph.head[main] + n, graph.head[main] + n])
            ids = np.concatenate([np.flatnonzero(same)] * 2 + [np.flatnonzero(main)] * 2)
            mat, arc_of = lightest_csr(tail, head, w[ids], 2 * n)
            arc_of = ids[arc_of]
            start, shift = graph.src(origin), n
        else:
            sel = np.flatnonzero(road_arcs)
            mat, arc_of = lightest_csr(graph.tail[sel], graph.head[sel], w[sel], n)
            arc_of = sel[arc_of]
            start, shift = graph.src(origin), 0
        dist, pred = dijkstra(mat, indices=start, return_predecessors=True)
        for f in group:
            target = graph.snk(f.destination) + shift
            if not np.isfinite(dist[target]):
                continue
            arcs = graph.path_arcs(mat, arc_of, pred, start, target)
            chain, _ = graph.chain_from_arcs(arcs, cost_class, max_access_km=max_access_km)
            out[f.id] = chain
    return out


# --- the calibration ------------------------------------------------------------------------


def calibrate(scenario_path: str | Path, *, progress: Progress | None = None) -> Calibration:
    """Calibrate the scenario's ``[calibration.parameters]`` (see the module docstring).

    Raises
    ------
    InputErrors
        The scenario is invalid, names no parameter to calibrate, or a parameter does not
        enter the chains' costs linearly.
    """
    progress = progress or Progress(None)
    path = Path(scenario_path)
    with progress.step("reading scenario"):
        scenario = load_scenario(path)
    cal = scenario.calibration
    if cal is None or not cal.parameters:
        raise InputErrors([InputError(str(path), "[calibration]", "parameters",
                                      'no parameter to calibrate: add tables '
                                      '[calibration.parameters."costs.<...>"] with lower, '
                                      'upper and source')])
    outside = [
        InputError(str(path), f'[calibration.parameters."{p.key}"]', "lower",
                   f"the prior value {_value(scenario, p.key):g} lies outside "
                   f"[{p.lower:g}, {p.upper:g}]")
        for p in cal.parameters if not p.lower <= _value(scenario, p.key) <= p.upper
    ]
    if outside:
        raise InputErrors(outside)
    with progress.step("building networks (cached after the first run)"):
        network = load_network(scenario.network)
    problem = build_problem(scenario, network)
    problem = replace(problem, policy=problem.policy.off())
    with progress.step("expanding the multimodal graph"):
        graph = MultimodalGraph(problem.network, problem.costs)
    with progress.step("baseline chains (today's choices)"):
        base = baseline(problem, graph)
    chains = {a.flow_id: a.chain for a in base.assignments}
    flows = [f for f in problem.flows if f.id in chains]
    fitted = [f for f in flows if base.fallbacks.get(f.id) != "road"]
    costing = _Costing(path, scenario, network, graph, cal.parameters)
    bad = costing.check_linear([(chains[f.id], f.commodity) for f in fitted])
    if bad:
        raise InputErrors([InputError(str(path), f'[calibration.parameters."{k}"]', "(key)",
                                      "does not enter the chains' costs linearly; calibrate "
                                      "costs, charges and rates, not speeds or payloads")
                           for k in bad])
    with progress.step("calibrating (inverse LP, alternatives by exact pricing)"):
        fit = _Fit(problem, graph, costing, fitted, chains, cal.margin_cny_per_t)
        fit.run()
    return _report(scenario, problem, graph, costing, fit, flows, base.fallbacks, cal)


class _Fit:
    """The inverse LP and its loop (module docstring)."""

    def __init__(
        self,
        problem: Problem,
        graph: MultimodalGraph,
        costing: _Costing,
        flows: list[Flow],
        chains: dict[str, Chain],
        margin: float,
    ) -> None:
        self.problem, self.graph, self.costing = problem, graph, costing
        self.flows, self.chains = flows, chains
        self.params = costing.params
        self.road = {f.id: _road_only(chains[f.id]) for f in flows}
        groups: dict[tuple[str, str, str], set[bool]] = {}
        for f in flows:
            groups.setdefault((f.commodity, f.origin, f.destination), set()).add(self.road[f.id])
        self.split = {f.id: len(groups[(f.commodity, f.origin, f.destination)]) == 2
                      for f in flows}
        self.margin_cny_per_t = margin
        # the chains today's flows take, by origin, destination and commodity
        self.today: dict[tuple[str, str, str], set[tuple]] = {}
        for f in flows:
            key = (f.commodity, f.origin, f.destination)
            self.today.setdefault(key, set()).add((chains[f.id].legs, chains[f.id].lifts))
        # today's use of every capacity row
        used: dict[int, float] = {}
        for f in flows:
            for r, k in graph.rows_of_chain(chains[f.id]).items():
                used[r] = used.get(r, 0.0) + k * f.tonnes
        self.used = used
        self.saturated = sorted(
            r for r, u in used.items()
            if u >= graph.rows[r].capacity_t * (1 - _SATURATED) - 1e-6
        )
        self.over = [r for r in self.saturated
                     if used[r] > graph.rows[r].capacity_t * (1 + _SATURATED) + 1e-6]
        self.alternatives: dict[str, list[Chain]] = {f.id: [] for f in flows}
        self.lp = SmallLP("calibration", solver=problem.solver)
        self._build()
        self.theta = costing.prior.copy()
        self.pi: dict[int, float] = {}
        self.misfit: dict[str, float] = {f.id: 0.0 for f in flows}
        self.rounds = 0
        self.result: SmallLPResult | None = None

    def _build(self) -> None:
        lp = self.lp
        for i, p in enumerate(self.params):
            prior = self.costing.prior[i]
            lp.var(f"up_{i}", 0.0, p.upper - prior)
            lp.var(f"down_{i}", 0.0, prior - p.lower)
        for r in self.saturated:
            lp.var(f"pi_{r}", None, 0.0)
        for k in range(len(self.flows)):
            lp.var(f"misfit_{k}", 0.0, None)

    def _reduced(self, chain: Chain, commodity: str) -> tuple[float, np.ndarray, dict[int, int]]:
        base, phi = self.costing.features(chain, commodity)
        rows = {r: k for r, k in self.graph.rows_of_chain(chain).items() if r in self._sat}
        return base, phi, rows

    @property
    def _sat(self) -> set[int]:
        return set(self.saturated)

    def _add_row(self, k: int, f: Flow, alt: Chain) -> None:
        """``rc_b − rc_alt − m_f ≤ −margin_f`` in the LP's variables (θ = θ0 + up − down)."""
        b0, bphi, brows = self._reduced(self.chains[f.id], f.commodity)
        a0, aphi, arows = self._reduced(alt, f.commodity)
        coefs: dict[str, float] = {f"misfit_{k}": -1.0}
        for i in range(len(self.params)):
            d = float(bphi[i] - aphi[i])
            coefs[f"up_{i}"] = d
            coefs[f"down_{i}"] = -d
        for r in set(brows) | set(arows):
            coefs[f"pi_{r}"] = -(brows.get(r, 0) - arows.get(r, 0))
        name = f"fit_{k}_{len(self.alternatives[f.id])}"
        self.lp.le(name, coefs, -(b0 - a0) - self.margin(f, alt))
        self.alternatives[f.id].append(alt)

    def _change(self) -> dict[str, float]:
        obj: dict[str, float] = {}
        for i, p in enumerate(self.params):
            width = p.upper - p.lower
            if width > 0:
                obj[f"up_{i}"] = obj[f"down_{i}"] = p.weight / width
        return obj

    def _solve(self) -> None:
        """Least misfit, then least change at that misfit."""
        # weights are tonnes shares, so the cap row below is well scaled for the solver
        scale = sum(f.tonnes for f in self.flows) or 1.0
        total = {f"misfit_{k}": f.tonnes / scale for k, f in enumerate(self.flows)}
        if "cap_misfit" not in self.lp.rows:
            self.lp.le("cap_misfit", total, _NO_CAP)
        self.lp.set_rhs("cap_misfit", _NO_CAP)  # the last round's cap is off
        first = self.lp.solve(total)
        if not first.optimal:
            raise RuntimeError(f"calibration LP (misfit): {first.status}")
        # the second LP keeps the first's misfit; the slack only keeps it feasible in the
        # solver's arithmetic
        self.lp.set_rhs("cap_misfit", first.objective * (1 + 1e-12) + 1e-10)
        second = self.lp.solve(self._change())
        if not second.optimal:
            raise RuntimeError(f"calibration LP (change): {second.status}")
        v = second.values
        self.theta = self.costing.prior + np.array(
            [v[f"up_{i}"] - v[f"down_{i}"] for i in range(len(self.params))]
        )
        self.pi = {r: v[f"pi_{r}"] for r in self.saturated}
        self.misfit = {f.id: v[f"misfit_{k}"] for k, f in enumerate(self.flows)}
        self.result = second

    def _violations(self, graph: MultimodalGraph) -> list[tuple[int, Flow, Chain, float]]:
        alts = cheapest_alternatives(
            graph, self.flows, self.road, self.pi,
            max_access_km=self.problem.policy.max_access_km,
        )
        out = []
        for k, f in enumerate(self.flows):
            alt = alts.get(f.id)
            if alt is None:
                continue
            gap = self.gap(f, alt)
            seen = {(c.legs, c.lifts) for c in self.alternatives[f.id]}
            if gap > self.misfit[f.id] - self.margin(f, alt) + _FEASIBILITY and (
                (alt.legs, alt.lifts) not in seen
            ):
                out.append((k, f, alt, gap))
        return out

    def margin(self, f: Flow, alt: Chain) -> float:
        """The margin by which ``f``'s baseline chain must undercut ``alt``: none when
        ``alt`` is what another flow of the same origin, destination and commodity takes
        today."""
        if (alt.legs, alt.lifts) in self.today[(f.commodity, f.origin, f.destination)]:
            return 0.0
        return self.margin_cny_per_t

    def gap(self, f: Flow, alt: Chain) -> float:
        """``rc_b − rc_alt`` at the current (θ, π)."""
        b0, bphi, brows = self._reduced(self.chains[f.id], f.commodity)
        a0, aphi, arows = self._reduced(alt, f.commodity)
        d = self.theta - self.costing.prior
        cb = b0 + float(bphi @ d) - sum(self.pi.get(r, 0.0) * n for r, n in brows.items())
        ca = a0 + float(aphi @ d) - sum(self.pi.get(r, 0.0) * n for r, n in arows.items())
        return cb - ca

    def run(self) -> None:
        for k, f, alt, _ in self._violations(self.graph):
            self._add_row(k, f, alt)
        while self.rounds < _MAX_ROUNDS:
            self.rounds += 1
            self._solve()
            found = self._violations(self.costing.at(self.theta))
            if not found:
                return
            for k, f, alt, _ in found:
                self._add_row(k, f, alt)
        raise RuntimeError(f"calibration did not converge in {_MAX_ROUNDS} rounds")


def _report(
    scenario: Scenario,
    problem: Problem,
    graph: MultimodalGraph,
    costing: _Costing,
    fit: _Fit,
    flows: list[Flow],
    fallbacks: dict[str, str],
    cal,  # type: ignore[no-untyped-def]
) -> Calibration:
    params = []
    for i, p in enumerate(costing.params):
        # 9 significant digits: the LP's arithmetic is good to about 1e-9, and a value
        # worked out by hand (10 CNY/t) then reads as such
        value = min(max(float(f"{float(fit.theta[i]):.9g}"), p.lower), p.upper)
        prior = float(costing.prior[i])
        if abs(value - prior) <= 1e-9 * max(1.0, abs(prior)):
            value = prior
        width = max(1e-12, p.upper - p.lower) * 1e-9
        binds = ("lower" if value <= p.lower + width and value != prior else
                 "upper" if value >= p.upper - width and value != prior else "")
        param = scenario.parameters[p.key]
        params.append(ParameterFit(p.key, param.unit, prior, value, p.lower, p.upper, binds,
                                   p.source, param.source))
    # the flows' fit at the values as written
    now = costing.at(np.array([p.value for p in params]))
    alts = cheapest_alternatives(now, fit.flows, fit.road, fit.pi,
                                 max_access_km=problem.policy.max_access_km)
    names = {r: graph.rows[r].name for r in fit.saturated}
    labels = {r: graph.rows[r].label for r in fit.saturated}
    out = []
    fitted = {f.id for f in fit.flows}
    for f in flows:
        chain = fit.chains[f.id]
        if f.id not in fitted:
            out.append(FlowFit(f.id, f.commodity, f.origin, f.destination, f.tonnes,
                               f.baseline_mode, describe(chain), math.nan, math.nan, "",
                               math.nan, math.nan, math.nan, False,
                               f"no chain of mode {f.baseline_mode} exists: check the "
                               "network or the flow's baseline_mode"))
            continue
        cost_b = now.chain_cost(chain, f.commodity)[0]
        rows_b = graph.rows_of_chain(chain)
        red_b = cost_b - sum(fit.pi.get(r, 0.0) * k for r, k in rows_b.items())
        alt = alts.get(f.id)
        if alt is None:
            cost_a = red_a = math.inf
            alt_txt = "none"
            rows_a: dict[int, int] = {}
        else:
            cost_a = now.chain_cost(alt, f.commodity)[0]
            rows_a = graph.rows_of_chain(alt)
            red_a = cost_a - sum(fit.pi.get(r, 0.0) * k for r, k in rows_a.items())
            alt_txt = describe(alt)
        misfit = max(0.0, red_b - red_a)
        explanation = ""
        if fit.split[f.id]:
            binding = [r for r in set(rows_b) | set(rows_a) if fit.pi.get(r, 0.0) < -1e-9]
            explanation = (
                "capacity: " + "; ".join(f"{names[r]} ({labels[r]}, shadow "
                                         f"{-fit.pi[r]:.2f} CNY/t)" for r in sorted(binding))
                if binding else "tie"
            )
        out.append(FlowFit(
            f.id, f.commodity, f.origin, f.destination, f.tonnes, f.baseline_mode,
            describe(chain), cost_b, red_b, alt_txt, cost_a, red_a, misfit,
            misfit <= cal.tolerance_cny_per_t + 1e-9, explanation,
        ))
    for fid, what in fallbacks.items():
        if what == "none":
            f = next(x for x in problem.flows if x.id == fid)
            out.append(FlowFit(fid, f.commodity, f.origin, f.destination, f.tonnes,
                               f.baseline_mode, "", math.nan, math.nan, "", math.nan, math.nan,
                               math.nan, False, "no chain at all between its places"))
    return Calibration(
        scenario=scenario,
        parameters=tuple(params),
        flows=tuple(out),
        duals={names[r]: fit.pi[r] for r in fit.saturated if fit.pi.get(r, 0.0) < 0.0},
        over_capacity=tuple(f"{names[r]} ({labels[r]}): {fit.used[r]:,.0f} t today, "
                            f"capacity {graph.rows[r].capacity_t:,.0f} t"
                            for r in fit.over),
        rounds=fit.rounds,
        tolerance_cny_per_t=cal.tolerance_cny_per_t,
    )


# --- writing ------------------------------------------------------------------------------


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def calibrated_toml(cal: Calibration, out_dir: Path) -> str:
    """The text of ``calibrated.toml``: a scenario extending the calibrated one, setting
    each parameter that moved, its source saying it was calibrated and from which flows."""
    s = cal.scenario
    base = Path(os.path.relpath(s.path, out_dir.resolve())).as_posix()
    fitted = [f.flow_id for f in cal.flows if not math.isnan(f.misfit_cny_per_t)]
    lines = [
        "# Written by `freight calibrate`: the scenario it extends, with the cost",
        "# parameters that make today's choices least-cost without the rule.",
        f"# {cal.fit_line()}.",
        f"extends = {_toml_string(base)}",
        f"name = {_toml_string(s.name + '-calibrated')}",
        f"title = {_toml_string(s.title + ' (校准 calibrated)')}",
        "",
    ]
    moved = [p for p in cal.parameters if p.value != p.prior]
    tables: dict[str, list[tuple[str, float]]] = {}
    for p in moved:
        section, _, key = p.key.rpartition(".")
        tables.setdefault(section, []).append((key, p.value))
    for section, items in tables.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value!r}" for key, value in items]
        lines.append("")
    if moved:
        lines.append("[sources]")
        for p in moved:
            bound = f"; at its {p.binds} bound" if p.binds else ""
            text = (f"calibrated by freight calibrate (inverse LP) from flows "
                    f"{', '.join(fitted)}: prior {p.prior:g} ({p.prior_source}), bounds "
                    f"[{p.lower:g}, {p.upper:g}] ({p.source}){bound}")
            lines.append(f"{_toml_string(p.key)} = {_toml_string(text)}")
        lines.append("")
    return "\n".join(lines)


def _fmt(x: float, nd: int = 4) -> str | float:
    return "" if x is None or not math.isfinite(x) else round(x, nd)


def write_calibration(cal: Calibration, out_dir: str | Path) -> Path:
    """Write ``calibrated.toml``, ``calibration.csv`` and ``flows_fit.csv`` into ``out_dir``
    (files written beside and renamed into place, so none is ever half-written)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Callable[[Path], None]] = {
        "calibrated.toml": lambda p: _write_text(p, calibrated_toml(cal, out)),
        "calibration.csv": lambda p: _write_csv(p, _PARAM_COLUMNS, [
            {"parameter": q.key, "unit": q.unit, "prior": q.prior, "value": q.value,
             "change": q.value - q.prior, "lower": q.lower, "upper": q.upper,
             "binds": q.binds, "bounds_source": q.source, "prior_source": q.prior_source}
            for q in cal.parameters
        ]),
        "flows_fit.csv": lambda p: _write_csv(p, _FLOW_COLUMNS, [
            {"flow_id": f.flow_id, "commodity": f.commodity, "origin": f.origin,
             "destination": f.destination, "tonnes": f.tonnes,
             "baseline_mode": f.baseline_mode, "baseline_chain": f.baseline_chain,
             "baseline_cny_per_t": _fmt(f.baseline_cny_per_t),
             "baseline_reduced_cny_per_t": _fmt(f.baseline_reduced_cny_per_t),
             "alternative_chain": f.alternative_chain,
             "alternative_cny_per_t": _fmt(f.alternative_cny_per_t),
             "alternative_reduced_cny_per_t": _fmt(f.alternative_reduced_cny_per_t),
             "misfit_cny_per_t": _fmt(f.misfit_cny_per_t),
             "reproduced": "yes" if f.reproduced else "no", "explanation": f.explanation}
            for f in cal.flows
        ]),
    }
    for name, write in files.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=out)
        os.close(fd)
        try:
            write(Path(tmp))
            os.chmod(tmp, 0o644)
            os.replace(tmp, out / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


_PARAM_COLUMNS = ["parameter", "unit", "prior", "value", "change", "lower", "upper", "binds",
                  "bounds_source", "prior_source"]
_FLOW_COLUMNS = ["flow_id", "commodity", "origin", "destination", "tonnes", "baseline_mode",
                 "baseline_chain", "baseline_cny_per_t", "baseline_reduced_cny_per_t",
                 "alternative_chain", "alternative_cny_per_t",
                 "alternative_reduced_cny_per_t", "misfit_cny_per_t", "reproduced",
                 "explanation"]


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    write_csv(path, columns, rows)  # UTF-8 with BOM, no cell that starts a formula
