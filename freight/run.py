"""One run: a pure function from a scenario file to a result folder.

``run(scenario_path, out_dir)`` loads the scenario, builds the networks, solves the model
with the rule and without it, and writes the result folder (and, unless told not to, the
map and the report). It keeps no global state, so a job queue or a cluster sweep can call it
once per scenario.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from freight.progress import Progress
from networks import InfeasibleError, Network, SolverError

if TYPE_CHECKING:
    from freight.problem import Solution
    from freight.resultdir import ResultFolder
    from freight.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """Where a run wrote its files, and the summary it wrote."""

    out_dir: Path
    summary: dict
    timings: dict[str, float]


def load_network_for(scenario_path: Path, *, progress: Progress | None = None):  # type: ignore[no-untyped-def]
    """Load a scenario and its network (cached); returns ``(scenario, network)``."""
    from freight.scenario import load_scenario
    from networks import load_network

    progress = progress or Progress(None)
    with progress.step("reading scenario"):
        scenario = load_scenario(scenario_path)
    with progress.step("building networks (cached after the first run)"):
        network = load_network(scenario.network)
    return scenario, network


def run(
    scenario_path: Path,
    out_dir: Path | None = None,
    *,
    tiles: str | None = None,
    export_lp: Path | None = None,
    solver: Literal["highs", "cbc"] | None = None,
    maps: bool = True,
    progress: Progress | None = None,
    force: bool = False,
) -> RunResult:
    """Optimise one scenario and write its result folder.

    Parameters
    ----------
    scenario_path : Path
        The scenario TOML.
    out_dir : Path, optional
        Result folder; default ``runs/<scenario name>`` under the current directory.
    tiles : str, optional
        Map background (None: no tiles; "OpenStreetMap"; or a tile URL template).
    export_lp : Path, optional
        Also write the final LP the solver saw, as MPS.
    solver : {"highs", "cbc"}, optional
        Override the scenario's solver.
    maps : bool
        Write ``map.html`` and ``report.html`` too.
    force : bool
        Replace ``out_dir`` even when it is a non-empty folder that is not a result folder
        (:mod:`freight.resultdir`).

    Raises
    ------
    InputErrors
        The scenario or its tables are invalid, or ``out_dir`` may not or cannot be
        replaced (checked before solving; nothing is written).
    InfeasibleError
        The hard rule cannot be met with the capacities given (nothing is written).
    SolverError
        The solver ended without an optimum (nothing is written).
    BusyError
        Another run is writing ``out_dir`` (nothing is done).

    Notes
    -----
    ``out_dir`` is replaced whole, only by a result folder, one run at a time, and only
    once every file is written: :class:`freight.resultdir.ResultFolder`.
    """
    from freight.resultdir import ResultFolder
    from freight.scenario import load_scenario, scenario_inputs

    progress = progress or Progress(sys.stderr)
    with progress.step("reading scenario"):
        scenario = load_scenario(scenario_path)
    out_dir = Path(out_dir) if out_dir else Path("runs") / scenario.name
    inputs = [str(scenario_path), *scenario_inputs(scenario)]
    with ResultFolder(out_dir, force=force, protect=inputs) as folder:  # before solving
        return _run(
            scenario_path, scenario, folder, tiles=tiles, export_lp=export_lp, solver=solver,
            maps=maps, progress=progress,
        )  # fmt: skip


def _run(
    scenario_path: Path,
    scenario: Scenario,
    folder: ResultFolder,
    *,
    tiles: str | None,
    export_lp: Path | None,
    solver: Literal["highs", "cbc"] | None,
    maps: bool,
    progress: Progress,
) -> RunResult:
    """Solve ``scenario`` and write its result into ``folder`` (see :func:`run`)."""
    from freight.checks import prepare
    from freight.outputs import write_results
    from freight.scenario import scenario_parameters
    from freight.solve import baseline, solve, solve_policy_off

    # every check before solving (freight validate makes the same ones)
    network, problem, graph = prepare(scenario, solver=solver, progress=progress)
    with progress.step(f"solving with the rule ({problem.policy.enforcement})"):
        solution = solve(problem, graph=graph, export_lp=export_lp)

    _require_optimal(solution, "with the rule")
    with progress.step("solving without the rule (policy cost), warm"):
        off = solve_policy_off(problem, solution, graph=graph)
    _require_optimal(off, "without the rule")
    with progress.step("baseline (every flow on its current mode)"):
        before = baseline(problem, graph)

    tmp = folder.staging  # swapped in whole by folder.commit(), once every file is there
    with progress.step("writing summary.json, flows.csv, links.geojson, bottlenecks.csv"):
        summary = write_results(
            problem,
            solution,
            before,
            off,
            tmp,
            scenario_meta={
                "scenario": scenario.name,
                "title": scenario.title,
                "description": scenario.description,
                "path": str(scenario_path),
                "parameters": scenario_parameters(scenario),
            },
        )
    if maps:
        _render(tmp, network, scenario, tiles, progress)
    out_dir = folder.commit()
    return RunResult(out_dir=out_dir, summary=summary, timings=dict(progress.timings))


def _require_optimal(solution: Solution, what: str) -> None:
    """Only an optimum is ever written: an infeasible model raises InfeasibleError (exit
    3), any other status SolverError (exit 1), both naming the solve."""
    from freight.problem import Status

    if solution.status is Status.OPTIMAL:
        return
    if solution.status is Status.INFEASIBLE:
        raise InfeasibleError(
            solution.message,
            flows=list(solution.stats.get("short_flows", [])),  # type: ignore[arg-type]
            constraints=list(solution.stats.get("blocking", [])),  # type: ignore[arg-type]
        )
    detail = f": {solution.message}" if solution.message else ""
    raise SolverError(
        f"the solve {what} ended {solution.status.value.replace('_', ' ')} after "
        f"{solution.iterations} master solves{detail}; nothing written",
        status=solution.status.value,
    )


def _render(tmp: Path, network: Network, scenario, tiles: str | None, progress: Progress) -> None:  # type: ignore[no-untyped-def]
    from maps import render_map, render_report

    with progress.step("drawing map.html"):
        render_map(tmp, network, counties=scenario.counties, tiles=tiles, out=tmp / "map.html")
    with progress.step("writing report.html"):
        render_report(tmp, out=tmp / "report.html")


def _pair(table: dict, mode: str) -> tuple[float, float]:
    return table["before"][mode], table["after"][mode]


def print_table(result: RunResult, stream=None) -> None:  # type: ignore[no-untyped-def]
    """A short before/after table for the terminal (default: ``sys.stdout`` as it is when
    called, so a redirected or captured stdout is used)."""
    stream = stream if stream is not None else sys.stdout
    s = result.summary
    rows = [
        ("road tonnes (line haul)", *_pair(s["tonnes"], "road"), "t"),
        ("rail tonnes", *_pair(s["tonnes"], "rail"), "t"),
        ("pipeline tonnes", *_pair(s["tonnes"], "pipeline"), "t"),
        ("road t·km", s["tkm"]["before"]["road"], s["tkm"]["after"]["road"], "t·km"),
        ("rail t·km", s["tkm"]["before"]["rail"], s["tkm"]["after"]["rail"], "t·km"),
        ("CO2", s["co2_t"]["before"], s["co2_t"]["after"], "t"),
        ("cost", s["cost_cny"]["before"], s["cost_cny"]["after"], "CNY"),
    ]
    print(f"\n{s.get('title') or s['scenario']}: {s['status']}", file=stream)
    print(f"{'':<26}{'before':>18}{'after':>18}{'change':>18}", file=stream)
    for label, b, a, unit in rows:
        print(f"{label:<26}{b:>18,.0f}{a:>18,.0f}{a - b:>+18,.0f} {unit}", file=stream)
    p = s["policy"]
    print(
        f"\nrule: ≥{p['threshold_km']:.0f} km, {', '.join(p['commodities'])}, {p['enforcement']}; "
        f"eligible {p['eligible_flows']} flows / {p['eligible_t']:,.0f} t; "
        f"shifted {p['shifted_t']:,.0f} t; shortfall {p['shortfall_t']:,.0f} t",
        file=stream,
    )
    print(
        f"road tonnage off the road: {s['road_tonnage_reduction_t']:,.0f} t; "
        f"truck trips avoided: {s['truck_trips_avoided']:,.0f}",
        file=stream,
    )
    if s.get("policy_cost_cny") is not None:
        abate = s.get("co2_abatement_cny_per_t")
        abate_txt = f"{abate:,.0f} CNY/t CO2" if abate is not None else "n/a (no CO2 abated)"
        print(f"policy cost: {s['policy_cost_cny']:,.0f} CNY/yr; abatement cost: {abate_txt}",
              file=stream)
    print(f"\nresults in {result.out_dir}/", file=stream)
