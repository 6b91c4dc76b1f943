"""Only an optimum is ever written: every other solver status is a non-zero exit with one
line, a limit is never reported as an optimum, and phase 1 and phase 2 agree (issue 15)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from freight.cli import main
from freight.problem import Flow, Solution, Status
from freight.solve import solve
from tests import tinynet as tn
from tests.generated import generated_problem
from tests.scenario_kit import write_scenario
from tests.test_optimiser_hand import costs, layout, policy

DATA = Path(__file__).resolve().parents[1] / "data"


def test_status_members() -> None:
    assert {s.name for s in Status} == {
        "OPTIMAL", "INFEASIBLE", "ITERATION_LIMIT", "TIME_LIMIT", "ERROR"}


@pytest.mark.parametrize("capacity_t", [2_299_999.0, 2_299_999.99])
def test_a_shortfall_within_phase_1_tolerance_is_infeasible_not_an_error(
    capacity_t: float,
) -> None:
    """A hard-rule flow of 2,300,000 t whose only compliant chain passes a terminal of
    ``capacity_t``, beside a 10^8 t flow that makes phase 1's tolerance (then 1e-7 of all
    tonnes, 10 t) larger than the shortfall: phase 1 said feasible, phase 2 infeasible,
    and the solve returned Status.ERROR. Now INFEASIBLE, naming the flow, its shortfall
    and the terminal."""
    prob = tn.problem(
        layout(401.0, ta_cap=capacity_t),
        [Flow("f1", "coal", "O", "D", 2_300_000.0), Flow("big", "steel", "O", "D", 1e8)],
        cost=costs(0.3),
        policy=policy(),
    )
    sol = solve(prob)
    assert sol.status is Status.INFEASIBLE
    short = f"{2_300_000 - capacity_t:,.2f}".rstrip("0").rstrip(".")
    assert f"f1 ({short} of 2,300,000 t unserved)" in sol.message
    assert "terminal_TA" in sol.message
    assert sol.assignments == ()


def test_the_iteration_limit_is_never_an_optimum(tmp_path: Path) -> None:
    """The issue: reaching max_iterations returned OPTIMAL with a wrong objective."""
    prob = generated_problem("small", tmp_path, 3)
    best = solve(prob)
    assert best.status is Status.OPTIMAL and best.iterations >= 2
    for k in range(1, best.iterations):
        cut = solve(prob, max_iterations=k)
        assert cut.status is Status.ITERATION_LIMIT
        assert cut.assignments == () and "optimum not proved" in cut.message
    again = solve(prob, max_iterations=best.iterations)
    assert again.status is Status.OPTIMAL
    assert again.objective_cny == pytest.approx(best.objective_cny, rel=1e-12)
    assert solve(prob, time_limit=0.0).status is Status.TIME_LIMIT


@pytest.mark.parametrize(
    ("status", "where"),
    [(Status.ITERATION_LIMIT, "on"), (Status.TIME_LIMIT, "on"), (Status.ERROR, "on"),
     (Status.ERROR, "off")],
)  # fmt: skip
def test_a_solve_without_optimum_exits_1_in_one_line_and_writes_nothing(
    status: Status,
    where: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import freight.solve

    real = freight.solve.solve

    def fake(problem: object, **kw: object) -> Solution:
        sol = real(problem, **kw)  # type: ignore[arg-type]
        off = problem.policy.enforcement == "off"  # type: ignore[attr-defined]
        if off == (where == "off"):
            return replace(sol, status=status, assignments=(), message="what the solver said")
        return sol

    monkeypatch.setattr(freight.solve, "solve", fake)
    toml = write_scenario(tmp_path / "s")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the solve with") and "nothing written" in err[-1]
    assert status.value.replace("_", " ") in err[-1] and "what the solver said" in err[-1]
    assert not out.exists()


@pytest.mark.slow
def test_shaqu_capacity_2299999_exits_3_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's reproduction: 沙曲二矿's capacity_t set to 2,299,999 in a copy of
    data/north_china/places.csv wrote Status.ERROR as a result, with exit 0."""
    shutil.copytree(DATA / "north_china", tmp_path / "north_china")
    shutil.copytree(DATA / "liaocheng", tmp_path / "liaocheng")
    shutil.copy(DATA / "commodities.csv", tmp_path / "commodities.csv")
    places = tmp_path / "north_china" / "places.csv"
    text = places.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("mine_liulin_shaqu,"))
    assert ",2700000," in row  # its capacity_t, the only such cell of the row
    places.write_text(text.replace(row, row.replace(",2700000,", ",2299999,")),
                      encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "liaocheng" / "liaocheng-2019.toml"), "--no-maps",
                 "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert err[-1].startswith("infeasible: ") and "terminal_mine_liulin_shaqu" in err[-1]
    assert "(1 of " in err[-1]
    assert not out.exists()
