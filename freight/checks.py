"""Every check a run makes before it solves, in one place, so ``freight validate`` makes
exactly the checks ``freight run`` makes and reports them all at once.

Stages, each gathering every problem it finds (cheapest first):

1. the scenario file(s), the tables and the layers read (:func:`freight.scenario.validate`;
   ``validate`` only -- ``run`` meets the same problems in the stages below);
2. the pipelines' ``commodities`` against the commodity table (:func:`pipeline_errors`);
3. the network built: lines joined, named rail lines matched, every place joined to the
   lines of its modes within ``link_tolerance_km`` (:func:`networks.load_network`);
4. the flows against the network (:func:`freight.scenario.build_problem`);
5. every flow routable (:func:`route_errors`): a flow no road, rail or pipeline path
   joins is a bad input, not an infeasible rule; a flow that is on the road today
   (``baseline_mode = road``) or whose haul the rule measures by road needs a road route.

:func:`prepare` runs 2-5 for ``freight run`` and raises them together;
:func:`validate` runs 1-5 and returns them (each line once).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

from freight.expanded_graph import MultimodalGraph
from freight.problem import Problem
from freight.progress import Progress
from freight.scenario import Scenario, build_problem, load_scenario
from networks import InputError, InputErrors, Network, load_network, raise_if_any


def pipeline_errors(scenario: Scenario) -> list[InputError]:
    """Pipeline features whose ``commodities`` name a commodity the commodity table does
    not hold (such a pipeline silently carried nothing of it), or that default to oil
    where the table has no oil. Layers that cannot be read are left to the network stage."""
    from networks.io import PIPELINE_DEFAULT_COMMODITIES, read_line_layer, validate_line_frame
    from networks.loading import read_extra_lines

    known = set(scenario.commodity_table)
    if not known:
        return []
    found: list[tuple[str, str, frozenset[str] | None]] = []  # file, feature, commodities
    net = scenario.network
    if net.pipeline:
        try:
            for f in read_line_layer(net.pipeline, layer="pipeline", mode="pipeline"):
                found.append((str(net.pipeline), f"feature {f.index}", f.commodities))
        except InputErrors:
            pass
    for file in net.extra_lines:
        try:
            parts = read_extra_lines(file)
        except InputErrors:
            continue
        for _, mode, gdf in parts:
            if mode != "pipeline":
                continue
            try:
                feats = validate_line_frame(gdf, file=file, mode="pipeline")
            except InputErrors:
                continue
            rows = list(gdf.index)
            for f in feats:
                found.append((file, f"feature {int(rows[f.index - 1]) + 1}", f.commodities))
    errors = []
    for file, where, comms in found:
        comms = comms if comms is not None else PIPELINE_DEFAULT_COMMODITIES
        unknown = sorted(c for c in comms if c not in known)
        if not unknown:
            continue
        if comms == PIPELINE_DEFAULT_COMMODITIES:
            problem = (f"none given, so oil, but the commodity table has no {unknown[0]!r}; "
                       f"give the commodities it carries (known: {', '.join(sorted(known))})")
        else:
            s = "y" if len(unknown) == 1 else "ies"
            problem = (f"unknown commodit{s} {', '.join(map(repr, unknown))} (a pipeline "
                       f"carries only commodities of {scenario.commodities_file}; known: "
                       f"{', '.join(sorted(known))})")  # fmt: skip
        errors.append(InputError(file, where, "commodities", problem))
    return errors


def route_errors(scenario: Scenario, problem: Problem, graph: MultimodalGraph) -> list[InputError]:
    """Flows with no route at all (no road, rail or pipeline path joins their ends, the
    commodity's pipelines included), and flows without a road route that are on the road
    today or whose haul the rule measures by road -- one line each, naming the flows
    table's row."""
    from freight.colgen.pricing import Pricer
    from freight.rule import road_haul_km
    from freight.tables import read_flow_rows

    haul = road_haul_km(problem, graph)
    no_road = [f for f in problem.flows if not math.isfinite(haul[f.id])]
    if not no_road:
        return []
    rows = {flow.id: n for n, flow in read_flow_rows(scenario.flows_file)}
    cheapest = Pricer.for_problem(graph, problem, {}).cheapest(no_road)
    # a flow on rail or pipeline today: its "before" chain, or road, or none at all
    today = [f for f in no_road if f.baseline_mode != "road" and cheapest[f.id]]
    lost = set()
    if today:
        from freight.baseline import baseline

        fell = baseline(replace(problem, flows=tuple(today)), graph).fallbacks
        lost = {fid for fid, used in fell.items() if used == "none"}
    file = scenario.flows_file
    places = problem.network.places
    errors = []
    for f in no_road:
        where = f"row {rows[f.id]}" if f.id in rows else f"flow {f.id}"
        ends = (f"{f.origin} ({places[f.origin].name}) and {f.destination} "
                f"({places[f.destination].name})")  # fmt: skip
        if not cheapest[f.id]:
            errors.append(InputError(file, where, "destination", (
                f"no route at all: no road, rail or pipeline path for {f.commodity} joins "
                f"{ends}; check that the layers' lines meet and the places' modes")))
            continue
        if f.baseline_mode != "road" and f.id in lost:
            errors.append(InputError(file, where, "baseline_mode", (
                f"{f.baseline_mode}, but no chain of {f.commodity} with a {f.baseline_mode} "
                f"leg joins {ends}, and no road route either: the flow has no place in "
                "the picture before")))
            continue
        why = []
        if f.baseline_mode == "road":
            why.append("the flow is on the road today (baseline_mode = road)")
        if problem.policy.distance == "road":
            why.append("the rule measures its haul by road (policy.distance = road)")
        if not why:
            continue
        hint = "connect the road layer"
        if f.baseline_mode != "road":
            hint += ', or set policy.distance = "great_circle"'
        errors.append(InputError(file, where, "origin",
                                 f"no road route joins {ends}, but {' and '.join(why)}; "
                                 f"{hint}"))  # fmt: skip
    return errors


def _stages(
    scenario: Scenario,
    errors: list[InputError],
    *,
    solver: Literal["highs", "cbc"] | None,
    progress: Progress,
    network: Network | None = None,
    graph_of: Callable[[Problem], MultimodalGraph] | None = None,
) -> tuple[Network | None, Problem | None, MultimodalGraph | None]:
    """Stages 2-5 (see the module docstring), gathering every problem into ``errors``;
    what was built, None from the first stage that could not be. ``network`` and
    ``graph_of``: the scenario's network and a maker of the problem's graph, when a caller
    holds them (a sweep's worker)."""
    errors.extend(pipeline_errors(scenario))
    try:
        with progress.step("building networks (cached after the first run)"):
            if network is None:
                network = load_network(scenario.network)
    except InputErrors as exc:
        errors.extend(exc.errors)
        return None, None, None
    try:
        with progress.step("reading flows and checking them against the network"):
            problem = build_problem(scenario, network)
    except InputErrors as exc:
        errors.extend(exc.errors)
        return network, None, None
    if solver:
        problem = replace(problem, solver=solver)
    with progress.step("expanding the multimodal graph"):
        if graph_of is None:
            graph = MultimodalGraph(problem.network, problem.costs)
        else:
            graph = graph_of(problem)
    with progress.step("checking that every flow has a route"):
        errors.extend(route_errors(scenario, problem, graph))
    return network, problem, graph


def prepare(
    scenario: Scenario,
    *,
    solver: Literal["highs", "cbc"] | None = None,
    progress: Progress | None = None,
    network: Network | None = None,
    graph_of: Callable[[Problem], MultimodalGraph] | None = None,
) -> tuple[Network, Problem, MultimodalGraph]:
    """Everything a run does before solving: ``(network, problem, graph)``; with
    ``network`` (the scenario's, already loaded) and ``graph_of`` (the graph of a problem
    on it, e.g. re-costed from one already built), the same checks on those.

    Raises
    ------
    InputErrors
        Every problem found (see the module docstring).
    """
    errors: list[InputError] = []
    network, problem, graph = _stages(scenario, errors, solver=solver,
                                      progress=progress or Progress(None),
                                      network=network, graph_of=graph_of)  # fmt: skip
    raise_if_any(errors)
    assert network is not None and problem is not None and graph is not None
    return network, problem, graph


def validate(path: str | Path, *, progress: Progress | None = None) -> list[InputError]:
    """Every problem ``freight run`` would stop at before solving, each once, in the
    order found (empty when the scenario is sound)."""
    from freight.scenario import validate as validate_files

    errors = validate_files(path)
    try:
        scenario = load_scenario(path)
    except InputErrors:
        return _once(errors)  # the scenario's own problems are in errors already
    _stages(scenario, errors, solver=None, progress=progress or Progress(None))
    return _once(errors)


def _once(errors: list[InputError]) -> list[InputError]:
    seen: set[str] = set()
    out = []
    for e in errors:
        if e.line() not in seen:
            seen.add(e.line())
            out.append(e)
    return out
