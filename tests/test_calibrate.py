"""`freight calibrate`: hand-worked inverse optimisation (tests/calibration_cases.py).

On the hand case the road chain costs 0.30 × 500 = 150 CNY/t and the rail chain
10 + 0.25 × 500 + 2 × 2.5 = 140 CNY/t: rail is cheaper by 10.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from freight.calibrate import calibrate, write_calibration
from freight.cli import main
from freight.scenario import build_problem, load_scenario
from freight.solve import solve, solve_policy_off
from networks import InputErrors, load_network
from tests.calibration_cases import RELIABILITY, write_case

T = 1_000_000.0


def _fit(path: Path):  # type: ignore[no-untyped-def]
    cal = calibrate(path)
    (param,) = cal.parameters
    return cal, param


def test_a_baseline_already_optimal_needs_no_change(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "rail")], calibration=RELIABILITY.format(upper=50))
    cal, p = _fit(path)
    assert p.value == p.prior == 0.0 and p.binds == ""
    (f,) = cal.flows
    assert f.misfit_cny_per_t == 0.0 and f.reproduced
    assert f.baseline_cny_per_t == pytest.approx(140.0)
    assert f.alternative_cny_per_t == pytest.approx(150.0)
    assert cal.reproduced_share == 1.0


def test_road_baseline_with_rail_cheaper_by_10_gives_plus_10(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=RELIABILITY.format(upper=50))
    cal, p = _fit(path)
    assert p.value == 10.0 and p.binds == ""
    (f,) = cal.flows
    assert f.baseline_cny_per_t == pytest.approx(150.0)
    assert f.alternative_cny_per_t == pytest.approx(150.0)  # rail, now as dear as road
    assert f.misfit_cny_per_t == pytest.approx(0.0, abs=1e-9) and f.reproduced


def test_bounds_too_tight_leave_the_misfit_reported(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=RELIABILITY.format(upper=4))
    cal, p = _fit(path)
    assert p.value == 4.0 and p.binds == "upper"
    (f,) = cal.flows
    assert f.misfit_cny_per_t == pytest.approx(6.0)
    assert not f.reproduced  # above the 2 CNY/t tolerance
    assert cal.reproduced_share == 0.0


def test_calibrating_twice_gives_the_same_result(tmp_path: Path) -> None:
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road"), ("F2", 2 * T, "rail")],
        calibration=RELIABILITY.format(upper=50),
    )
    cal, p = _fit(path)
    out = write_calibration(cal, tmp_path / "out")
    again, q = _fit(out / "calibrated.toml")
    assert q.prior == p.value and q.value == p.value
    assert [f.misfit_cny_per_t for f in again.flows] == [f.misfit_cny_per_t for f in cal.flows]
    text = (out / "calibrated.toml").read_text(encoding="utf-8")
    assert 'extends = "../case.toml"' in text and "reliability_cny_per_t = 10.0" in text
    assert "calibrated by freight calibrate (inverse LP) from flows F1, F2" in text
    # the calibrated scenario records where its value came from
    source = load_scenario(out / "calibrated.toml").parameters[p.key].source
    assert source.startswith("calibrated by freight calibrate")


def test_margin_makes_the_choice_strict_and_prices_the_rule(tmp_path: Path) -> None:
    """With a 1 CNY/t margin, rail ends 1 CNY/t dearer than road: the rule (500 km coal,
    rail at both ends) forces the flow onto rail at 1 CNY/t, and abates 60 − 10 g/t·km ×
    500 km = 25 kg of CO2 a tonne, so 1 / 0.025 = 40 CNY per tonne of CO2."""
    calib = RELIABILITY.format(upper=50) + "[calibration]\nmargin_cny_per_t = 1.0\n"
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=calib)
    cal, p = _fit(path)
    assert p.value == 11.0
    out = write_calibration(cal, tmp_path / "out")
    scenario = load_scenario(out / "calibrated.toml")
    problem = build_problem(scenario, load_network(scenario.network))
    with_rule = solve(problem)
    without = solve_policy_off(problem, with_rule)
    assert [a.chain.line_haul_mode() for a in without.assignments] == ["road"]  # today's
    assert [a.chain.line_haul_mode() for a in with_rule.assignments] == ["rail"]
    policy_cost = with_rule.objective_cny - without.objective_cny
    assert policy_cost == pytest.approx(1.0 * T)
    co2 = without.stats["co2_t"] - with_rule.stats["co2_t"]
    assert co2 == pytest.approx(0.025 * T)
    assert (policy_cost / co2) * co2 == pytest.approx(policy_cost)
    assert policy_cost / co2 == pytest.approx(40.0)


def test_a_split_held_by_a_full_railway_is_a_capacity(tmp_path: Path) -> None:
    """Half the tonnes by rail, which is full: the rail row's shadow price, 10 CNY/t, is
    exactly the gap that keeps the other half on the road; no parameter moves."""
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road"), ("F2", T, "rail")],
        rail_capacity_t=T,
        calibration=RELIABILITY.format(upper=50),
    )
    cal, p = _fit(path)
    assert p.value == 0.0
    assert all(f.reproduced for f in cal.flows)
    assert all(f.explanation.startswith("capacity: cap_rail_") for f in cal.flows)
    (shadow,) = cal.duals.values()
    assert shadow == pytest.approx(-10.0)


def test_a_split_without_a_capacity_is_a_tie(tmp_path: Path) -> None:
    path = write_case(
        tmp_path,
        flows=[("F1", T, "road"), ("F2", T, "rail")],
        calibration=RELIABILITY.format(upper=50),
    )
    cal, p = _fit(path)
    assert p.value == 10.0
    assert [f.explanation for f in cal.flows] == ["tie", "tie"]
    assert all(f.reproduced for f in cal.flows)


def _yard_case(tmp_path: Path, *, yard_handling: float) -> Path:
    """The hand case with a public yard S 1 % of the way short of D, D's siding handling
    (prior 2.5) calibrated within 0–100."""
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration="""
[calibration.parameters."costs.handling.siding"]
lower = 0.0
upper = 100.0
source = "test"
""", extra=f"[costs.handling]\nsiding = 2.5\nstation = {yard_handling}\n")
    (tmp_path / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        "O,矿,115.0,36.0,mine,road;rail,2.5,,test\n"
        "D,厂,116.0,36.0,siding,road;rail,,,test\n"
        "S,站,115.99,36.0,station,road;rail,,,test\n",
        encoding="utf-8",
    )
    return path


def test_alternatives_grow_until_none_undercuts(tmp_path: Path) -> None:
    """A second rail chain, through a public yard S next to D, takes over as the cheapest
    alternative once the siding's handling rises: the loop must find it.

    Road 150. Rail via D's siding: 10 + 125 + 2.5 + h_siding. Rail via S (1 % of the way
    short of D): 10 + 123.75 + 2.5 + 20 (yard) + a 5 km truck at 0.30 = 157.75.
    Calibrating the siding's handling (prior 2.5, bounds 0–100) to keep the road flow
    least-cost needs h ≥ 12.5, and the yard chain (157.75) never undercuts 150: answer
    12.5, after the first alternative."""
    cal, p = _fit(_yard_case(tmp_path, yard_handling=20.0))
    assert p.value == 12.5
    assert cal.flows[0].reproduced


def test_alternatives_grow_through_a_second_chain(tmp_path: Path) -> None:
    """As above, but the yard chain is cheaper than road once the siding is dear: with the
    yard's handling at 5, rail via S costs 10 + 123.75 + 2.5 + 5 + 1.5 = 142.75 < 150, so
    no siding handling within bounds reproduces today's road: the least misfit, 150 −
    142.75 = 7.25, is reached once the siding chain is no cheaper than the yard chain
    (h = 5.25); the yard chain is found only in a second round."""
    cal, p = _fit(_yard_case(tmp_path, yard_handling=5.0))
    assert cal.rounds >= 2
    (f,) = cal.flows
    assert f.misfit_cny_per_t == pytest.approx(150.0 - f.alternative_cny_per_t)
    # both rail chains cost 142.75 (to the metres S sits off the great circle)
    assert p.value == pytest.approx(5.25, abs=1e-5)
    assert f.alternative_cny_per_t == pytest.approx(142.75, abs=1e-5)
    assert f.misfit_cny_per_t == pytest.approx(7.25, abs=1e-5)
    assert p.value - 2.5 == pytest.approx(f.alternative_cny_per_t - 140.0, abs=1e-9)


def test_writes_the_three_files_excel_reads(tmp_path: Path) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=RELIABILITY.format(upper=4))
    out = write_calibration(calibrate(path), tmp_path / "out")
    with open(out / "calibration.csv", encoding="utf-8-sig") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["parameter"] == "costs.rail.reliability_cny_per_t" and row["binds"] == "upper"
    with open(out / "flows_fit.csv", encoding="utf-8-sig") as fh:
        (flow,) = list(csv.DictReader(fh))
    assert flow["reproduced"] == "no" and math.isclose(float(flow["misfit_cny_per_t"]), 6.0)
    assert (out / "calibration.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_cli_prints_the_fit_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=RELIABILITY.format(upper=4))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "cal")]) == 0
    out = capsys.readouterr().out
    assert "reproduced 0.0% of baseline tonnes (0 of 1 flows) within 2 CNY/t" in out
    assert "F1 coal O → D" in out and (tmp_path / "cal" / "calibrated.toml").exists()


@pytest.mark.parametrize(
    ("block", "expect"),
    [
        ("", "no parameter to calibrate"),
        (
            '[calibration.parameters."costs.road.speed_kmh"]\nlower = 10.0\nupper = 90.0\n'
            'source = "x"\n',
            "not a cost parameter freight calibrate can move",
        ),
        (
            '[calibration.parameters."costs.rail.nonsense"]\nlower = 0.0\nupper = 1.0\n'
            'source = "x"\n',
            "not a numeric cost parameter",
        ),
        (
            '[calibration.parameters."costs.rail.reliability_cny_per_t"]\nlower = 5.0\n'
            'upper = 9.0\nsource = "x"\n',
            "prior value 0 lies outside [5, 9]",
        ),
        (
            '[calibration.parameters."costs.rail.reliability_cny_per_t"]\nlower = 0.0\n'
            "upper = 9.0\n",
            "required: where the bounds come from",
        ),
    ],
)
def test_bad_calibration_tables_are_input_errors(tmp_path: Path, block: str, expect: str) -> None:
    path = write_case(tmp_path, flows=[("F1", T, "road")], calibration=block)
    with pytest.raises(InputErrors) as err:
        calibrate(path)
    assert expect in str(err.value)


def test_a_margin_never_splits_a_tie_that_today_splits(tmp_path: Path) -> None:
    """A 1 CNY/t margin asks each chain to beat the alternatives by 1 CNY/t, except the
    chain the same origin–destination takes today in the other mode: the split stays a
    tie at +10, reproduced."""
    calib = RELIABILITY.format(upper=50) + "[calibration]\nmargin_cny_per_t = 1.0\n"
    path = write_case(tmp_path, flows=[("F1", T, "road"), ("F2", T, "rail")], calibration=calib)
    cal, p = _fit(path)
    assert p.value == 10.0
    assert [f.misfit_cny_per_t for f in cal.flows] == pytest.approx([0.0, 0.0], abs=1e-9)


def test_the_adjustment_that_explains_one_flow_prices_the_rule_on_another(
    tmp_path: Path,
) -> None:
    """Alumina (not covered by the rule) goes by road though rail is 9 CNY/t cheaper; with
    the default's 1 CNY/t margin, +10 on rail's wagon-supply premium explains it. Coal's
    rail tariff is 10 CNY/t dearer than alumina's rail, so at the prior its rail and road
    tie; after the +10, rail is 10 CNY/t dearer than road, and the rule (coal, 500 km, rail
    at both ends) forces it onto rail at 10 × its tonnes. The CO2 it abates is (60 − 10) g
    × 500 km = 25 kg a tonne, so abatement cost × CO2 = policy cost, at 400 CNY a tonne."""
    extra = "[costs.rail.alumina]\ncny_per_t = 11.0\ncny_per_tkm = 0.25\n"
    calib = RELIABILITY.format(upper=50) + "[calibration]\nmargin_cny_per_t = 1.0\n"
    path = write_case(tmp_path, flows=[("A1", T, "road", "alumina"), ("C1", 2 * T, "road")],
                      rail_per_t=20.0, extra=extra, calibration=calib)
    cal, p = _fit(path)
    assert p.value == 10.0
    assert all(f.reproduced for f in cal.flows)
    out = write_calibration(cal, tmp_path / "out")
    scenario = load_scenario(out / "calibrated.toml")
    problem = build_problem(scenario, load_network(scenario.network))
    with_rule = solve(problem)
    without = solve_policy_off(problem, with_rule)
    modes = {a.flow_id: a.chain.line_haul_mode() for a in without.assignments}
    assert modes == {"A1": "road", "C1": "road"}  # today's choices, without the rule
    assert {a.flow_id: a.chain.line_haul_mode() for a in with_rule.assignments} == {
        "A1": "road", "C1": "rail"}
    policy_cost = with_rule.objective_cny - without.objective_cny
    assert policy_cost == pytest.approx(10.0 * 2 * T)
    co2 = without.stats["co2_t"] - with_rule.stats["co2_t"]
    assert co2 == pytest.approx(0.025 * 2 * T)
    assert (policy_cost / co2) * co2 == pytest.approx(policy_cost)
    assert policy_cost / co2 == pytest.approx(400.0)
