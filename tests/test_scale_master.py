"""Lazy capacity rows and fast pricing change nothing at the optimum.

``freight.solve`` lets a capacity row into the master only once a master solution overloads
it, and (``fast``) prices general chains first among road-rail-road ones only, exactly only
when that finds nothing. The hand instance below is built so that both matter: the cheapest
chain's rail line is full, the next best chain has a road leg between two rail lines (which
fast pricing cannot see), and that chain's first rail line fills up only after it is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.reference import solve_reference
from freight.colgen import SolveOptions, fast_pricing
from freight.colgen.pricing import Bounds, Pricer
from freight.colgen.seeds import capacity_free
from freight.expanded_graph import MultimodalGraph
from freight.problem import Flow, Policy, Problem, Status
from freight.rule import check_flows, rules_for
from freight.solve import solve
from tests import tinynet as tn
from tests.generated import generated_problem

COVERED = frozenset({"coal", "ore", "coke", "oil"})


def _hop(cap_a: float = 300.0) -> Problem:
    # road 1 -(400)- 2 -(10)- 3 -(400)- 4 and 1 -(700)- 4; O at 1, D at 4.
    # rail A 11-12 (400 km), B 13-14 (400 km), C 11-14 (800 km); terminals TA (1/11),
    # TB (2/12), TC (3/13), TD (4/14), 5 CNY/t a lift; rail 0.1 CNY/tkm + 10 a leg,
    # road 0.4. Per tonne: C 5+10+80+5 = 100; A, road 2-3, B 124; A then road 224;
    # road then B 224; road 280. 1,500 t of steel: C 1,000 t (cap), A-road-B 300 t (A's
    # cap), road-B 200 t: 100,000 + 37,200 + 44,800 = 182,000 CNY.
    places = [
        tn.place("O", {"road": (1, 0.0)}),
        tn.place("D", {"road": (4, 0.0)}),
        tn.place("TA", {"road": (1, 0.0), "rail": (11, 0.0)}, kind="station", handling=5.0),
        tn.place("TB", {"road": (2, 0.0), "rail": (12, 0.0)}, kind="station", handling=5.0),
        tn.place("TC", {"road": (3, 0.0), "rail": (13, 0.0)}, kind="station", handling=5.0),
        tn.place("TD", {"road": (4, 0.0), "rail": (14, 0.0)}, kind="station", handling=5.0),
    ]
    net = tn.network(
        road=[(1, 2, 400.0), (2, 3, 10.0), (3, 4, 400.0), (1, 4, 700.0)],
        rail=[
            (11, 12, 400.0, {"capacity_t": cap_a}),
            (13, 14, 400.0, {"capacity_t": 1000.0}),
            (11, 14, 800.0, {"capacity_t": 1000.0}),
        ],
        places=places,
    )
    return tn.problem(
        net,
        [Flow("f1", "steel", "O", "D", 1500.0)],
        cost=tn.costs(road=(0.4, 0.0, 60.0), rail=(0.1, 10.0, 10.0)),
        policy=Policy(commodities=COVERED, enforcement="off"),
    )


_generated = generated_problem


def test_fast_pricing_misses_a_road_leg_between_rail_legs_exact_pricing_finds_it() -> None:
    prob = _hop()
    graph = MultimodalGraph(prob.network, prob.costs)
    pricer = Pricer.for_problem(graph, prob, rules_for(prob, check_flows(prob, graph)))
    capacity_free(pricer, prob.flows)
    assert fast_pricing.attach(pricer)
    zero = np.zeros(len(graph.rows))
    exact = pricer.price(zero, {"f1": 300.0}, phase=2).columns
    fast = pricer.price(zero, {"f1": 300.0}, phase=2, fast=True).columns
    # at zero duals: the 100 CNY/t chain over C, found either way
    assert exact[0][1] == pytest.approx(100.0 - 300.0)
    assert fast[0][1] == pytest.approx(100.0 - 300.0)
    # C full (dual -200 on both directions' row): exact finds A-road-B (124), fast only
    # A-then-road or road-then-B (224)
    c_rows = [i for i, r in enumerate(graph.rows) if r.name in ("cap_rail_11_14", "cap_rail_14_11")]
    assert c_rows
    pi = zero.copy()
    pi[c_rows] = -200.0
    exact = pricer.price(pi, {"f1": 300.0}, phase=2).columns
    fast = pricer.price(pi, {"f1": 300.0}, phase=2, fast=True).columns
    assert exact[0][1] == pytest.approx(124.0 - 300.0)
    assert [leg.mode for leg in exact[0][0].chain.legs] == ["road", "rail", "road", "rail", "road"]
    assert fast[0][1] == pytest.approx(224.0 - 300.0)


@pytest.mark.parametrize("fast", [False, True])
def test_hand_optimum_with_lazy_rows_and_fast_pricing(fast: bool) -> None:
    prob = _hop()
    sol = solve(prob, options=SolveOptions(fast_pricing=fast))
    assert sol.status is Status.OPTIMAL
    assert sol.objective_cny == pytest.approx(182_000.0, rel=1e-12)
    assert solve_reference(prob, enforcement="off").objective_cny == pytest.approx(
        182_000.0, rel=1e-9
    )
    shadows = {b.label or b.name: b.shadow_cny_per_t for b in sol.bindings}
    assert sorted(shadows.values()) == pytest.approx([100.0, 124.0], rel=1e-9)
    if fast:  # fast pricing found nothing more at least once before the exact one did
        assert sol.stats["fast_pricing"] == 1.0
        assert sol.stats["exact_pricings"] >= 2.0


def test_a_row_left_out_enters_when_overloaded() -> None:
    # with A at 300 t the first master (C and road) never loads A; the chain over A
    # arrives later and would carry 500 t: A's row must enter then
    loose = solve(_hop(cap_a=1e9))
    tight = solve(_hop())
    assert loose.objective_cny == pytest.approx(100_000 + 500 * 124.0, rel=1e-12)
    assert tight.objective_cny == pytest.approx(182_000.0, rel=1e-12)
    assert tight.stats["rows"] > loose.stats["rows"]


@pytest.mark.parametrize("case", ["hand", "mid"])
def test_lazy_rows_or_every_row_same_optimum(case: str, tmp_path: Path) -> None:
    # rows entering only once overloaded, against every row a column uses from the start
    prob = _hop() if case == "hand" else _generated("mid", tmp_path, 0)
    graph = MultimodalGraph(prob.network, prob.costs)
    every = solve(prob, graph=graph, options=SolveOptions(lazy_rows=False, drop_rows_after=0))
    lazy = solve(prob, graph=graph, options=SolveOptions(drop_rows_after=0))
    assert every.status is lazy.status is Status.OPTIMAL
    assert lazy.objective_cny == pytest.approx(every.objective_cny, rel=1e-9)
    assert lazy.stats["rows"] < every.stats["rows"]


@pytest.mark.parametrize("enforcement", ["soft", "hard", "off"])
def test_generated_same_optimum_fast_or_exact_pricing(enforcement: str, tmp_path: Path) -> None:
    prob = _generated("small", tmp_path, 4, enforcement)
    graph = MultimodalGraph(prob.network, prob.costs)
    exact = solve(prob, graph=graph, options=SolveOptions(fast_pricing=False, max_new=7))
    fast = solve(prob, graph=graph, options=SolveOptions(fast_pricing=True, max_new=7))
    assert fast.status is exact.status
    if exact.status is not Status.OPTIMAL:
        return
    assert fast.objective_cny == pytest.approx(exact.objective_cny, rel=1e-9)
    assert fast.stats["fast_pricing"] == 1.0
    # every capacity holds, also those the master never took in
    used: dict[int, float] = {}
    for a in fast.assignments:
        for r, k in graph.rows_of_chain(a.chain).items():
            used[r] = used.get(r, 0.0) + k * a.tonnes
    for r, u in used.items():
        cap = graph.rows[r].capacity_t
        assert u <= cap * (1 + 1e-9) + 1e-6


def test_tiny_fast_pricing_equals_the_reference(tmp_path: Path) -> None:
    prob = _generated("tiny", tmp_path, 1)
    sol = solve(prob, options=SolveOptions(fast_pricing=True, max_new=2))
    ref = solve_reference(prob)
    assert sol.status is Status.OPTIMAL
    assert sol.objective_cny == pytest.approx(ref.objective_cny, rel=1e-9)


def test_off_run_warm_from_the_rule_masters_chains_same_optimum(tmp_path: Path) -> None:
    from dataclasses import replace

    from freight.solve import solve_policy_off

    prob = _generated("small", tmp_path, 4)
    graph = MultimodalGraph(prob.network, prob.costs)
    on = solve(prob, graph=graph)
    assert on.status is Status.OPTIMAL
    # the final master's chains: every chain used by a master flow, and unused ones too
    settled = on.stats["settled"]
    used = {(a.flow_id, a.chain) for a in on.assignments}
    assert len(used - set(on.chains)) <= settled
    assert len(on.chains) > len(used) - settled
    warm = solve_policy_off(prob, on, graph=graph)
    cold = solve(replace(prob, policy=prob.policy.off()), graph=graph)
    assert warm.status is cold.status is Status.OPTIMAL
    assert warm.objective_cny == pytest.approx(cold.objective_cny, rel=1e-9)


@pytest.mark.parametrize("seed", [3, 4])
def test_off_run_starts_from_the_rule_masters_rows_same_optimum(seed: int, tmp_path: Path) -> None:
    from dataclasses import replace

    from freight.solve import solve_policy_off

    prob = _generated("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    on = solve(prob, graph=graph)
    names = {row.name for row in graph.rows}
    # the final master's capacity rows, by name (seed 3: one row enters; seed 4: none)
    assert len(on.rows) == on.stats["rows"] == (1 if seed == 3 else 0)
    assert set(on.rows) <= names
    cold = solve(replace(prob, policy=prob.policy.off()), graph=graph)
    warm = solve_policy_off(prob, on, graph=graph)
    assert warm.objective_cny == pytest.approx(cold.objective_cny, rel=1e-9)
    assert set(on.rows) <= set(warm.rows)
    # rows no solution overloads change nothing either: a warm start from every row
    every = solve_policy_off(prob, replace(on, rows=tuple(sorted(names))), graph=graph)
    assert every.status is Status.OPTIMAL
    assert every.objective_cny == pytest.approx(cold.objective_cny, rel=1e-9)
    assert len(every.rows) == len(names)


@pytest.mark.parametrize("bounded", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
def test_ends_table_equals_the_ends_of_each_place(
    bounded: bool, reverse: bool, tmp_path: Path
) -> None:
    # the table of every place's best way to each entry (from each exit) node, computed
    # together, against the one-place search: same weights, same arcs, under duals on
    # capacitated rows (terminal lifts among them) and at zero duals
    prob = _generated("small", tmp_path, 4)
    graph = MultimodalGraph(prob.network, prob.costs)
    pricer = Pricer.for_problem(graph, prob, rules_for(prob, check_flows(prob, graph)))
    assert fast_pricing.attach(pricer)
    rng = np.random.default_rng(7)
    places = sorted({f.destination if reverse else f.origin for f in prob.flows})
    for scale in (0.0, 30.0):
        pi = -scale * rng.random(len(graph.rows)) * (rng.random(len(graph.rows)) < 0.5)
        for commodity in sorted({f.commodity for f in prob.flows}):
            w = pricer.weights(commodity, pi, 2)
            table = pricer.ends.table(places, w, commodity, 2, True, reverse, bounded)
            for p in places:
                one = pricer.ends.ends(p, w, commodity, 2, True, reverse=reverse, bounded=bounded)
                row = table.index[p]
                np.testing.assert_array_equal(table.vals[row], one.vals)
                for i in np.flatnonzero(np.isfinite(one.vals)).tolist():
                    assert table.path(row, i) == one.path(i)


def test_bound_scale_is_a_power_of_two_that_never_scales_up() -> None:
    from freight.colgen.highs import bound_scale

    units = SolveOptions().bound_units
    assert bound_scale(np.array([]), units) == 0
    assert bound_scale(np.array([10.0, float(units)]), units) == 0
    for top in (1.1 * units, 2.0 * units, 4.566e6, 3.3e9):
        k = bound_scale(np.array([1.0, top]), units)
        assert k <= 0 and units <= top * 2.0**k < 2 * units
        assert (k < 0) == (top >= 2 * units)


def test_tonnes_scaled_for_highs_same_optimum_and_shadow_prices(tmp_path: Path) -> None:
    # HiGHS gets the bounds in units of 2^k t (user_bound_scale); answers come back in
    # tonnes and CNY: the same optimum, flows and shadow prices as unscaled
    prob = _generated("small", tmp_path, 3)
    graph = MultimodalGraph(prob.network, prob.costs)
    plain = solve(prob, graph=graph)
    scaled = solve(prob, graph=graph, options=SolveOptions(bound_units=1))
    assert scaled.objective_cny == pytest.approx(plain.objective_cny, rel=1e-9)
    assert [b.name for b in scaled.bindings] == [b.name for b in plain.bindings]
    for a, b in zip(scaled.bindings, plain.bindings, strict=True):
        assert a.shadow_cny_per_t == pytest.approx(b.shadow_cny_per_t, rel=1e-7, abs=1e-7)
        assert a.used_t == pytest.approx(b.used_t, rel=1e-9, abs=1e-6)
    for fid in {f.id for f in prob.flows}:
        assert scaled.tonnes_of(fid) == pytest.approx(plain.tonnes_of(fid), rel=1e-9)


def test_a_chain_at_its_flows_dual_up_to_rounding_is_not_rebuilt() -> None:
    # a basic column's weight equals sigma_f up to rounding: pricing must pass over it
    # (within 1e-9 of |sigma_f|) rather than rebuild it every round; a chain lighter by
    # more than that is a candidate
    prob = _hop()
    graph = MultimodalGraph(prob.network, prob.costs)
    pricer = Pricer.for_problem(graph, prob, rules_for(prob, check_flows(prob, graph)))
    flow = prob.flows[0]
    bounds = Bounds({flow.id: 124.0}, 2)
    assert pricer.priced_out(flow, 124.0 * (1 - 1e-13), "general", bounds)
    assert pricer.priced_out(flow, 124.0, "general", bounds)
    assert not pricer.priced_out(flow, 124.0 * (1 - 1e-8), "general", bounds)
    # no duals (zero-dual searches): nothing is passed over
    assert not pricer.priced_out(flow, 1e12, "general", Bounds(None))


@pytest.mark.parametrize("seed", [3, 7])
def test_off_run_starts_from_the_rule_masters_basis_same_optimum(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from freight.colgen.highs import HighsBackend
    from freight.solve import solve_policy_off

    started: list[bool] = []
    original = HighsBackend._start_from

    def start_from(self: HighsBackend, master: object, basis: dict) -> bool:
        started.append(original(self, master, basis))  # type: ignore[arg-type]
        return started[-1]

    monkeypatch.setattr(HighsBackend, "_start_from", start_from)
    prob = _generated("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    on = solve(prob, graph=graph)
    assert on.basis is not None and started == []
    assert len(on.basis["cols"]) == len(on.chains)
    warm = solve_policy_off(prob, on, graph=graph)
    assert started == [True]
    cold = solve(replace(prob, policy=prob.policy.off()), graph=graph)
    assert warm.status is cold.status is Status.OPTIMAL
    assert warm.objective_cny == pytest.approx(cold.objective_cny, rel=1e-9)
    # a basis that names other flows is no basis here: refused, the same optimum
    other = dict(on.basis, demand={f"x{k}": v for k, v in on.basis["demand"].items()})
    refused = solve_policy_off(prob, replace(on, basis=other), graph=graph)
    assert started[-1] is False
    assert refused.objective_cny == pytest.approx(cold.objective_cny, rel=1e-9)


def test_reduced_costs_of_many_columns_equal_one_by_one() -> None:
    # the batch (bincount) gives each column's row terms summed in its row order, as the
    # loop did: equal to the bit, capacity-free columns and the tolerance included
    from freight.colgen.loop import reduced_costs as _reduced
    from freight.colgen.master import MasterResult
    from freight.expanded_graph import Column
    from freight.problem import Chain

    rng = np.random.default_rng(3)
    chain = Chain(legs=(), lifts=(), cost_cny_per_t=0.0, co2_g_per_t=0.0, compliant=False)
    pi = -rng.random(50) * 40 * (rng.random(50) < 0.6)
    sigma = {f"f{i}": float(rng.random() * 300) for i in range(30)}
    cols = []
    for i in range(200):
        rows = {int(r): int(rng.integers(1, 3)) for r in rng.choice(50, rng.integers(0, 8))}
        cols.append(Column(f"f{i % 30}", chain, float(rng.random() * 300), rows))
    cols.append(Column("f0", chain, sigma["f0"] * (1 - 1e-12), {}))  # within tolerance
    res = MasterResult(True, "Optimal", 0.0, [], {}, sigma, pi)
    want = []
    for c in cols:
        dual = sum(min(pi[r], 0.0) * k for r, k in c.rows.items())
        rc = c.cost_cny_per_t - sigma[c.flow_id] - dual
        want.append(rc if rc < -1e-9 * max(1.0, abs(c.cost_cny_per_t)) else 0.0)
    assert _reduced(cols, res) == want
    assert any(w < 0 for w in want) and want[-1] == 0.0
    assert _reduced([], res) == []


def test_solve_leaves_the_collector_alone_and_no_cycles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a solve does not pause the cyclic collector (a process-wide switch), and makes no
    # cyclic garbage: its master and the HiGHS model beside it go by reference counting
    import gc

    import freight.colgen.loop as fs

    prob = generated_problem("small", tmp_path, 2)
    inside: list[bool] = []
    checks = fs.check_flows
    monkeypatch.setattr(
        fs, "check_flows", lambda *a, **k: inside.append(gc.isenabled()) or checks(*a, **k)
    )
    assert solve(prob).status is Status.OPTIMAL
    assert inside == [True] and gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        sol = solve(prob)
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert sol.status is Status.OPTIMAL
    assert unreachable == 0


def test_columns_reach_highs_with_the_entries_a_loop_gives() -> None:
    # the new columns' entries (demand row, then the capacity rows in the master, in each
    # column's row order) come from per-column arrays; the same as the loop over rows
    from freight.colgen.highs import HighsBackend
    from freight.colgen.master import Master
    from freight.expanded_graph import Column, Row
    from freight.problem import Chain

    rng = np.random.default_rng(5)
    chain = Chain(legs=(), lifts=(), cost_cny_per_t=0.0, co2_g_per_t=0.0, compliant=False)
    rows = [Row(("terminal", f"p{r}"), f"terminal_p{r}", "terminal", 1e3, "", 0.0, 0.0)
            for r in range(40)]  # fmt: skip
    master = Master({f"f{i}": 10.0 + i for i in range(12)}, rows, lazy_rows=True)
    master.activate([int(r) for r in rng.choice(40, 15, replace=False)])
    cols = []
    for i in range(90):
        use = {int(r): int(rng.integers(1, 3)) for r in rng.choice(40, rng.integers(0, 9))}
        cols.append(Column(f"f{i % 12}", chain, float(rng.random() * 300), use))
    master.add_columns(cols)
    highs = HighsBackend(master)
    for first in (0, 1, 37, 89):
        starts, idx, val = highs.entries(master, first)
        want_s, want_i, want_v = [], [], []
        for c in master.columns[first:]:
            want_s.append(len(want_i))
            want_i.append(master.flow_pos[c.flow_id])
            want_v.append(1.0)
            for r, k in c.rows.items():
                if master.cap_pos[r] >= 0:
                    want_i.append(int(master.cap_pos[r]) + highs.n_flows)
                    want_v.append(float(k))
        assert starts.tolist() == want_s
        assert idx.tolist() == want_i and val.tolist() == want_v
        assert starts.dtype == np.int32 and idx.dtype == np.int32


def test_interior_point_is_ipx_by_name_where_highs_knows_the_name() -> None:
    # with highspy-extras installed, "ipm" would pick HiPO (3x slower on a head master)
    import highspy

    from freight.colgen.interior_point import set_interior_point

    h = highspy.Highs()
    assert set_interior_point(h, highspy) == "ipx"
    assert h.getOptions().solver == "ipx"

    class Older:  # a HiGHS that does not know the name "ipx"
        def setOptionValue(self, key: str, value: str) -> object:
            ok = key == "solver" and value != "ipx"
            return highspy.HighsStatus.kOk if ok else highspy.HighsStatus.kError

    assert set_interior_point(Older(), highspy) == "ipm"


@pytest.mark.parametrize("enforcement", ["soft", "hard"])
def test_interior_point_switching_same_optimum(
    enforcement: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # interior point and crossover on every re-solve that brings new columns (thresholds
    # lowered to 1), against simplex always: the same optimum
    import freight.colgen.highs

    prob = _generated("small", tmp_path, 3, enforcement)
    graph = MultimodalGraph(prob.network, prob.costs)
    simplex = solve(prob, graph=graph, options=SolveOptions(interior_point=False, max_new=5))
    calls: list[str] = []
    real = freight.colgen.highs.set_interior_point

    def counted(h: object, hs: object) -> str:
        calls.append(real(h, hs))
        return calls[-1]

    monkeypatch.setattr(freight.colgen.highs, "set_interior_point", counted)
    ipm = solve(prob, graph=graph, options=SolveOptions(
        ipm_min_columns=1, ipm_share=0.0, max_new=5))  # fmt: skip
    assert calls and set(calls) == {"ipx"}
    assert ipm.status is simplex.status is Status.OPTIMAL
    assert ipm.objective_cny == pytest.approx(simplex.objective_cny, rel=1e-9)
