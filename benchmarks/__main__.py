"""Time ``freight run``'s stages on a synthetic instance and cross-check the optimum.

``python -m benchmarks [--size NAME] [--seed N] [--json] [--no-reference] [--off NAME ...]``

Stages, timed one by one by calling the stage functions ``freight.run`` calls (the maps are
not drawn): reading the scenario, building the networks cold (into a fresh temporary cache
directory, so nothing cached is reused), reading the flows into a Problem, building the
expanded graph, then the solve with the rule, broken down by instrumenting (wrapping, not
editing) the solver's own functions -- shortest paths for the rule's checks
(``check_flows``), pricing (``Pricer.candidates`` / ``Pricer.price`` / ``Pricing.price``,
the pricing worker included), building the master
LP (``MasterModel.build``, PuLP: CBC or an export only), passing it to HiGHS
(``HighsBackend.update``) and running it (the rest of ``Master.solve``) -- the
solve without the rule, the baseline and the outputs, when those modules exist.

Peak memory is the process's resident high-water mark, ``resource.getrusage(RUSAGE_SELF)
.ru_maxrss`` (Linux: KiB), read after the pipeline (``peak_mb``) and again after the
reference (``peak_mb_with_reference``); ``peak_workers_mb`` is that of the largest process
the solver forked (its pricing worker, the terminal trees), when it forked one.

The reference (:mod:`benchmarks.reference`) solves the same model as one arc-based LP; its
optimum is compared with ours with the rule off, and with the rule as the scenario sets it
when the reference is exact for it (uncapacitated roads). Exit status 1 when a relative
difference exceeds 1e-6.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.generate import INSTANCES, SIZES, ensure

TOLERANCE = 1e-6

#: ``--off NAME``: each accelerator of the solver switched off through its SolveOptions
#: fields (``freight.colgen.SolveOptions``), to measure what it saves.
ACCELERATORS: dict[str, dict[str, Any]] = {
    "settle": {"settle": False},
    "lazy_rows": {"lazy_rows": False},
    "column_deletion": {"drop_columns_after": 0},
    "row_deletion": {"drop_rows_after": 0},
    "smoothing": {"smoothing": 0.0},
    "fast_pricing": {"fast_pricing": False},
    "workers": {"workers": 1},
    "prefetch": {"prefetch": False},
    "interior_point": {"interior_point": False},
    "gc_pause": {"gc_pause": False},
}


def peak_mb() -> float:
    """Resident-set high-water mark of this process, MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_workers_mb() -> float:
    """Resident-set high-water mark of the largest ended child process (the solver's
    helpers: its pricing worker, the prefetch of the terminals' road trees), MB. Only ended
    children count, so the pricing worker kept on the graph is ended first
    (:func:`freight.colgen.workers.end_kept`). The helpers are fresh interpreters sharing no
    pages with this process, so ``peak_mb + peak_workers_mb`` bounds the pair's resident
    set from above (reached only if both peak at once)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


class _Timer:
    """Accumulates seconds by key; ``wrap`` times every call of an object's method."""

    def __init__(self) -> None:
        self.s: dict[str, float] = {}
        self._open: set[str] = set()

    @contextlib.contextmanager
    def stage(self, key: str) -> Iterator[None]:
        if key in self._open:  # a nested call of the same stage is already being timed
            yield
            return
        self._open.add(key)
        t = time.perf_counter()
        try:
            yield
        finally:
            self._open.discard(key)
            self.s[key] = self.s.get(key, 0.0) + time.perf_counter() - t

    @contextlib.contextmanager
    def wrap(self, owner: Any, attr: str, key: str) -> Iterator[None]:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(key):
                return original(*args, **kwargs)

        setattr(owner, attr, timed)
        try:
            yield
        finally:
            setattr(owner, attr, original)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(b))


def bench(size: str, *, seed: int = 0, reference: bool = True, root: Path = INSTANCES,  # noqa: PLR0915 -- the pipeline's stages, timed in order, in one place
          threads: int | None = None, log: Any = None, off: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    """Run the pipeline on ``size`` and return the measurements (see the module docstring);
    ``off``: accelerators switched off (:data:`ACCELERATORS`)."""
    import freight.colgen.loop
    import freight.model
    import freight.solve as fsolve
    from freight.colgen.highs import HighsBackend
    from freight.colgen.master import Master
    from freight.colgen.pricing import Pricer
    from freight.colgen.workers import Pricing, end_kept
    from freight.expanded_graph import MultimodalGraph
    from freight.problem import Status
    from freight.scenario import build_problem, load_scenario
    from networks import load_network

    def say(msg: str) -> None:
        if log is not None:
            print(msg, file=log, flush=True)

    from freight.colgen import SolveOptions

    options = SolveOptions(**{k: v for name in off for k, v in ACCELERATORS[name].items()})
    toml = ensure(size, seed=seed, root=root)
    meta = json.loads((toml.parent / "meta.json").read_text(encoding="utf-8"))
    t = _Timer()
    t_start = time.perf_counter()
    say(f"[{size}] reading scenario")
    with t.stage("load_scenario"):
        scenario = load_scenario(toml)
    say(f"[{size}] building networks (cold)")
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache, t.stage("build_network"):
        network = load_network(scenario.network, cache_dir=cache)
    with t.stage("build_problem"):
        problem = build_problem(scenario, network)
    with t.stage("expanded_graph"):
        graph = MultimodalGraph(problem.network, problem.costs)
    say(f"[{size}] solving with the rule ({problem.policy.enforcement})")
    with contextlib.ExitStack() as stack:
        stack.enter_context(t.wrap(freight.colgen.loop, "check_flows", "shortest_paths"))
        stack.enter_context(t.wrap(Pricer, "candidates", "pricing"))
        stack.enter_context(t.wrap(Pricer, "price", "pricing"))
        stack.enter_context(t.wrap(Pricing, "price", "pricing"))
        stack.enter_context(t.wrap(freight.model.MasterModel, "build", "lp_build"))
        stack.enter_context(t.wrap(HighsBackend, "update", "lp_pass"))
        stack.enter_context(t.wrap(Master, "solve", "lp_build_and_solve"))
        with t.stage("solve_rule"):
            solution = fsolve.solve(problem, graph=graph, options=options)
    say(f"[{size}] solving without the rule")
    with t.stage("solve_off"):
        rule_off = fsolve.solve_policy_off(problem, solution, graph=graph, options=options)
    if "lp_build_and_solve" in t.s:
        t.s["lp_solve"] = (t.s.pop("lp_build_and_solve") - t.s.get("lp_build", 0.0)
                           - t.s.get("lp_pass", 0.0))
    before = None
    if hasattr(fsolve, "baseline"):
        with t.stage("baseline"):
            before = fsolve.baseline(problem, graph)  # as freight.run calls it
    try:
        from freight.outputs import write_results
    except ImportError:
        write_results = None
    if write_results is not None and before is not None and solution.status is Status.OPTIMAL:
        from freight.scenario import scenario_parameters

        with tempfile.TemporaryDirectory(prefix="bench-out-") as out, t.stage("outputs"):
            write_results(problem, solution, before, rule_off, Path(out),
                          scenario_meta={"scenario": scenario.name, "title": scenario.title,
                                         "description": scenario.description,
                                         "path": str(toml),
                                         "parameters": scenario_parameters(scenario)})
    total = time.perf_counter() - t_start
    pipeline_peak = peak_mb()
    end_kept(graph, problem.policy.max_access_km)  # so that its peak counts (an ended child)
    order = ["load_scenario", "build_network", "build_problem", "expanded_graph",
             "solve_rule", "shortest_paths", "pricing", "lp_build", "lp_pass", "lp_solve",
             "solve_off",
             "baseline", "outputs"]
    stages = {k: round(t.s[k], 4) for k in order if k in t.s}
    result: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "network": {m: {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
                    for m, g in network.graphs.items()},
        "places": len(network.places),
        "flows": len(problem.flows),
        "flow_tonnes": meta["flow_tonnes"],
        "enforcement": problem.policy.enforcement,
        "status": solution.status.value,
        "stages_s": stages,
        "stages_note": ("shortest_paths, pricing, lp_build and lp_solve are parts of "
                        "solve_rule (the rest is bookkeeping); solve_off is warm-started"),
        "total_s": round(total, 4),
        "peak_mb": round(pipeline_peak, 1),
        "peak_workers_mb": round(peak_workers_mb(), 1),
        "objective_cny": solution.objective_cny,
        "objective_off_cny": rule_off.objective_cny,
        "iterations": solution.iterations,
        "columns": solution.stats.get("columns"),
        "settled": solution.stats.get("settled"),
        "settled_off": rule_off.stats.get("settled"),
        "accelerators_off": list(off),
        "iterations_off": rule_off.iterations,
        "bindings": len(solution.bindings),
        "outputs_written": "outputs" in stages,
    }
    if reference:
        from benchmarks.reference import solve_reference

        say(f"[{size}] reference LP, rule off")
        ref_off = solve_reference(problem, enforcement="off", threads=threads)
        result["reference_off"] = _ref_dict(ref_off)
        result["reference_objective_off_cny"] = ref_off.objective_cny
        result["rel_diff_off"] = _rel(rule_off.objective_cny, ref_off.objective_cny)
        road_caps = any(d.get("capacity_t", float("inf")) < float("inf")
                        for _, _, d in network.graphs["road"].edges(data=True))
        if problem.policy.enforcement != "off" and not road_caps:
            say(f"[{size}] reference LP, rule {problem.policy.enforcement}")
            ref = solve_reference(problem, threads=threads)
            result["reference"] = _ref_dict(ref)
            result["reference_objective_cny"] = ref.objective_cny
            result["rel_diff"] = _rel(solution.objective_cny, ref.objective_cny)
        elif problem.policy.enforcement == "off":
            result["reference_objective_cny"] = ref_off.objective_cny
            result["rel_diff"] = _rel(solution.objective_cny, ref_off.objective_cny)
        result["peak_mb_with_reference"] = round(peak_mb(), 1)
    return result


def _ref_dict(r: Any) -> dict[str, Any]:
    return {"status": r.status, "objective_cny": r.objective_cny, "solve_s": round(r.seconds, 3),
            "build_s": round(r.build_seconds, 3), "columns": r.n_cols, "rows": r.n_rows,
            "groups": r.n_groups, "binding_capacities": r.binding,
            "eligible_pairs": r.eligible_flows, "pairs_with_access": r.flows_with_access}


def _print(res: dict[str, Any]) -> None:
    net = res["network"]
    print(f"size {res['size']} (seed {res['seed']}): road {net['road']['edges']:,} edges / "
          f"{net['road']['nodes']:,} nodes, rail {net['rail']['edges']:,} edges, pipeline "
          f"{net.get('pipeline', {}).get('edges', 0):,} edges; {res['flows']:,} flows, "
          f"{res['places']:,} places; rule {res['enforcement']}")
    for k, v in res["stages_s"].items():
        print(f"  {k:<16}{v:>10.3f} s")
    print(f"  {'total':<16}{res['total_s']:>10.3f} s   peak {res['peak_mb']:,.0f} MB (ru_maxrss)"
          + (f", pricing worker {res['peak_workers_mb']:,.0f} MB (shares pages with it)"
             if res.get("peak_workers_mb") else ""))
    print(f"optimum (rule)   {res['objective_cny']:>22,.2f} CNY  [{res['status']}, "
          f"{res['iterations']} master solves, {res['columns']:.0f} columns, "
          f"{res['bindings']} binding]")
    if res.get("settled") is not None:
        print(f"settled outside the LP (no capacity on the cheapest chain): "
              f"{res['settled']:.0f} of {res['flows']:,} flows (rule), "
              f"{res.get('settled_off') or 0:.0f} (off)")
    print(f"optimum (off)    {res['objective_off_cny']:>22,.2f} CNY")
    if "reference_off" in res:
        r = res["reference_off"]
        print(f"reference (off)  {r['objective_cny']:>22,.2f} CNY  rel diff "
              f"{res['rel_diff_off']:.2e}  [{r['columns']:,} cols, {r['rows']:,} rows, "
              f"build {r['build_s']:.1f} s, HiGHS {r['solve_s']:.1f} s, "
              f"{r['binding_capacities']} binding]")
    if "reference" in res:
        r = res["reference"]
        print(f"reference (rule) {r['objective_cny']:>22,.2f} CNY  rel diff "
              f"{res['rel_diff']:.2e}  [HiGHS {r['solve_s']:.1f} s]")
    if "peak_mb_with_reference" in res:
        print(f"peak with reference {res['peak_mb_with_reference']:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=list(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference LP")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads for the reference")
    ap.add_argument("--off", action="append", default=[], choices=list(ACCELERATORS),
                    help="switch an accelerator of the solver off (repeatable)")
    args = ap.parse_args(argv)
    # stdout holds the table or the JSON alone: the HiGHS models are made quiet (no
    # banner), progress goes to stderr
    res = bench(args.size, seed=args.seed, reference=not args.no_reference,
                threads=args.threads, log=sys.stderr, off=tuple(args.off))
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        _print(res)
    bad = [k for k in ("rel_diff", "rel_diff_off") if res.get(k, 0.0) > TOLERANCE]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
