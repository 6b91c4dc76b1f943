"""One run: a pure function from a scenario file to a result folder.

``run(scenario_path, out_dir)`` loads the scenario, builds the networks, solves the model
with the rule and without it, and writes the result folder (and, unless told not to, the
map and the report). It keeps no global state, so a job queue or a cluster sweep can call it
once per scenario.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from freight.progress import Progress
from networks import InfeasibleError, Network, SolverError

if TYPE_CHECKING:
    from freight.baseline import Baseline
    from freight.expanded_graph import MultimodalGraph
    from freight.problem import Problem, Solution
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

    # every check before solving (freight validate makes the same ones)
    network, problem, graph = prepare(scenario, solver=solver, progress=progress)
    states = solve_states(problem, graph, export_lp=export_lp, progress=progress)
    tmp = folder.staging  # swapped in whole by folder.commit(), once every file is there
    summary = write_states(tmp, scenario, scenario_path, network, problem, states, maps=maps,
                           tiles=tiles, progress=progress)  # fmt: skip
    out_dir = folder.commit()
    return RunResult(out_dir=out_dir, summary=summary, timings=dict(progress.timings))


@dataclass(frozen=True)
class States:
    """The two solves and the baseline of a run (``with_rule``, ``without_rule``,
    ``baseline``: docs/CONTRACTS.md "Three states")."""

    with_rule: Solution
    without_rule: Solution
    baseline: Baseline


def solve_states(
    problem: Problem,
    graph: MultimodalGraph,
    *,
    warm: Solution | None = None,
    baseline_of: Baseline | None = None,
    export_lp: Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> States:
    """What :func:`run` solves, on a graph already built for ``problem``: the rule as
    configured (from ``warm``'s chains and basis when given), then the rule off warm from
    that, then today's assignment (``baseline_of`` when the caller has it already: it
    depends on the network, the costs and the flows, not on the rule). ``workers`` is
    :func:`freight.solve.solve`'s (1: no forked helpers, e.g. inside a daemonic process).

    Raises
    ------
    InfeasibleError
        The hard rule cannot be met with the capacities given.
    SolverError
        A solve ended without an optimum.
    """
    from freight.solve import baseline, solve, solve_policy_off

    progress = progress or Progress(None)
    with progress.step(f"solving with the rule ({problem.policy.enforcement})"):
        solution = solve(problem, graph=graph, warm=warm, export_lp=export_lp, workers=workers)
    _require_optimal(solution, "with the rule")
    with progress.step("solving without the rule (policy cost), warm"):
        if workers is None:
            off = solve_policy_off(problem, solution, graph=graph)
        else:  # the same, with the workers passed on
            off_problem = replace(problem, policy=problem.policy.off())
            off = solve(off_problem, warm=solution, graph=graph, workers=workers)
    _require_optimal(off, "without the rule")
    with progress.step("baseline (every flow on its current mode)"):
        before = baseline_of if baseline_of is not None else baseline(problem, graph)
    return States(solution, off, before)


def write_states(  # noqa: PLR0913 -- the two solutions, the baseline and the run's context a folder records
    dest: Path,
    scenario: Scenario,
    scenario_path: Path,
    network: Network,
    problem: Problem,
    states: States,
    *,
    maps: bool = True,
    exports: bool = True,
    tiles: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write ``states``' result files into the folder ``dest`` (a result folder's staging
    folder, :class:`freight.resultdir.ResultFolder`; created when missing) and return the
    summary; ``exports``: results.gpkg and the workbooks, ``maps``: map.html and
    report.html."""
    from freight.outputs import write_results
    from freight.scenario import scenario_parameters
    from maps.exports import write_exports

    progress = progress or Progress(None)
    with progress.step("writing summary.json, flows.csv, links.geojson, bottlenecks.csv"):
        summary = write_results(
            problem,
            states.with_rule,
            states.baseline,
            states.without_rule,
            dest,
            scenario_meta={
                "scenario": scenario.name,
                "title": scenario.title,
                "description": scenario.description,
                "path": str(scenario_path),
                "parameters": scenario_parameters(scenario),
                "investments": [i.as_dict() for i in scenario.investments],
                "calibration_warning_share": (
                    scenario.calibration.warning_share if scenario.calibration else None
                ),
            },
        )
    if exports:
        with progress.step("writing results.gpkg, flows.xlsx, terminals.xlsx, bottlenecks.xlsx"):
            write_exports(dest, network, counties=scenario.counties)
    if maps:
        _render(dest, network, scenario, tiles, progress)
    return summary


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
        render_report(tmp, out=tmp / "report.html", counties=scenario.counties)


_COLS = ("baseline", "without_rule", "with_rule")


def _table_rows(s: dict) -> list[tuple[str, list[float | None], str]]:
    """Rows of the terminal table: (label, values in the three states, unit)."""
    st = s["states"]

    def get(*path: str) -> list[float | None]:
        out: list[float | None] = []
        for name in _COLS:
            d = st.get(name)
            for k in path:
                d = d.get(k) if isinstance(d, dict) else None
            out.append(d if isinstance(d, int | float) else None)
        return out

    return [
        ("road tonnes (line haul)", get("tonnes", "road"), "t"),
        ("rail tonnes (line haul)", get("tonnes", "rail"), "t"),
        ("pipeline tonnes", get("tonnes", "pipeline"), "t"),
        ("road t·km (incl. 短驳)", get("tkm", "road"), "t·km"),
        ("  of which 短驳 access", get("access", "tkm"), "t·km"),
        ("rail t·km", get("tkm", "rail"), "t·km"),
        ("truck trips, line haul", get("truck_trips", "line_haul"), "trips"),
        ("truck trips, 短驳 access", get("truck_trips", "access"), "trips"),
        ("truck trips, total", get("truck_trips", "total"), "trips"),
        ("CO2", get("co2_t"), "t"),
        ("transport cost", get("cost_cny"), "CNY/yr"),
    ]


def _fmt(x: float | None, width: int = 16, sign: bool = False) -> str:
    if x is None:
        return f"{'—':>{width}}"
    if abs(x) < 0.5:
        return f"{'0':>{width}}"
    return f"{x:>+{width},.0f}" if sign else f"{x:>{width},.0f}"


def _fewer(x: float) -> str:
    """A difference A − B in words: "12 fewer" (B has less), "12 more", "no change"."""
    n = round(x)
    return "no change" if n == 0 else f"{abs(n):,} {'fewer' if n > 0 else 'more'}"


def _ljust(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - cols)


def print_table(result: RunResult, stream=None) -> None:  # type: ignore[no-untyped-def]
    """The three states, what the rule does and what it costs, for the terminal (default:
    ``sys.stdout`` as it is when called, so a redirected or captured stdout is used)."""
    stream = stream if stream is not None else sys.stdout
    s = result.summary
    cmp = s.get("comparisons") or {}
    print(f"\n{s.get('title') or s['scenario']}: {s['status']}", file=stream)
    for w in s.get("warnings") or []:
        print(f"\n!! WARNING [{w['code']}]: {w['text_en']}\n!! {w['text_zh']}", file=stream)
    w = 16
    print(f"\n{'':<26}{'today':>{w}}{'least cost':>{w}}{'least cost':>{w}}"
          f"{'rule effect':>{w}}{'voluntary':>{w}}", file=stream)  # fmt: skip
    print(f"{'':<26}{'(baseline)':>{w}}{'without rule':>{w}}{'with rule':>{w}}"
          f"{'without−with':>{w}}{'today−without':>{w}}", file=stream)  # fmt: skip
    for label, (b, off, on), unit in _table_rows(s):
        effect = off - on if off is not None and on is not None else None
        vol = b - off if b is not None and off is not None else None
        print(f"{_ljust(label, 26)}{_fmt(b)}{_fmt(off)}{_fmt(on)}{_fmt(effect, sign=True)}"
              f"{_fmt(vol, sign=True)} {unit}", file=stream)  # fmt: skip
    cap = s.get("capital") or {}
    if cap.get("items"):
        ann = cap["annualised_cny"]
        on = (s["states"].get("with_rule") or {}).get("cost_cny")
        names = ", ".join(str(i.get("name") or i.get("id")) for i in cap["items"])
        print(f"annualised capital of the scenario's new infrastructure ({names}): "
              f"{ann:,.0f} CNY/yr; yearly transport cost with the rule + annualised capital: "
              f"{(on or 0.0) + ann:,.0f} CNY/yr", file=stream)  # fmt: skip
    p = s["policy"]
    print(
        f"\nrule: ≥{p['threshold_km']:.0f} km, {', '.join(p['commodities'])}, {p['enforcement']}; "
        f"eligible {p['eligible_flows']} flows / {p['eligible_t']:,.0f} t; "
        f"shortfall {p['shortfall_t']:,.0f} t",
        file=stream,
    )
    eff = cmp.get("rule_effect")
    if eff:
        trips = eff["truck_trips"]
        print(f"shift due to the rule (without − with): {eff['road_t']:,.0f} t off the road; "
              f"truck trips: {_fewer(trips['total'])} in all ({_fewer(trips['line_haul'])} "
              f"line haul, {_fewer(trips['access'])} 短驳)", file=stream)  # fmt: skip
    vol = cmp.get("voluntary")
    if vol:
        print(f"shift the cost model calls voluntary (today − without): {vol['road_t']:,.0f} t "
              "off the road", file=stream)  # fmt: skip
    cost, co2, abate = (
        (cmp.get(k) or {}).get("value")
        for k in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t")
    )
    if cost is not None:
        print(f"policy cost (objective with the rule − objective without it, soft penalties "
              f"included): {cost:,.0f} CNY/yr", file=stream)  # fmt: skip
    if co2 is not None:
        print(f"CO2 abated by the rule (CO2 without − CO2 with): {co2:,.0f} t/yr", file=stream)
    if cost is not None and co2 is not None:
        txt = f"{abate:,.1f} CNY/t" if abate is not None else "n/a (the rule abates no CO2)"
        print(f"CO2 abatement cost (policy cost ÷ CO2 abated by the rule = {cost:,.0f} ÷ "
              f"{co2:,.0f}): {txt}", file=stream)  # fmt: skip
    print(f"\nresults in {result.out_dir}/", file=stream)
