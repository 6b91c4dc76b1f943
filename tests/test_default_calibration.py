"""The shipped default is calibrated: its calibration is what `freight calibrate` gives on the
prior scenario, it reproduces today's choices, and what the rule moves is the rule's own."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from freight.baseline import baseline
from freight.calibrate import calibrate
from freight.expanded_graph import MultimodalGraph
from freight.scenario import build_problem, load_scenario
from freight.solve import solve, solve_policy_off
from networks import load_network

ROOT = Path(__file__).resolve().parents[1] / "data" / "liaocheng"
PRIOR = ROOT / "liaocheng-2019-prior.toml"
SHIPPED = ROOT / "calibration"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def calibration():  # type: ignore[no-untyped-def]
    return calibrate(PRIOR)


def test_shipped_calibration_is_what_calibrate_writes(calibration) -> None:  # type: ignore[no-untyped-def]
    shipped = tomllib.loads((SHIPPED / "calibrated.toml").read_text(encoding="utf-8"))
    moved = {p.key: p.value for p in calibration.parameters if p.value != p.prior}
    found = {}
    for key in moved:
        section, _, name = key.rpartition(".")
        node = shipped
        for part in section.split("."):
            node = node[part]
        found[key] = node[name]
    assert found == pytest.approx(moved, rel=1e-6)
    with open(SHIPPED / "calibration.csv", encoding="utf-8-sig") as fh:
        rows = {r["parameter"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {p.key for p in calibration.parameters}
    with open(SHIPPED / "flows_fit.csv", encoding="utf-8-sig") as fh:
        fit = {r["flow_id"]: r["reproduced"] for r in csv.DictReader(fh)}
    assert fit == {f.flow_id: "yes" if f.reproduced else "no" for f in calibration.flows}


def test_default_reproduces_at_least_95_percent_of_baseline_tonnes(calibration) -> None:  # type: ignore[no-untyped-def]
    assert calibration.reproduced_share >= 0.95
    # every bound and prior is sourced
    assert all(p.source and p.prior_source for p in calibration.parameters)


def test_without_the_rule_the_default_keeps_todays_modes_and_the_rule_moves_its_own() -> None:
    scenario = load_scenario(ROOT / "liaocheng-2019.toml")
    problem = build_problem(scenario, load_network(scenario.network))
    graph = MultimodalGraph(problem.network, problem.costs)
    today = baseline(problem, graph)
    with_rule = solve(problem, graph=graph)
    without = solve_policy_off(problem, with_rule, graph=graph)

    def road_t(assignments) -> float:  # type: ignore[no-untyped-def]
        return sum(a.tonnes for a in assignments if a.chain.line_haul_mode() == "road")

    total = sum(f.tonnes for f in problem.flows)
    voluntary = road_t(today.assignments) - road_t(without.assignments)
    by_rule = road_t(without.assignments) - road_t(with_rule.assignments)
    assert abs(voluntary) <= 0.05 * total  # the cost model explains today's choices
    assert by_rule > 0.1 * total  # and the rule moves tonnes of its own
    # the without-rule optimum is no cheaper than today beyond the warning threshold
    cost_today = sum(a.tonnes * a.chain.cost_cny_per_t for a in today.assignments)
    assert without.objective_cny >= cost_today * (1 - scenario.calibration.warning_share)
    # the prior scenario, by contrast, calls most of the shift voluntary
    prior = load_scenario(PRIOR)
    p0 = build_problem(prior, load_network(prior.network))
    g0 = MultimodalGraph(p0.network, p0.costs)
    off0 = solve_policy_off(p0, None, graph=g0)
    assert road_t(baseline(p0, g0).assignments) - road_t(off0.assignments) > by_rule
