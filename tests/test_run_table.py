"""The terminal table of ``freight run``: the three states, the rule's effect and the
voluntary shift, the policy and abatement costs with their definitions, the warning and the
capital of new infrastructure (on the hand-worked instance of tests/test_states_hand.py)."""

from __future__ import annotations

import io
from pathlib import Path

from freight.outputs import write_results
from freight.run import RunResult, print_table
from freight.solve import baseline, solve, solve_policy_off
from tests.test_states_hand import _problem


def _table(tmp_path: Path, **meta: object) -> str:
    prob = _problem()
    on = solve(prob)
    summary = write_results(prob, on, baseline(prob), solve_policy_off(prob, on), tmp_path / "r",
                            scenario_meta={"scenario": "t", **meta})  # fmt: skip
    out = io.StringIO()
    print_table(RunResult(out_dir=tmp_path / "r", summary=summary, timings={}), stream=out)
    return out.getvalue()


def test_three_columns_then_the_differences(tmp_path: Path) -> None:
    text = _table(tmp_path)
    lines = text.splitlines()
    head = next(i for i, x in enumerate(lines) if "least cost" in x and "!!" not in x)
    assert "today" in lines[head] and "rule effect" in lines[head] and "voluntary" in lines[head]
    assert "without rule" in lines[head + 1] and "with rule" in lines[head + 1]
    assert "without−with" in lines[head + 1] and "today−without" in lines[head + 1]
    row = next(x for x in lines if x.startswith("road tonnes (line haul)"))
    # today 1,650; without 990; with 0; rule effect +990; voluntary +660
    assert row.split()[-6:] == ["1,650", "990", "0", "+990", "+660", "t"]
    trips = next(x for x in lines if x.startswith("truck trips, 短驳 access"))
    assert trips.split()[-6:] == ["0", "40", "100", "-60", "-40", "trips"]
    assert any(x.startswith("truck trips, total") for x in lines)


def test_definitions_and_the_abatement_division(tmp_path: Path) -> None:
    text = _table(tmp_path)
    assert "policy cost (objective with the rule − objective without it" in text
    assert "17,424 CNY/yr" in text
    assert "CO2 abated by the rule (CO2 without − CO2 with): 18 t/yr" in text
    assert "policy cost ÷ CO2 abated by the rule = 17,424 ÷ 18): 985.4 CNY/t" in text
    assert "990 t off the road" in text and "60 more 短驳" in text and "30 fewer line haul" in text
    assert "WARNING [uncalibrated]" in text and "calibrate" in text and "请先校准" in text
    assert "annualised capital" not in text  # the scenario lists no investment


def test_capital_beside_the_yearly_cost(tmp_path: Path) -> None:
    inv = [{"id": "sdg", "name": "专用线", "capex_cny": 1e6, "life_years": 30,
            "discount_rate": 0.06, "annualised_cny": 72_649.0, "source": "estimate"}]  # fmt: skip
    text = _table(tmp_path, investments=inv)
    line = next(x for x in text.splitlines() if "annualised capital" in x)
    assert "(专用线): 72,649 CNY/yr" in line
    assert f"{293_700 + 72_649:,.0f} CNY/yr" in line  # with-rule cost + annualised capital
