"""Pricing in two processes finds what one process finds.

``Pricing.start_worker`` starts a worker with a copy of the pricer that prices the flows of
about half of the commodities; each pricing then gathers both halves' candidates, splits
the flows to build by their joint order, and merges the columns. Without a limit that must
be exactly the single-process pricing; with one, a subset of the columns that price out, at
least as many as one process takes; and ``solve`` must reach the same optimum.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from freight.colgen import SolveOptions, fast_pricing, prefetch, processes
from freight.colgen.caches import RoadCache, TreeCache
from freight.colgen.pricing import Priced, Pricer
from freight.colgen.seeds import free_start
from freight.colgen.workers import Pricing, WorkerCache, end_kept
from freight.expanded_graph import MultimodalGraph
from freight.problem import Status
from freight.rule import check_flows, rules_for
from freight.solve import solve
from tests.generated import generated_problem

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _pricer(tmp_path: Path, seed: int = 4) -> tuple[Pricer, MultimodalGraph]:
    prob = generated_problem("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    return Pricer.for_problem(graph, prob, rules_for(prob, check_flows(prob, graph))), graph


def _duals(pricer: Pricer, graph: MultimodalGraph, seed: int) -> tuple[np.ndarray, dict]:
    """Random capacity duals on half of the rows, and demand duals at each flow's
    zero-dual cheapest chain plus a margin (so that many flows price out)."""
    rng = np.random.default_rng(seed)
    n = len(graph.rows)
    pi = -30.0 * rng.random(n) * (rng.random(n) < 0.5)
    cheapest = pricer.cheapest(pricer.flows)
    sigma = {
        fid: min(c.cost_cny_per_t for c in kinds.values()) + 20.0 * rng.random()
        for fid, kinds in cheapest.items()
        if kinds
    }
    return pi, sigma


def _key(found: Priced) -> list:
    return sorted((c.signature, round(rc, 9)) for c, rc in found.columns)


@pytest.mark.parametrize("fast", [True, False])
def test_two_processes_price_exactly_what_one_does(fast: bool, tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert fast_pricing.attach(pricer)
    flows = list(pricer.flows)
    for seed in (1, 2):
        pi, sigma = _duals(pricer, graph, seed)
        one = pricer.price(pi, sigma, phase=2, flows=flows, fast=fast)
        pricing = Pricing(pricer)
        assert pricing.start_worker()
        try:
            two = pricing.price(pi, sigma, phase=2, flows=flows, fast=fast)
        finally:
            pricing.stop()
        assert len(one.columns) > 10
        assert _key(two) == _key(one)
        assert two.low == pytest.approx(one.low, abs=1e-9)
        assert two.skipped == one.skipped


def test_two_processes_with_a_limit_and_columns_to_skip(tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert fast_pricing.attach(pricer)
    flows = list(pricer.flows)
    pi, sigma = _duals(pricer, graph, 3)
    every = pricer.price(pi, sigma, phase=2, flows=flows, fast=True).columns
    best = {c.signature: rc for c, rc in every}
    skip = {c.signature for c, _ in every[::3]}  # as if in the master already
    # flows with a column that prices out and is not in skip (their best, or the next)
    available = len(pricer.price(pi, sigma, phase=2, flows=flows, skip=skip, fast=True).columns)
    for limit in (1, 5, len(every) // 2):
        one = pricer.price(
            pi, sigma, phase=2, flows=flows, limit=limit, skip=skip, fast=True
        ).columns
        pricing = Pricing(pricer)
        assert pricing.start_worker()
        try:
            two = pricing.price(
                pi, sigma, phase=2, flows=flows, limit=limit, skip=skip, fast=True
            ).columns
        finally:
            pricing.stop()
        # a quota per side (at least one each): one column more at most, and nothing
        # found only when one process finds nothing either
        assert 1 <= len(two) <= limit + 1
        assert len(one) == min(limit, available)
        assert len({c.flow_id for c, _ in two}) == len(two)  # a column per flow at most
        for col, rc in two:
            assert col.signature not in skip
            assert rc < 0.0
            if col.signature in best:  # the same chain, the same reduced cost
                assert rc == pytest.approx(best[col.signature], abs=1e-9)


def test_a_lost_worker_leaves_pricing_in_one_process(tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert fast_pricing.attach(pricer)
    flows = list(pricer.flows)
    pi, sigma = _duals(pricer, graph, 4)
    one = pricer.price(pi, sigma, phase=2, flows=flows, fast=True)
    pricing = Pricing(pricer)
    assert pricing.start_worker()
    worker = pricing.worker
    assert worker is not None
    worker.proc.kill()
    worker.proc.join()
    again = pricing.price(pi, sigma, phase=2, flows=flows, fast=True)
    assert pricing.worker is None
    assert _key(again) == _key(one)


@pytest.mark.parametrize("seed", [3, 4])
def test_solve_in_two_processes_same_optimum(seed: int, tmp_path: Path) -> None:
    prob = generated_problem("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    one = solve(prob, graph=graph, options=SolveOptions(fast_pricing=True, max_new=7, workers=1))
    two = solve(prob, graph=graph, options=SolveOptions(fast_pricing=True, max_new=7, workers=2))
    assert one.status is two.status is Status.OPTIMAL
    assert two.objective_cny == pytest.approx(one.objective_cny, rel=1e-9)


def test_terminal_trees_built_in_a_helper_equal_those_built_here(tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert prefetch.start(pricer)
    assert not prefetch.start(pricer)  # one at a time
    forked = fast_pricing.terminal_trees(graph, pricer.layer, pricer.options)
    assert forked is not None and graph.derived(TreeCache).pending is None
    here_graph = MultimodalGraph(graph.network, graph.costs)
    here_pricer = Pricer(here_graph, pricer.flows, pricer.max_access_km, {})
    here = fast_pricing.build_terminal_trees(here_graph, here_pricer.layer, here_pricer.options)
    assert here is not None
    np.testing.assert_array_equal(forked.pred, here.pred)
    np.testing.assert_array_equal(forked.tree, here.tree)
    assert forked.km.keys() == here.km.keys()
    for node, km in here.km.items():
        np.testing.assert_array_equal(forked.km[node], km)
    # the helper also built every flow's road-only start (no road capacities here): the
    # same chains as built here, whichever flows ask first
    flows = list(pricer.flows)
    assert len(graph.derived(RoadCache).road_only or {}) == len(flows)
    some = flows[::3]
    here_starts = free_start(here_pricer, some)
    forked_starts = free_start(pricer, some)
    assert forked_starts.keys() == here_starts.keys() and len(here_starts) > 0
    for fid, col in here_starts.items():
        assert forked_starts[fid].signature == col.signature
        assert forked_starts[fid].cost_cny_per_t == col.cost_cny_per_t


def test_terminal_trees_not_collected_end_with_their_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    cancelled: list[bool] = []
    original = processes.Helper.cancel

    def cancel(self: processes.Helper) -> None:
        cancelled.append(True)
        original(self)

    monkeypatch.setattr(processes.Helper, "cancel", cancel)
    pricer, graph = _pricer(tmp_path)
    assert prefetch.start(pricer)
    pending = graph.derived(TreeCache).pending
    assert pending is not None
    proc = pending.proc
    del pricer, graph
    gc.collect()
    proc.join(timeout=10)
    assert cancelled == [True]
    assert not proc.is_alive()


def test_worker_keeps_its_skip_from_the_log_of_changes(tmp_path: Path) -> None:
    # the master's columns change between pricings (added, dropped, added again): the
    # worker's copy kept from the log's new entries skips exactly what one process skips
    pricer, graph = _pricer(tmp_path)
    assert fast_pricing.attach(pricer)
    flows = list(pricer.flows)
    pi, sigma = _duals(pricer, graph, 5)
    skip: set[tuple] = set()
    log: list[tuple[bool, tuple]] = []

    def change(sigs: list[tuple], added: bool) -> None:
        for sig in sigs:
            (skip.add if added else skip.discard)(sig)
            log.append((added, sig))

    first = [
        c.signature for c, _ in pricer.price(pi, sigma, phase=2, flows=flows, fast=True).columns
    ]
    # one process, the same graph
    alone = Pricer(graph, pricer.flows, pricer.max_access_km, pricer.rules)
    assert fast_pricing.attach(alone)
    alone.cheapest(flows)
    pricing = Pricing(pricer)
    assert pricing.start_worker()  # one worker for every step: the log's new entries only
    try:
        for step in range(4):
            two = pricing.price(pi, sigma, phase=2, flows=flows, skip=skip, skip_log=log, fast=True)
            one = alone.price(pi, sigma, phase=2, flows=flows, skip=skip, fast=True)
            assert _key(two) == _key(one) and two.skipped == one.skipped
            assert pricing.worker is not None and pricing.worker.log_pos == len(log)
            assert (one.skipped > 0) == (step > 0)  # the skip set mattered
            if step == 0:
                change(first, True)  # every best column in the master: next ones offered
            elif step == 1:
                change(first[::2], False)  # half of them dropped
            elif step == 2:
                change(first[::4], True)  # some back
    finally:
        pricing.stop()
    assert len(log) > 0


def test_the_off_run_reuses_the_rule_runs_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # starting a worker is seconds on a large graph: the policy-off run on the same graph
    # and flows re-rules the worker the rule's run started, for the same optimum
    from freight.solve import solve_policy_off

    prob = generated_problem("mid", tmp_path, 0)
    started: list[str] = []
    real_start = processes.start

    def start(target: object, args: tuple) -> object:
        started.append(getattr(target, "__name__", ""))
        return real_start(target, args)  # type: ignore[arg-type]

    monkeypatch.setattr(processes, "start", start)
    two = SolveOptions(fast_pricing=True, workers=2, prefetch=False)
    graph = MultimodalGraph(prob.network, prob.costs)
    on = solve(prob, graph=graph, options=two)
    off = solve_policy_off(prob, on, graph=graph, options=two)
    assert started == ["_serve"]
    one = SolveOptions(fast_pricing=True, workers=1, prefetch=False)
    alone = MultimodalGraph(prob.network, prob.costs)
    on1 = solve(prob, graph=alone, options=one)
    off1 = solve_policy_off(prob, on1, graph=alone, options=one)
    assert on.objective_cny == pytest.approx(on1.objective_cny, rel=1e-9)
    assert off.objective_cny == pytest.approx(off1.objective_cny, rel=1e-9)
    # the worker stays on the graph until the graph goes or end_kept ends it
    kept = graph.derived(WorkerCache, prob.policy.max_access_km)
    assert kept.worker is not None and kept.worker.proc.is_alive()
    proc = kept.worker.proc
    end_kept(graph, prob.policy.max_access_km)
    assert kept.worker is None and not proc.is_alive()
