"""Sweeps: one scenario run at many points, on Dask distributed.

The points (:mod:`freight.sweep_points`) are diffs of a base scenario: a grid over its
dotted keys and/or Monte-Carlo draws of its ``[calibration.parameters]`` ranges, each
re-runnable alone as a small TOML with ``freight run``. :func:`run_sweep` solves them and
returns a :class:`Sweep`: each point's status, error and every summary figure
(:mod:`freight.sweep_results` makes the tables and files, :mod:`maps.sweep_page` the page).

- **Each point is solved as** ``freight run`` **solves it** (:func:`freight.run.solve_states`,
  cold by default), on a network and an expanded graph the worker already holds: a worker
  loads the network once per network configuration and input files (keyed by
  :func:`networks.loading.cache_key`), expands the graph once per network and re-costs it
  (:meth:`MultimodalGraph.recosted`, same arcs) for each set of costs, keeping the graph's
  caches of searches for every point on the same costs; the baseline (which depends on the
  network, costs and flows, not on the rule) once per graph and flows. So a point's figures
  are those of ``freight run`` on its TOML, bit for bit (tests/test_sweep.py).
- ``warm=True`` starts a point's solve with the rule from the solution and basis of the
  nearest point this worker solved on the same graph, flows and access range (only the
  rule's threshold, enforcement, penalty, commodities or distance differ): valid, since
  the master re-costs nothing and applies the new rule to every column, and faster at
  scale; but where several assignments cost the same, the warm solve may report another
  of them than a cold run would (same objective, other tonnes), so it is off by default
  (benchmarks/README.md, "Sweeps").
- **Dask**: ``client=None`` solves here, one point after another; a
  :class:`distributed.Client` (:func:`freight.cluster.dask_client`) sends each point as a
  task. What a worker keeps lives in a worker plugin registered for the sweep and removed
  at its end (:mod:`freight._sweep_plugin`), so nothing outlives it on a shared cluster.
- **Failures stay points**: an infeasible hard rule (``freight run``'s exit 3), an input
  error met on the worker (exit 2) or any other error (exit 1) comes back as that point's
  ``status`` and ``error``; the others go on.
- **Reruns recompute nothing**: with ``cache_dir``, each finished point is stored under a
  key of its full parameters, the bytes of every input file and the code
  (:func:`freight.sweep_points.point_key`); a point found there is not sent again (errors
  other than the model's own are not stored, so a rerun retries them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freight.sweep_points import (
    Plan,
    PointSpec,
    Vary,
    grid,
    make_plan,
    parse_vary,
    plan_sweep,
    point_toml,
    sample,
)
from networks import FreightError, InfeasibleError, InputError, InputErrors

__all__ = [
    "Plan", "PointResult", "PointSpec", "Sweep", "Vary", "grid", "make_plan", "parse_vary",
    "plan_sweep", "point_toml", "run_sweep", "sample", "solve_point", "to_solve",
]  # fmt: skip

if TYPE_CHECKING:
    from freight.baseline import Baseline
    from freight.expanded_graph import MultimodalGraph
    from freight.problem import Problem, Solution
    from networks import Network

#: Modules a worker imports as it starts (:func:`freight.cluster.dask_client`'s
#: ``preload``): what :func:`solve_point` needs, so the first point does not wait for them.
WORKER_MODULES = ("freight.sweep", "freight.run", "freight.solve", "freight.outputs",
                  "freight.sweep_results")  # fmt: skip
#: Statuses of a point: solved; the hard rule cannot hold (exit 3 of freight run); bad
#: input met while solving it (exit 2); anything else (exit 1; not stored, retried).
STATUSES = ("optimal", "infeasible", "input_error", "error")


# --- results ---------------------------------------------------------------------------


@dataclass
class PointResult:
    """What one point gave: its status and error, the figures of its summary
    (:func:`freight.sweep_results.summary_figures`) and the rows of its marginal abatement
    cost curve (:func:`freight.sweep_results.mac_rows`); ``files`` is its result folder
    (relative path -> bytes) when kept; ``cached``: read from a previous run."""

    index: int
    name: str
    key: str
    overrides: dict[str, Any]
    status: str
    error: str = ""
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    mac: list[dict[str, Any]] = field(default_factory=list)
    draw: int | None = None
    files: dict[str, bytes] | None = None
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("files")
        d.pop("cached")
        return d


Progress = Callable[[int, int, PointResult], None]


@dataclass
class Sweep:
    """A finished sweep: its plan and each point's result, in the order of the points."""

    plan: Plan
    results: list[PointResult]

    def table(self):  # type: ignore[no-untyped-def]
        """One row per point (:func:`freight.sweep_results.table`), a pandas DataFrame."""
        from freight.sweep_results import table

        return table(self)


# --- the worker's side -------------------------------------------------------------------


class PointCache:
    """What a worker keeps between the points of one sweep: networks (by
    :func:`networks.loading.cache_key`), expanded graphs (per network, by costs and
    handling), baselines (per graph, by flows) and, for warm starts, the solutions it
    found with the rule. At most ``max_networks`` networks and ``max_graphs`` graphs are
    kept, the least recently used leaving first (an estimate of what a worker can hold: a
    province run peaks at ~1.6 GB with its network and graph, benchmarks/README.md)."""

    def __init__(self, *, max_networks: int = 2, max_graphs: int = 4) -> None:
        self.max_networks = max_networks
        self.max_graphs = max_graphs
        self.networks: OrderedDict[str, Network] = OrderedDict()
        self.graphs: OrderedDict[tuple[str, str], MultimodalGraph] = OrderedDict()
        self.baselines: dict[tuple[str, str, int], Baseline] = {}
        self.solved: dict[tuple, list[tuple[tuple[float, ...], Solution]]] = {}
        self.stats = {"networks": 0, "graphs": 0, "recosted": 0, "baselines": 0, "warm": 0}

    def network(self, key: str, config: Any) -> Network:
        from networks import load_network

        if key not in self.networks:
            self.networks[key] = load_network(config)
            self.stats["networks"] += 1
            while len(self.networks) > self.max_networks:
                old, _ = self.networks.popitem(last=False)
                for g in [g for g in self.graphs if g[0] == old]:
                    del self.graphs[g]
        self.networks.move_to_end(key)
        return self.networks[key]

    def graph(self, network_key: str, problem: Problem) -> tuple[MultimodalGraph, str]:
        """The expanded graph of ``problem``'s network and costs: built once per network,
        re-costed for other costs (same arcs and rows), kept with its caches."""
        from freight.expanded_graph import MultimodalGraph

        places = problem.network.places
        costs_key = hashlib.sha256(
            repr((problem.costs, sorted((p, places[p].handling_cny_per_t) for p in places)))
            .encode()
        ).hexdigest()
        gkey = (network_key, costs_key)
        if gkey not in self.graphs:
            same_net = [g for k, g in self.graphs.items() if k[0] == network_key]
            if same_net:
                self.graphs[gkey] = same_net[0].recosted(problem.costs, places)
                self.stats["recosted"] += 1
            else:
                self.graphs[gkey] = MultimodalGraph(problem.network, problem.costs)
                self.stats["graphs"] += 1
            while len(self.graphs) > self.max_graphs:
                self.graphs.popitem(last=False)
        self.graphs.move_to_end(gkey)
        return self.graphs[gkey], costs_key

    def baseline(self, gkey: tuple[str, str], problem: Problem,
                 graph: MultimodalGraph) -> Baseline:  # fmt: skip
        from freight.solve import baseline

        key = (*gkey, hash(problem.flows))
        if key not in self.baselines:
            if len(self.baselines) >= 4 * self.max_graphs:
                self.baselines.pop(next(iter(self.baselines)))
            self.baselines[key] = baseline(problem, graph)
            self.stats["baselines"] += 1
        return self.baselines[key]

    def nearest(self, group: tuple, at: tuple[float, ...]) -> Solution | None:
        """The solution with the rule solved in ``group`` nearest to ``at`` (L1 distance
        of the policy's numbers, each relative to its own size); None when none."""
        done = self.solved.get(group)
        if not done:
            return None

        def dist(v: tuple[float, ...]) -> float:
            return sum(abs(a - b) / max(1.0, abs(a), abs(b)) for a, b in zip(v, at, strict=True))

        return min(reversed(done), key=lambda d: dist(d[0]))[1]

    def remember(self, group: tuple, at: tuple[float, ...], solution: Solution) -> None:
        done = self.solved.setdefault(group, [])
        done.append((at, solution))
        del done[:-8]  # the last 8 are enough to be near


@dataclass(frozen=True)
class PointTask:
    """What a worker needs to solve a point."""

    base: str
    spec: PointSpec
    keep: bool = False
    warm: bool = False
    toml: str = ""


def solve_point(task: PointTask, cache: PointCache | None = None) -> PointResult:
    """Solve one point as ``freight run`` solves its TOML (see the module docstring),
    reusing what ``cache`` holds; never raises: a failure is the result's status."""
    from freight.checks import prepare
    from freight.run import solve_states, write_states
    from freight.scenario import load_scenario
    from freight.sweep_results import mac_rows, summary_figures

    cache = cache if cache is not None else PointCache()
    spec = task.spec
    t0 = time.perf_counter()
    result = PointResult(spec.index, spec.name, spec.key, dict(spec.overrides), "optimal",
                         draw=spec.draw)  # fmt: skip
    try:
        scenario = load_scenario(task.base, {**spec.overrides, "name": spec.name})
        try:
            held: Network | None = cache.network(spec.network_key, scenario.network)
        except InputErrors:
            held = None  # prepare meets the network's problems again, with the others
        costs: list[str] = []

        def graph_of(problem: Problem) -> MultimodalGraph:
            graph, key = cache.graph(spec.network_key, problem)
            costs.append(key)
            return graph

        # the checks freight run makes before solving, on the network and graph held here
        network, problem, graph = prepare(scenario, network=held, graph_of=graph_of)
        costs_key = costs[-1]
        before = cache.baseline((spec.network_key, costs_key), problem, graph)
        pol = problem.policy
        group = (spec.network_key, costs_key, hash(problem.flows), pol.max_access_km,
                 problem.solver)  # fmt: skip
        at = (pol.threshold_km, pol.penalty_cny_per_t, float(pol.enforcement == "hard"),
              float(pol.distance == "road"), float(len(pol.commodities)))  # fmt: skip
        warm = cache.nearest(group, at) if task.warm else None
        cache.stats["warm"] += warm is not None
        # a daemonic process (a Dask worker by default) may not fork the solver's helpers
        daemon = multiprocessing.current_process().daemon
        states = solve_states(problem, graph, warm=warm, baseline_of=before,
                              workers=1 if daemon else None)  # fmt: skip
        if task.warm:
            cache.remember(group, at, states.with_rule)
        with tempfile.TemporaryDirectory(prefix="freight-sweep-") as tmp:
            folder = Path(tmp) / spec.name
            summary = write_states(folder, scenario, Path(task.toml or task.base), network,
                                   problem, states, maps=task.keep, exports=task.keep)  # fmt: skip
            result.figures = summary_figures(summary)
            result.mac = mac_rows(folder / "flows.csv")
            if task.keep:
                result.files = {
                    p.relative_to(folder).as_posix(): p.read_bytes()
                    for p in sorted(folder.rglob("*")) if p.is_file()
                }  # fmt: skip
    except InfeasibleError as exc:
        result.status, result.error = "infeasible", str(exc)
    except InputErrors as exc:
        result.status, result.error = "input_error", "; ".join(e.line() for e in exc.errors)
    except InputError as exc:
        result.status, result.error = "input_error", exc.line()
    except FreightError as exc:
        result.status, result.error = "error", str(exc)
    except Exception as exc:  # a point's bug must not stop the sweep: reported as its error
        result.status, result.error = "error", f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - t0
    return result


def _solve_on_worker(task: PointTask, plugin: str) -> PointResult:
    """:func:`solve_point` with the cache of the sweep's worker plugin."""
    from distributed import get_worker

    held = get_worker().plugins.get(plugin)
    return solve_point(task, getattr(held, "cache", None))


def _check_workers_see(client: Any, base: Path) -> None:
    """Every worker must read the base scenario at the same path (a shared filesystem)."""
    seen = client.run(os.path.isfile, str(base))
    blind = sorted(w for w, ok in seen.items() if not ok)
    if blind:
        raise InputError(str(base), "file", "SCENARIO",
                         f"not readable on Dask worker(s) {', '.join(blind)}: workers read "
                         "the scenario and its files at the same paths (a shared "
                         "filesystem)")  # fmt: skip


# --- the client's side -------------------------------------------------------------------


def _stored(cache_dir: Path | None, spec: PointSpec) -> PointResult | None:
    if cache_dir is None:
        return None
    path = cache_dir / f"{spec.key}.json"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if d.get("key") != spec.key or d.get("status") not in STATUSES[:3]:
        return None
    d.update(index=spec.index, name=spec.name, overrides=dict(spec.overrides),
             draw=spec.draw)  # fmt: skip
    try:
        return PointResult(**d, cached=True)
    except TypeError:
        return None


def _store(cache_dir: Path | None, result: PointResult) -> None:
    if cache_dir is None or result.status not in STATUSES[:3]:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{result.key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(result.to_json(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, cache_dir / f"{result.key}.json")


def _keep(runs_dir: Path | None, result: PointResult) -> None:
    """Write a kept point's result folder as ``freight run`` writes one
    (:class:`freight.resultdir.ResultFolder`: replaced whole, only a result folder)."""
    from freight.resultdir import ResultFolder

    if runs_dir is None or not result.files:
        return
    with ResultFolder(runs_dir / result.name) as folder:
        for rel, data in result.files.items():
            (folder.staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder.staging / rel).write_bytes(data)
        folder.commit()
    result.files = None


def _found(spec: PointSpec, cache_dir: Path | None, runs_dir: Path | None) -> PointResult | None:
    """The point's stored result, unless its result folder is asked for and missing."""
    hit = _stored(cache_dir, spec)
    if hit is not None and runs_dir is not None and hit.status == "optimal" and not (
        runs_dir / spec.name / "summary.json"
    ).is_file():
        return None
    return hit


def to_solve(plan: Plan, *, cache_dir: Path | None = None,
             runs_dir: Path | None = None) -> list[PointSpec]:  # fmt: skip
    """The points of ``plan`` that :func:`run_sweep` would solve (not stored, or their
    result folder missing): none means no cluster is needed."""
    return [s for s in plan.specs if _found(s, cache_dir, runs_dir) is None]


def run_sweep(
    base: str | Path,
    points: Sequence[Mapping[str, Any]] | Plan,
    client: Any = None,
    progress: Progress | None = None,
    *,
    cache_dir: Path | None = None,
    runs_dir: Path | None = None,
    toml_dir: Path | None = None,
    warm: bool = False,
) -> Sweep:
    """Solve every point of a sweep.

    Parameters
    ----------
    base : path
        The base scenario TOML.
    points : list of dict, or Plan
        Each point's overrides (dotted key -> value), or a plan (:func:`plan_sweep`,
        :func:`make_plan`) of the same base.
    client : distributed.Client, optional
        Where to solve (:func:`freight.cluster.dask_client`); None: here, one point after
        another.
    progress : callable, optional
        ``progress(done, total, result)`` after each point (stored ones first).
    cache_dir : path, optional
        Where finished points are stored by key and found again (see the module docstring).
    runs_dir : path, optional
        Keep each point's whole result folder (map and report included) as
        ``runs_dir/<point name>/``; a stored point without its folder there is solved again.
    toml_dir : path, optional
        Where the points' TOML files are (:func:`point_toml`; their path goes into each
        kept summary).
    warm : bool
        Warm-start from the nearest point solved on the same worker (see the module
        docstring).

    Returns
    -------
    Sweep
        The plan and each point's :class:`PointResult`, in the order of the points.

    Raises
    ------
    InputErrors
        A point the scenario rejects (before anything is solved).
    """
    plan = points if isinstance(points, Plan) else make_plan(base, points)
    base = plan.base
    specs_ = list(plan.specs)
    total = len(specs_)
    results: list[PointResult | None] = [None] * total
    done = 0

    def finish(i: int, r: PointResult) -> None:
        nonlocal done
        if not r.cached:
            _keep(runs_dir, r)
            _store(cache_dir, r)
        results[i] = r
        done += 1
        if progress is not None:
            progress(done, total, r)

    todo: list[int] = []
    for i, spec in enumerate(specs_):
        hit = _found(spec, cache_dir, runs_dir)
        if hit is None:
            todo.append(i)
        else:
            finish(i, hit)

    def task(i: int) -> PointTask:
        s = specs_[i]
        toml = str(toml_dir / f"{s.name}.toml") if toml_dir is not None else ""
        return PointTask(str(base), s, keep=runs_dir is not None, warm=warm, toml=toml)

    if todo and client is None:
        cache = PointCache()
        for i in todo:
            finish(i, solve_point(task(i), cache))
    elif todo:
        from distributed import as_completed

        from freight._sweep_plugin import CachePlugin

        _check_workers_see(client, base)
        plugin = f"freight-sweep-{uuid.uuid4().hex[:12]}"
        client.register_plugin(CachePlugin(), name=plugin)
        try:
            futures = {}
            for i in todo:
                fut = client.submit(_solve_on_worker, task(i), plugin, pure=False,
                                    key=f"{plugin}-{specs_[i].index}")  # fmt: skip
                futures[fut] = i
            for fut in as_completed(list(futures)):
                i = futures[fut]
                try:
                    r = fut.result()
                except Exception as exc:  # the worker died, or the task could not run
                    s = specs_[i]
                    r = PointResult(s.index, s.name, s.key, dict(s.overrides), "error",
                                    f"{type(exc).__name__}: {exc}", draw=s.draw)  # fmt: skip
                fut.release()
                finish(i, r)
        finally:
            with contextlib.suppress(Exception):  # the cluster went away: nothing to free
                client.unregister_worker_plugin(plugin)
    return Sweep(plan, [r for r in results if r is not None])
