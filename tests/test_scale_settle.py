"""Settling flows outside the LP, and merging capacity rows in series, change nothing.

A flow whose cheapest chain (capacities ignored) uses no finite capacity is settled outside
the master (``freight.solve``); capacity rows of arcs in series through pass-through nodes
are merged into the tightest (``MultimodalGraph._merge_series_rows``). Both must leave the
optimum, the assignments and the shadow prices exactly as the plain model has them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.reference import solve_reference
from freight.colgen import SolveOptions
from freight.expanded_graph import MultimodalGraph
from freight.problem import Flow, Policy, Problem, Status
from freight.solve import solve
from tests import tinynet as tn
from tests.generated import generated_problem

COVERED = frozenset({"coal", "ore", "coke", "oil"})


def _hand(rail_caps: tuple[float, float] = (600.0, 800.0)) -> Problem:
    # O -- 300 km road -- D; rail 11 -(250 km)- 12 -(250 km)- 13, node 12 passes through.
    # f1 steel O->D, 1000 t (not covered) and f3 ore O->D, 50 t (300 km, below the
    #   threshold): free choice. Rail 78 CNY/t (20 km road access 8, rail 50 + 10, lifts
    #   5 + 5) beats road 120, but rail 11->12 holds 600 t: 600 rail + 450 road; shadow 42.
    # f2 coal O2->D, 100 t, 50 km road only: 20 CNY/t, no capacity -> settled.
    places = [
        tn.place("O", {"road": (1, 0.0)}),
        tn.place("O2", {"road": (3, 0.0)}),
        tn.place("D", {"road": (2, 0.0)}),
        tn.place("TA", {"road": (1, 10.0), "rail": (11, 0.0)}, kind="station", handling=5.0),
        tn.place("TB", {"road": (2, 10.0), "rail": (13, 0.0)}, kind="station", handling=5.0),
    ]
    net = tn.network(
        road=[(1, 2, 300.0), (3, 2, 50.0)],
        rail=[
            (11, 12, 250.0, {"capacity_t": rail_caps[0]}),
            (12, 13, 250.0, {"capacity_t": rail_caps[1]}),
        ],
        places=places,
    )
    return tn.problem(
        net,
        [
            Flow("f1", "steel", "O", "D", 1000.0),
            Flow("f2", "coal", "O2", "D", 100.0),
            Flow("f3", "ore", "O", "D", 50.0),
        ],
        cost=tn.costs(road=(0.4, 0.0, 60.0), rail=(0.1, 10.0, 10.0)),
        policy=Policy(commodities=COVERED, enforcement="soft", penalty_cny_per_t=30.0),
    )


def _shadows(sol) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {b.name: b.shadow_cny_per_t for b in sol.bindings}


def _tonnes(sol) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, str], float] = {}
    for a in sol.assignments:
        key = (a.flow_id, a.chain.line_haul_mode())
        out[key] = out.get(key, 0.0) + a.tonnes
    return out


def test_settled_flow_same_optimum_and_duals_hand() -> None:
    prob = _hand()
    settled = solve(prob)
    plain = solve(prob, options=SolveOptions(settle=False))
    assert settled.status is plain.status is Status.OPTIMAL
    assert settled.stats["settled"] == 1.0  # f2
    assert plain.stats["settled"] == 0.0
    # 600 t rail at 78, 450 t road at 120, f2 100 t at 20
    expect = 600 * 78.0 + 450 * 120.0 + 100 * 20.0
    assert settled.objective_cny == pytest.approx(expect, rel=1e-12)
    assert plain.objective_cny == pytest.approx(expect, rel=1e-12)
    assert _shadows(settled) == pytest.approx(_shadows(plain), rel=1e-12)
    assert _shadows(settled) == pytest.approx({"cap_rail_11_12": 42.0}, rel=1e-12)
    assert settled.tonnes_of("f2") == pytest.approx(100.0)
    assert _tonnes(settled)[("f2", "road")] == pytest.approx(100.0)
    ref = solve_reference(prob, enforcement="off")
    assert ref.objective_cny == pytest.approx(expect, rel=1e-9)


def test_rows_in_series_keep_the_tightest_and_report_equal_ones() -> None:
    graph = MultimodalGraph(_hand().network, _hand().costs)
    names = {graph.rows[r].name: graph.rows[graph.merged.get(r, r)].name for r in graph.merged}
    # both directions: the 600 t edge stays, the 800 t edge is implied by it
    assert names == {"cap_rail_12_13": "cap_rail_11_12", "cap_rail_13_12": "cap_rail_12_11"}
    # equal capacities: the merged edge is as full as the one kept, and reported binding too
    sol = solve(_hand((600.0, 600.0)))
    assert _shadows(sol) == pytest.approx({"cap_rail_11_12": 42.0, "cap_rail_12_13": 42.0})
    assert [b.used_t for b in sol.bindings] == pytest.approx([600.0, 600.0])


@pytest.mark.parametrize("enforcement", ["soft", "off", "hard"])
def test_settling_same_optimum_generated(enforcement: str, tmp_path: Path) -> None:
    prob = generated_problem("small", tmp_path, 2, enforcement)
    graph = MultimodalGraph(prob.network, prob.costs)
    settled = solve(prob, graph=graph)
    plain = solve(prob, graph=graph, options=SolveOptions(settle=False))
    assert settled.status is plain.status
    if settled.status is not Status.OPTIMAL:  # hard may be infeasible: same verdict
        return
    if enforcement != "hard":
        assert settled.stats["settled"] > 0
    assert settled.objective_cny == pytest.approx(plain.objective_cny, rel=1e-9)
    by_flow = {f.id: settled.tonnes_of(f.id) for f in prob.flows}
    assert by_flow == pytest.approx({f.id: f.tonnes for f in prob.flows}, rel=1e-9)
