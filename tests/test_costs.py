"""The costs shippers pay (issue 14, item 2): each part priced by hand on the hand case of
tests/calibration_cases.py (a 500 km road and a 500 km railway between O and D)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from freight.baseline import baseline
from freight.expanded_graph import MultimodalGraph
from freight.scenario import build_problem, load_scenario
from freight.solve import solve
from networks import InputErrors, load_network
from tests.calibration_cases import write_case

T = 1_000_000.0


def _chains(path: Path, overrides: dict | None = None, *, rule: bool = False):  # type: ignore[no-untyped-def]  # noqa: E501
    """The optimum (rule off unless ``rule``), the graph and the problem."""
    scenario = load_scenario(path, overrides)
    problem = build_problem(scenario, load_network(scenario.network))
    if not rule:
        problem = replace(problem, policy=problem.policy.off())
    graph = MultimodalGraph(problem.network, problem.costs)
    sol = solve(problem, graph=graph)
    return sol, graph, problem


def test_a_truck_trip_costs_its_fixed_part_once_per_road_leg(tmp_path: Path) -> None:
    """660 CNY a trip ÷ 33 t = 20 CNY/t on the 150 CNY/t road haul: 170; rail stays 140."""
    path = write_case(tmp_path, flows=[("F1", T, "road")])
    sol, graph, problem = _chains(path, {"costs.road.cny_per_trip": 660.0})
    assert problem.costs.of("road", "coal").cny_per_t == pytest.approx(20.0)
    assert sol.objective_cny == pytest.approx(140.0 * T)  # rail, with no truck trip
    (today,) = baseline(problem, graph).assignments  # road, one trip
    assert today.chain.cost_cny_per_t == pytest.approx(170.0)


def test_short_haul_trucks_pay_the_trip_twice_on_a_rail_chain(tmp_path: Path) -> None:
    """D without its own siding: rail to a yard S 5 km short of D, then a truck: 10 +
    123.75 (495 km) + 2.5 (O) + 20 (yard, default for a station) + 1.5 (5 km) + the trip's
    fixed cost; the road chain pays one trip too, and is cheaper (160): the rule forces rail."""
    path = write_case(tmp_path, flows=[("F1", T, "road")])
    (tmp_path / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        "O,矿,115.0,36.0,mine,road;rail,2.5,,test\n"
        "D,厂,116.0,36.0,shipper,road,,,test\n"
        "S,站,115.99,36.0,station,road;rail,,,test\n",
        encoding="utf-8",
    )
    sol, graph, problem = _chains(path, {"costs.road.cny_per_trip": 330.0}, rule=True)
    (a,) = sol.assignments
    assert [leg.mode for leg in a.chain.legs] == ["rail", "road"]
    assert a.chain.lifts == ("O", "S")
    # 10 CNY/t a trip; the yard's handling is the station default, 20
    assert a.chain.cost_cny_per_t == pytest.approx(10 + 123.75 + 2.5 + 20 + 1.5 + 10, abs=1e-3)
    cost, _ = graph.chain_cost(a.chain, "coal")
    assert cost == pytest.approx(a.chain.cost_cny_per_t, abs=1e-9)


def test_handling_by_kind_fills_blanks_and_a_place_value_wins(tmp_path: Path) -> None:
    path = write_case(
        tmp_path, flows=[("F1", T, "road")], extra="[costs.handling]\nmine = 7.0\nsiding = 3.0\n"
    )
    (tmp_path / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        "O,矿,115.0,36.0,mine,road;rail,,,test\n"
        "D,厂,116.0,36.0,siding,road;rail,4,,test\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    problem = build_problem(scenario, load_network(scenario.network))
    assert problem.network.places["O"].handling_cny_per_t == 7.0  # blank: the kind's
    assert problem.network.places["D"].handling_cny_per_t == 4.0  # the table's own
    assert scenario.handling_of("plant") == scenario.handling_cny_per_t  # not listed
    assert scenario.parameters["costs.handling.mine"].value == 7.0


def test_rail_charges_beside_the_tariff_add_per_rail_leg(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "rail")])
    sol, _, problem = _chains(
        path, {"costs.rail.misc_cny_per_t": 3.0, "costs.rail.reliability_cny_per_t": 4.0}
    )
    assert problem.costs.of("rail", "coal").cny_per_t == pytest.approx(10.0 + 3.0 + 4.0)
    assert sol.objective_cny == pytest.approx(147.0 * T)


def test_time_costs_hours_on_the_way_and_in_yards(tmp_path: Path) -> None:
    """At 0.1 CNY/t·h: road 500 km at 50 km/h = 10 h → +1; rail 500 km at 25 km/h = 20 h
    plus two lifts of 24 h → +6.8. Road 151, rail 146.8."""
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road")],
        extra="[costs.time]\ncny_per_t_hour = 0.1\ndwell_h = 24.0\n",
    )
    sol, graph, problem = _chains(
        path, {"costs.road.speed_kmh": 50.0, "costs.rail.speed_kmh": 25.0}
    )
    (a,) = sol.assignments
    assert a.chain.cost_cny_per_t == pytest.approx(146.8)
    assert graph.chain_cost(a.chain, "coal")[0] == pytest.approx(146.8)
    # per commodity
    slow = write_case(
        tmp_path / "b", flows=[("F1", T, "road")], extra="[costs.time.coal]\ncny_per_t_hour = 0.0\n"
    )
    assert load_scenario(slow).costs.time_value("coal") == 0.0


def test_investments_are_annualised_at_the_discount_rate(tmp_path: Path) -> None:
    """3.1 bn over 50 years at 8 %: 3.1e9 × 0.08 / (1 − 1.08^−50) = 253.4 M CNY a year."""
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road")],
        extra="""
[investments.siding]
name = "鲁西专用线"
capex_cny = 3.1e9
life_years = 50
source = "test"
""",
    )
    (inv,) = load_scenario(path).investments
    assert inv.annualised_cny == pytest.approx(3.1e9 * 0.08 / (1 - 1.08**-50))
    assert inv.annualised_cny == pytest.approx(253.4e6, rel=1e-3)
    assert inv.as_dict()["name"] == "鲁西专用线"
    zero = load_scenario(path, {"costs.discount_rate": 0.0}).investments[0]
    assert zero.annualised_cny == pytest.approx(3.1e9 / 50)


def test_sources_say_where_a_value_comes_from(tmp_path: Path) -> None:
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road")],
        extra='[sources]\n"costs.road.cny_per_tkm" = "a shipper survey, 2019"\n',
    )
    source = load_scenario(path).parameters["costs.road.cny_per_tkm"].source
    assert source == "a shipper survey, 2019 (scenario case.toml)"


def test_overrides_act_as_a_scenario_extending_the_file(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")])
    s = load_scenario(path, {"policy.threshold_km": 300.0, "costs.road.cny_per_tkm": 0.4})
    assert s.policy.threshold_km == 300.0
    assert s.costs.of("road", "coal").cny_per_tkm == 0.4
    assert s.parameters["policy.threshold_km"].source == "scenario override"
    with pytest.raises(InputErrors) as err:
        load_scenario(path, {"policy.threshold": 300.0, "costs.road.cny_per_tkm": -1.0})
    text = str(err.value)
    assert "'threshold': unknown key" in text and "expected a number ≥ 0, got -1.0" in text


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        ("[costs.pipeline]\nmisc_cny_per_t = 1.0\n", "unknown key; allowed: cny_per_tkm"),
        ("[costs.pipeline.coal]\nspeed_kmh = 1.0\n", "unknown key"),
        ("[costs.handling]\nwharf = 1.0\n", "unknown key; allowed: city, county"),
        (
            "[investments.x]\nname = 'x'\ncapex_cny = 1.0\nlife_years = 0\nsource = 's'\n",
            "expected a number > 0, got 0",
        ),
        ("[investments.x]\ncapex_cny = 1.0\nlife_years = 10\n", "required: where the capital"),
        ("[costs.time]\nspeed = 1.0\n", "unknown key; allowed: cny_per_t_hour, dwell_h"),
        ('[sources]\n"costs.road.cny_per_tkm" = 3\n', "expected the text of a source"),
    ],
)
def test_bad_cost_keys_are_named(tmp_path: Path, extra: str, expect: str) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], extra=extra)
    with pytest.raises(InputErrors) as err:
        load_scenario(path)
    assert expect in str(err.value)
