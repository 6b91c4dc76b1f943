"""The benchmark generator and the independent reference LP."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest
from shapely.geometry import LineString

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import generate  # noqa: E402
from benchmarks.reference import solve_reference  # noqa: E402
from freight.problem import Costs, Flow, ModeCost, Policy, Problem  # noqa: E402
from networks import Link, Network, Place  # noqa: E402


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = _files(generate("tiny", tmp_path / "a", seed=7).parent)
    b = _files(generate("tiny", tmp_path / "b", seed=7).parent)
    c = _files(generate("tiny", tmp_path / "c", seed=8).parent)
    assert a == b
    assert a["road.geojson"] != c["road.geojson"]
    assert {
        "scenario.toml",
        "road.geojson",
        "rail.geojson",
        "pipelines.geojson",
        "places.csv",
        "flows.csv",
        "commodities.csv",
    } <= set(a)


def test_tiny_loads_through_the_real_loaders(tmp_path: Path) -> None:
    scenario_mod = pytest.importorskip("freight.scenario")
    networks = pytest.importorskip("networks")
    if not hasattr(networks, "load_network"):
        pytest.skip("networks.load_network not available")
    toml = generate("tiny", tmp_path / "tiny", seed=0)
    scenario = scenario_mod.load_scenario(toml)
    network = networks.load_network(scenario.network, use_cache=False)
    problem = scenario_mod.build_problem(scenario, network)
    assert len(problem.flows) == 10
    assert network.graphs["road"].number_of_edges() >= 150
    assert network.graphs["rail"].number_of_edges() > 0
    # the network is one connected road graph, so every flow can at least go by road
    assert nx.is_connected(network.graphs["road"])
    res = solve_reference(problem, enforcement="off")
    assert res.status == "Optimal" and res.objective_cny > 0


def _edge(G: nx.Graph, u: int, v: int, km: float, cap: float = math.inf, **kw: object) -> None:
    G.add_edge(
        u,
        v,
        length_km=km,
        capacity_t=cap,
        geometry=LineString([(0, 0), (1, 0)]),
        name="",
        lines=(),
        freight=True,
        commodities=kw.get("commodities"),
    )


def _three_node(rail_cap: float = math.inf, terminal_cap: float = math.inf) -> Problem:
    """Road A(1) -50 km- B(2) -150 km- C(3); rail B - C 150 km between stations SB and SC.

    Mine at A, plant at C, stations SB at B and SC at C (handling 5 CNY/t each).
    Road 0.5 CNY/t·km; rail 0.1 CNY/t·km + 10 CNY/t per entry.
    """
    road, rail = nx.Graph(mode="road"), nx.Graph(mode="rail")
    for n, x in ((1, 0.0), (2, 1.0), (3, 2.0)):
        road.add_node(n, x=x, y=0.0)
    _edge(road, 1, 2, 50.0)
    _edge(road, 2, 3, 150.0)
    rail.add_node(10, x=1.0, y=0.0)
    rail.add_node(11, x=2.0, y=0.0)
    _edge(rail, 10, 11, 150.0, rail_cap)
    places = {
        "A": Place("A", "mine", 0.0, 0.0, "mine"),
        "C": Place("C", "plant", 2.0, 0.0, "plant"),
        "SB": Place("SB", "station B", 1.0, 0.0, "station", ("road", "rail"), 5.0, terminal_cap),
        "SC": Place("SC", "station C", 2.0, 0.0, "station", ("road", "rail"), 5.0),
    }
    links = {
        "A": {"road": Link(1, 0.0)},
        "C": {"road": Link(3, 0.0)},
        "SB": {"road": Link(2, 0.0), "rail": Link(10, 0.0)},
        "SC": {"road": Link(3, 0.0), "rail": Link(11, 0.0)},
    }
    net = Network(
        {"road": road, "rail": rail, "pipeline": nx.Graph(mode="pipeline")}, places, links
    )
    costs = Costs(
        {
            "road": ModeCost(0.5, 0.0, 60.0),
            "rail": ModeCost(0.1, 10.0, 10.0),
            "pipeline": ModeCost(0.1, 0.0, 5.0),
        }
    )
    policy = Policy(frozenset({"coal"}), threshold_km=150.0, max_access_km=60.0, enforcement="off")
    return Problem(net, (Flow("f1", "coal", "A", "C", 1000.0),), costs, policy)


def test_reference_three_node_road_is_cheaper_when_policy_off() -> None:
    # road all the way: 200 km x 0.5 = 100 CNY/t; road 50 km + lift 5 + rail entry 10
    # + rail 150 km x 0.1 + lift 5 = 25 + 5 + 10 + 15 + 5 = 60 CNY/t: rail, 60 x 1000 t.
    res = solve_reference(_three_node())
    assert res.objective_cny == pytest.approx(60_000.0, rel=1e-9)


def test_reference_three_node_capacities_bind() -> None:
    # rail takes 400 t, terminal SB (cap 600) is not binding; the rest pays 100 CNY/t
    res = solve_reference(_three_node(rail_cap=400.0, terminal_cap=600.0))
    assert res.objective_cny == pytest.approx(400 * 60 + 600 * 100, rel=1e-9)
    assert res.binding == 1
    # the terminal now binds first: 300 t by rail
    res = solve_reference(_three_node(rail_cap=400.0, terminal_cap=300.0))
    assert res.objective_cny == pytest.approx(300 * 60 + 700 * 100, rel=1e-9)


def test_reference_three_node_rule() -> None:
    # expensive rail: 0.45/t·km -> road+rail = 25 + 5 + 10 + 67.5 + 5 = 112.5 > 100 by road
    p = _three_node(rail_cap=400.0)
    costs = replace(p.costs, by_mode={**p.costs.by_mode, "rail": ModeCost(0.45, 10.0, 10.0)})
    p = replace(p, costs=costs)
    assert solve_reference(p).objective_cny == pytest.approx(100_000.0)
    soft = replace(p.policy, enforcement="soft", penalty_cny_per_t=20.0)
    # 400 t compliant at 112.5, 600 t by road at 100 + 20 penalty
    assert solve_reference(replace(p, policy=soft)).objective_cny == pytest.approx(
        400 * 112.5 + 600 * 120
    )
    # soft with a small penalty: all on road, paying it
    cheap = replace(soft, penalty_cny_per_t=10.0)
    assert solve_reference(replace(p, policy=cheap)).objective_cny == pytest.approx(110_000.0)
    # hard: only 400 t can comply -> infeasible
    hard = replace(p.policy, enforcement="hard")
    assert solve_reference(replace(p, policy=hard)).status == "Infeasible"
    # access needs 50 km (A->SB): with max_access_km 40 the flow has no access -> exempt
    far = replace(hard, max_access_km=40.0)
    assert solve_reference(replace(p, policy=far)).objective_cny == pytest.approx(100_000.0)


def test_reference_matches_solver_on_tiny(tmp_path: Path) -> None:
    solve_mod = pytest.importorskip("freight.solve")
    scenario_mod = pytest.importorskip("freight.scenario")
    networks = pytest.importorskip("networks")
    toml = generate("tiny", tmp_path / "tiny", seed=3)
    scenario = scenario_mod.load_scenario(toml)
    problem = scenario_mod.build_problem(
        scenario, networks.load_network(scenario.network, use_cache=False)
    )
    for enforcement in ("off", "soft", "hard"):
        p = replace(problem, policy=replace(problem.policy, enforcement=enforcement))
        ours = solve_mod.solve(p)
        ref = solve_reference(p)
        if ref.status == "Infeasible":
            assert ours.status.value == "infeasible"
            continue
        assert ours.objective_cny == pytest.approx(ref.objective_cny, rel=1e-6)
