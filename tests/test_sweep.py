"""``freight sweep``: points, the hand-worked threshold curve, the marginal abatement cost
curve, failures, reruns, identity with separate ``freight run``s, and the files.

The hand case (tests/sweep_cases.py): two coal flows of 300 km (1,000 t) and 500 km
(2,000 t), road the cheaper for both; the rule moves a flow exactly when its haul reaches
the threshold.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from freight import sweep as sweep_mod
from freight.cli import main
from freight.scenario import load_scenario
from freight.sweep import make_plan, parse_vary, plan_sweep, run_sweep, sample
from freight.sweep_points import grid, point_toml
from freight.sweep_results import mac_curve, summary_figures, write_sweep
from maps.sweep_page import render_sweep
from networks import InputError, InputErrors
from tests.sweep_cases import F1_KM, F1_T, F2_KM, F2_T, write_two_flows

MOVED = "comparisons.rule_effect.road_t"
COST = "comparisons.policy_cost_cny"
CO2 = "comparisons.co2_abated_by_rule_t"


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two_flows(tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two_flows(tmp_path_factory.mktemp("capped"), rail_capacity_t=1000.0)


def _thresholds(values: list[float]) -> list[dict[str, float]]:
    return [{"policy.threshold_km": v} for v in values]


# --- points -----------------------------------------------------------------------------


def test_ranges_lists_and_their_errors() -> None:
    assert parse_vary("policy.threshold_km=200:800:50").values == tuple(
        float(x) for x in range(200, 801, 50)
    )
    assert parse_vary("costs.road.cny_per_tkm=0.25:0.35:0.05").values == (0.25, 0.3, 0.35)
    assert parse_vary("policy.enforcement=hard,soft").values == ("hard", "soft")
    for bad in ("policy.threshold_km", "=1,2", "policy.threshold_km=800:200:50",
                "policy.threshold_km=1:2:0", "policy.threshold_km=a:b:c",
                "policy.threshold_km=0:1e9:1"):  # fmt: skip
        with pytest.raises(InputError) as exc:
            parse_vary(bad)
        assert "\n" not in str(exc.value) and "--vary" in str(exc.value)


def test_grids_cross_by_default_and_zip_on_request() -> None:
    a, b = parse_vary("policy.threshold_km=300,400"), parse_vary("policy.penalty_cny_per_t=1,2")
    assert grid([a, b]) == [
        {"policy.threshold_km": 300.0, "policy.penalty_cny_per_t": 1.0},
        {"policy.threshold_km": 300.0, "policy.penalty_cny_per_t": 2.0},
        {"policy.threshold_km": 400.0, "policy.penalty_cny_per_t": 1.0},
        {"policy.threshold_km": 400.0, "policy.penalty_cny_per_t": 2.0},
    ]
    assert grid([a, b], zipped=True) == [
        {"policy.threshold_km": 300.0, "policy.penalty_cny_per_t": 1.0},
        {"policy.threshold_km": 400.0, "policy.penalty_cny_per_t": 2.0},
    ]
    with pytest.raises(InputError, match="as many values"):
        grid([a, parse_vary("policy.penalty_cny_per_t=1,2,3")], zipped=True)


def test_every_bad_point_is_named_at_once_before_anything_is_solved(two: Path) -> None:
    with pytest.raises(InputErrors) as exc:
        make_plan(two, [{"policy.threshold_km": -1.0}, {"policy.treshold_km": 300.0},
                        {"policy.threshold_km": 300.0}])  # fmt: skip
    lines = [e.line() for e in exc.value.errors]
    assert len(lines) == 2
    assert "point 0" in lines[0] and "threshold_km" in lines[0]
    assert "point 1" in lines[1] and "treshold_km" in lines[1] and "unknown key" in lines[1]


def test_a_point_is_a_toml_that_extends_the_base(two: Path, tmp_path: Path) -> None:
    plan = make_plan(two, [{"policy.threshold_km": 300.0, "costs.road.cny_per_tkm": 0.3}])
    spec = plan.specs[0]
    text = point_toml(two, spec, tmp_path)
    (tmp_path / f"{spec.name}.toml").write_text(text, encoding="utf-8")
    sc = load_scenario(tmp_path / f"{spec.name}.toml")
    assert sc.name == spec.name == "two-flows-threshold_km=300-cny_per_tkm=0.3"
    assert sc.policy.threshold_km == 300.0
    assert sc.costs.by_mode["road"].cny_per_tkm == 0.3
    # the same parameters in effect as the override gives: the same result key
    from freight.sweep_points import point_key

    assert point_key(sc) == spec.key


def _with_ranges(tmp_path: Path, distribution: str) -> Path:
    cal = f"""[calibration.parameters."costs.road.cny_per_tkm"]
lower = 0.2
upper = 0.4
source = "test"
distribution = "{distribution}"
[calibration.parameters."costs.rail.reliability_cny_per_t"]
lower = 0.0
upper = 10.0
source = "test"
"""
    return write_two_flows(tmp_path, calibration=cal)


def test_draws_stay_in_their_ranges_and_repeat_with_the_seed(tmp_path: Path) -> None:
    sc = load_scenario(_with_ranges(tmp_path, "triangular"))
    a, b, c = sample(sc, 200, 7), sample(sc, 200, 7), sample(sc, 200, 8)
    assert a == b and a != c
    road = [d["costs.road.cny_per_tkm"] for d in a]
    rel = [d["costs.rail.reliability_cny_per_t"] for d in a]
    assert all(0.2 <= v <= 0.4 for v in road) and all(0.0 <= v <= 10.0 for v in rel)
    # triangular around the scenario's 0.28: more draws below 0.3 than above (0.8 vs 0.2
    # of the mass below the midpoint... of [0.2, 0.4], P(x < 0.3) = 0.55 for mode 0.28)
    assert sum(v < 0.3 for v in road) > 100
    with pytest.raises(InputError, match="no parameter declares a range"):
        sample(load_scenario(write_two_flows(tmp_path / "none")), 3, 0)


def test_a_bad_distribution_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputErrors, match="distribution.*expected one of uniform, triangular"):
        load_scenario(_with_ranges(tmp_path, "normal"))


# --- the hand-worked curve, the MAC curve -----------------------------------------------


def test_threshold_curve_steps_exactly_at_the_two_flows_hauls(two: Path) -> None:
    eps = 0.1
    thresholds = [F1_KM - eps, F1_KM, F1_KM + eps, F2_KM - eps, F2_KM, F2_KM + eps]
    sweep = run_sweep(two, _thresholds(thresholds))
    assert [r.status for r in sweep.results] == ["optimal"] * 6
    moved = [r.figures[MOVED] for r in sweep.results]
    assert moved == [F1_T + F2_T] * 2 + [F2_T] * 3 + [0.0]
    assert [r.figures["comparisons.voluntary.road_t"] for r in sweep.results] == [0.0] * 6
    cost = [r.figures[COST] for r in sweep.results]
    assert cost == pytest.approx([36_000.0] * 2 + [20_000.0] * 3 + [0.0], abs=1e-6)
    co2 = [r.figures[CO2] for r in sweep.results]
    assert co2 == pytest.approx([65.0] * 2 + [50.0] * 3 + [0.0], abs=1e-9)
    assert sweep.results[0].figures["comparisons.co2_abatement_cny_per_t"] == pytest.approx(
        36_000 / 65
    )


def test_mac_curve_sorts_flows_by_cost_per_tonne_of_co2_and_sums_to_the_policy_cost(
    two: Path,
) -> None:
    (r,) = run_sweep(two, _thresholds([300.0])).results
    curve, rest = mac_curve(r.mac)
    assert [m["flow_id"] for m in curve] == ["F2", "F1"] and rest == []
    f2, f1 = curve
    assert f2["cny_per_t_co2"] == pytest.approx(20_000 / 50) == 400.0
    assert f1["cny_per_t_co2"] == pytest.approx(16_000 / 15)
    assert (f1["moved_t"], f2["moved_t"]) == (F1_T, F2_T)
    assert (f1["cny_per_t_moved"], f2["cny_per_t_moved"]) == (16.0, 10.0)
    # each bar's area (height × width) is its rule cost; together the policy cost
    areas = [m["cny_per_t_co2"] * m["co2_saved_t"] for m in curve]
    assert sum(areas) == pytest.approx(r.figures[COST]) == pytest.approx(36_000.0)


def test_a_failing_point_is_in_the_table_as_infeasible_and_the_sweep_finishes(
    capped: Path, tmp_path: Path
) -> None:
    sweep = run_sweep(capped, _thresholds([400.0, 600.0]), cache_dir=tmp_path / "cache")
    bad, good = sweep.results
    assert bad.status == "infeasible" and "hard rule cannot hold" in bad.error and "F2" in bad.error
    assert bad.figures == {} and bad.mac == []
    assert good.status == "optimal" and good.figures[MOVED] == 0.0
    out = tmp_path / "out"
    meta = write_sweep(sweep, out)
    assert meta["counts"] == {"optimal": 1, "infeasible": 1, "input_error": 0, "error": 0}
    df = pd.read_parquet(out / "sweep.parquet")
    assert df["status"].tolist() == ["infeasible", "optimal"]
    assert math.isnan(df[MOVED][0]) and df[MOVED][1] == 0.0
    page = render_sweep(out).read_text(encoding="utf-8")
    assert "不可行 infeasible" in page and 'class="failed"' in page
    # the infeasible point is stored: it is the model's answer, not a crash
    assert (tmp_path / "cache" / f"{bad.key}.json").is_file()


def test_an_unexpected_error_at_one_point_does_not_stop_the_others(
    two: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import freight.run

    real = freight.run.solve_states

    def flaky(problem, graph, **kw):  # type: ignore[no-untyped-def]
        if problem.policy.threshold_km == 300.0:
            raise RuntimeError("disk full")
        return real(problem, graph, **kw)

    monkeypatch.setattr(freight.run, "solve_states", flaky)
    sweep = run_sweep(two, _thresholds([300.0, 500.0]), cache_dir=tmp_path)
    assert [r.status for r in sweep.results] == ["error", "optimal"]
    assert sweep.results[0].error == "RuntimeError: disk full"
    assert not (tmp_path / f"{sweep.results[0].key}.json").exists()  # retried next time


def test_a_rerun_recomputes_nothing(two: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    points = _thresholds([250.0, 300.0, 450.0])
    first = run_sweep(two, points, cache_dir=tmp_path)
    assert not any(r.cached for r in first.results)

    def no_solving(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a stored point was solved again")

    monkeypatch.setattr(sweep_mod, "solve_point", no_solving)
    seen = []

    def note(done: int, total: int, r: sweep_mod.PointResult) -> None:
        seen.append((done, total, r.cached))

    again = run_sweep(two, points, cache_dir=tmp_path, progress=note)
    assert seen == [(1, 3, True), (2, 3, True), (3, 3, True)]
    assert [r.figures for r in again.results] == [r.figures for r in first.results]
    assert [r.mac for r in again.results] == [r.mac for r in first.results]


def test_a_changed_input_file_is_a_new_result(two: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    path = write_two_flows(folder)
    (spec,) = make_plan(path, _thresholds([300.0])).specs
    flows = folder / "flows.csv"
    flows.write_text(flows.read_text(encoding="utf-8").replace("2000.0", "2500.0"),
                     encoding="utf-8")  # fmt: skip
    (spec2,) = make_plan(path, _thresholds([300.0])).specs
    assert spec.key != spec2.key


# --- the same results everywhere ----------------------------------------------------------


def _figures_of_run(toml: Path, out: Path) -> dict:
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    return summary_figures(json.loads((out / "summary.json").read_text(encoding="utf-8")))


def test_local_cluster_in_process_and_separate_runs_give_identical_results(
    two: Path, tmp_path: Path
) -> None:
    from freight.cluster import dask_client

    # thresholds and a cost: the recosted graph is exercised too
    plan = plan_sweep(two, [parse_vary("policy.threshold_km=300,500"),
                            parse_vary("costs.road.cny_per_tkm=0.28,0.31")])  # fmt: skip
    here = run_sweep(two, plan)
    with dask_client(workers=2) as client:
        there = run_sweep(two, plan, client)
    assert [r.figures for r in there.results] == [r.figures for r in here.results]
    assert [r.mac for r in there.results] == [r.mac for r in here.results]
    write_sweep(here, tmp_path / "sw")
    for r in here.results:
        alone = _figures_of_run(tmp_path / "sw" / "points" / f"{r.name}.toml",
                                tmp_path / "runs" / r.name)  # fmt: skip
        assert alone == r.figures, r.name  # bit for bit: a point is solved as freight run does
    # a dearer road makes rail the cheaper for F2 of its own accord (0.31 × 500 = 155 > 150)
    vol = {r.name: r.figures["comparisons.voluntary.road_t"] for r in here.results}
    assert vol["two-flows-threshold_km=300-cny_per_tkm=0.31"] == F2_T


@pytest.mark.slow
def test_the_default_sweep_equals_separate_runs_and_its_mac_sums_to_the_policy_cost(
    tmp_path: Path,
) -> None:
    from freight.cli import default_scenario

    sweep = run_sweep(default_scenario(), _thresholds([350.0, 400.0]))
    write_sweep(sweep, tmp_path / "sw")
    for r in sweep.results:
        assert r.status == "optimal"
        alone = _figures_of_run(tmp_path / "sw" / "points" / f"{r.name}.toml",
                                tmp_path / "runs" / r.name)  # fmt: skip
        assert alone == r.figures
        total = sum(m["rule_cost_cny"] for m in r.mac)  # flows.csv rounds each to 0.01 CNY
        assert total == pytest.approx(r.figures[COST], abs=0.005 * len(r.mac) + 1e-6)
        assert r.figures[MOVED] > 0


# --- the command and its files ------------------------------------------------------------


def test_freight_sweep_writes_the_tables_the_page_and_the_points(
    two: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    args = ["sweep", str(two), "--vary", "policy.threshold_km=200:600:100", "--workers", "0",
            "--out", str(out), "--keep-runs"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert re.search(r"\[#+\] 5/5 .*threshold_km=600", err)
    for name in ("sweep.csv", "sweep.parquet", "mac.csv", "mac.parquet", "sweep.json",
                 "sweep.html"):  # fmt: skip
        assert (out / name).is_file(), name
    raw = (out / "sweep.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    with open(out / "sweep.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["policy.threshold_km"]) for r in rows] == [200, 300, 400, 500, 600]
    assert [float(r[MOVED]) for r in rows] == [3000, 3000, 2000, 2000, 0]
    # each point re-runs alone, and its kept result folder is a whole one
    names = [r["name"] for r in rows]
    assert sorted(p.stem for p in (out / "points").glob("*.toml")) == sorted(names)
    for n in names:
        assert (out / "runs" / n / "map.html").is_file()
        assert (out / "runs" / n / "flows.xlsx").is_file()
    mac = pd.read_csv(out / "mac.csv", encoding="utf-8-sig")
    at300 = mac[mac["policy.threshold_km"] == 300]
    assert at300["rule_cost_cny"].sum() == pytest.approx(36_000.0)
    # a rerun reads every point back
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.count("(stored)") == 5 and "0 to solve (5 stored)" in err


def test_bad_vary_is_exit_2_with_every_problem_on_its_own_line(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sweep", str(two), "--vary", "policy.threshold_km=9:1:1", "--vary",
                 "policy.nonsense=1,2", "--workers", "0"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "start ≤ stop" in err[0]
    assert main(["sweep", str(two), "--vary", "policy.nonsense=1,2", "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("nonsense" in e and "unknown key" in e for e in err)


def test_csv_cells_are_neutralised_and_the_page_escapes_data(two: Path, tmp_path: Path) -> None:
    evil = ["=1+1", "<script>alert(1)</script>"]
    sweep = run_sweep(two, [{"description": v, "policy.threshold_km": 300.0} for v in evil])
    out = tmp_path / "sw"
    write_sweep(sweep, out)
    with open(out / "sweep.csv", encoding="utf-8-sig", newline="") as fh:
        cells = [r["description"] for r in csv.DictReader(fh)]
    assert cells == ["'=1+1", "<script>alert(1)</script>"]
    page = render_sweep(out).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # offline: nothing fetched


def test_samples_give_quantiles_and_drivers(tmp_path: Path) -> None:
    base = _with_ranges(tmp_path / "s", "uniform")
    plan = plan_sweep(base, [parse_vary("policy.threshold_km=300")], n_sample=12, seed=3)
    assert plan.drawn_keys == ("costs.rail.reliability_cny_per_t", "costs.road.cny_per_tkm")
    sweep = run_sweep(base, plan)
    meta = write_sweep(sweep, tmp_path / "out")
    cost = meta["headlines"][COST]
    assert cost["n"] == 12 and cost["p10"] <= cost["p50"] <= cost["p90"]
    vals = sorted(r.figures[COST] for r in sweep.results)
    assert cost["p50"] == pytest.approx((vals[5] + vals[6]) / 2)
    # the road rate drives it most: a dearer road narrows the gap the rule makes them pay
    # (at 0.30 and above rail is the cheaper for F2 of its own accord), while rail's
    # 0-10 CNY/t unreliability moves the gap less than the road rate's 0.2-0.4 × 300-500 km
    top = cost["drivers"][0]
    assert top["parameter"] == "costs.road.cny_per_tkm" and top["spearman"] < -0.5
    page = render_sweep(tmp_path / "out").read_text(encoding="utf-8")
    assert "P10" in page and "Spearman" in page and "驱动因素" in page


def test_a_scheduler_that_does_not_answer_is_one_line_and_exit_1(
    two: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sweep", str(two), "--vary", "policy.threshold_km=300", "--scheduler",
                 "tcp://127.0.0.1:9", "--out", str(tmp_path / "sw")])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: no Dask scheduler answers at tcp://127.0.0.1:9")


def test_warm_starts_from_the_nearest_point_solved_on_the_same_graph(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import freight.run

    real = freight.run.solve_states
    warmed: list[float | None] = []

    def spy(problem, graph, **kw):  # type: ignore[no-untyped-def]
        w = kw.get("warm")
        warmed.append(None if w is None else w.stats.get("cost_cny"))
        return real(problem, graph, **kw)

    monkeypatch.setattr(freight.run, "solve_states", spy)
    points = [{"policy.threshold_km": t, "costs.road.cny_per_tkm": c}
              for c in (0.28, 0.29) for t in (250.0, 320.0, 600.0)]  # fmt: skip
    warm = run_sweep(two, points, warm=True)
    # the first point of each graph (each road rate) starts cold, the others warm
    assert [w is None for w in warmed] == [True, False, False, True, False, False]
    monkeypatch.setattr(freight.run, "solve_states", real)
    cold = run_sweep(two, points)
    for a, b in zip(warm.results, cold.results, strict=True):  # no ties here: the same optimum
        assert a.figures[COST] == pytest.approx(b.figures[COST], rel=1e-12)
        assert a.figures[MOVED] == b.figures[MOVED]
