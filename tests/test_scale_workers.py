"""Pricing in two processes finds what one process finds.

``Pricer.start_worker`` forks a copy of the pricer that prices the flows of about half of
the commodities; each pricing then gathers both halves' candidates, splits the flows to
build by their joint order, and merges the columns. Without a limit that must be exactly
the single-process pricing; with one, a subset of the columns that price out, at least as
many as one process takes; and ``solve`` must reach the same optimum.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from freight.explain import check_flows, rules_for
from freight.network_view import MultimodalGraph
from freight.pricing import Pricer
from freight.problem import Status
from freight.solve import solve
from tests.generated import generated_problem

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _pricer(tmp_path: Path, seed: int = 4) -> tuple[Pricer, MultimodalGraph]:
    prob = generated_problem("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    return Pricer(graph, prob, rules_for(prob, check_flows(prob, graph))), graph


def _duals(pricer: Pricer, graph: MultimodalGraph, seed: int) -> tuple[np.ndarray, dict]:
    """Random capacity duals on half of the rows, and demand duals at each flow's
    zero-dual cheapest chain plus a margin (so that many flows price out)."""
    rng = np.random.default_rng(seed)
    n = len(graph.rows)
    pi = -30.0 * rng.random(n) * (rng.random(n) < 0.5)
    cheapest = pricer.cheapest(pricer.problem.flows)
    sigma = {
        fid: min(c.cost_cny_per_t for c in kinds.values()) + 20.0 * rng.random()
        for fid, kinds in cheapest.items()
        if kinds
    }
    return pi, sigma


def _key(found: list) -> list:
    return sorted((c.signature, round(rc, 9)) for c, rc in found)


@pytest.mark.parametrize("fast", [True, False])
def test_two_processes_price_exactly_what_one_does(fast: bool, tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert pricer.fast_possible()
    flows = list(pricer.problem.flows)
    for seed in (1, 2):
        pi, sigma = _duals(pricer, graph, seed)
        one = pricer.price(pi, sigma, phase=2, flows=flows, fast=fast)
        low_one, skipped_one = dict(pricer.low), pricer.skipped
        assert pricer.start_worker()
        try:
            two = pricer.price(pi, sigma, phase=2, flows=flows, fast=fast)
        finally:
            pricer.stop_worker()
        assert len(one) > 10
        assert _key(two) == _key(one)
        assert pricer.low == pytest.approx(low_one, abs=1e-9)
        assert pricer.skipped == skipped_one


def test_two_processes_with_a_limit_and_columns_to_skip(tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    flows = list(pricer.problem.flows)
    pi, sigma = _duals(pricer, graph, 3)
    every = pricer.price(pi, sigma, phase=2, flows=flows, fast=True)
    best = {c.signature: rc for c, rc in every}
    skip = {c.signature for c, _ in every[::3]}  # as if in the master already
    # flows with a column that prices out and is not in skip (their best, or the next)
    available = len(pricer.price(pi, sigma, phase=2, flows=flows, skip=skip, fast=True))
    for limit in (1, 5, len(every) // 2):
        one = pricer.price(pi, sigma, phase=2, flows=flows, limit=limit, skip=skip, fast=True)
        assert pricer.start_worker()
        try:
            two = pricer.price(pi, sigma, phase=2, flows=flows, limit=limit, skip=skip, fast=True)
        finally:
            pricer.stop_worker()
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
    flows = list(pricer.problem.flows)
    pi, sigma = _duals(pricer, graph, 4)
    one = pricer.price(pi, sigma, phase=2, flows=flows, fast=True)
    assert pricer.start_worker()
    worker = pricer._worker
    assert worker is not None
    worker.proc.kill()
    worker.proc.join()
    again = pricer.price(pi, sigma, phase=2, flows=flows, fast=True)
    assert pricer._worker is None
    assert _key(again) == _key(one)


@pytest.mark.parametrize("seed", [3, 4])
def test_solve_in_two_processes_same_optimum(seed: int, tmp_path: Path) -> None:
    prob = generated_problem("small", tmp_path, seed)
    graph = MultimodalGraph(prob.network, prob.costs)
    one = solve(prob, graph=graph, fast=True, max_new=7, workers=1)
    two = solve(prob, graph=graph, fast=True, max_new=7, workers=2)
    assert one.status is two.status is Status.OPTIMAL
    assert two.objective_cny == pytest.approx(one.objective_cny, rel=1e-9)


def test_terminal_trees_built_in_a_fork_equal_those_built_here(tmp_path: Path) -> None:
    pricer, graph = _pricer(tmp_path)
    assert pricer.prefetch_terminal_trees()
    assert not pricer.prefetch_terminal_trees()  # one at a time
    forked = pricer._terminal_trees()
    assert forked is not None and ("terminal_trees", "pending") not in graph.memo
    here_graph = MultimodalGraph(pricer.problem.network, pricer.problem.costs)
    here = Pricer(here_graph, pricer.problem, {})._terminal_trees()
    assert here is not None
    np.testing.assert_array_equal(forked.pred, here.pred)
    np.testing.assert_array_equal(forked.tree, here.tree)
    assert forked.km.keys() == here.km.keys()
    for node, km in here.km.items():
        np.testing.assert_array_equal(forked.km[node], km)
    # the fork also built every flow's road-only start (no road capacities here): the
    # same chains as built here, whichever flows ask first
    flows = list(pricer.problem.flows)
    assert len(graph.memo[("road_only",)]) == len(flows)
    some = flows[::3]
    here_starts = Pricer(here_graph, pricer.problem, {}).free_start(some)
    forked_starts = pricer.free_start(some)
    assert forked_starts.keys() == here_starts.keys() and len(here_starts) > 0
    for fid, col in here_starts.items():
        assert forked_starts[fid].signature == col.signature
        assert forked_starts[fid].cost_cny_per_t == col.cost_cny_per_t


def test_terminal_trees_not_collected_end_with_their_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import freight.pricing

    cancelled: list[bool] = []
    original = freight.pricing._Forked.cancel

    def cancel(self: freight.pricing._Forked) -> None:
        cancelled.append(True)
        original(self)

    monkeypatch.setattr(freight.pricing._Forked, "cancel", cancel)
    pricer, graph = _pricer(tmp_path)
    assert pricer.prefetch_terminal_trees()
    proc = graph.memo[("terminal_trees", "pending")].proc
    del pricer, graph
    gc.collect()
    proc.join(timeout=10)
    assert cancelled == [True]
    assert not proc.is_alive()


def test_worker_keeps_its_skip_from_the_log_of_changes(tmp_path: Path) -> None:
    # the master's columns change between pricings (added, dropped, added again): the
    # worker's copy kept from the log's new entries skips exactly what one process skips
    pricer, graph = _pricer(tmp_path)
    flows = list(pricer.problem.flows)
    pi, sigma = _duals(pricer, graph, 5)
    skip: set[tuple] = set()
    log: list[tuple[bool, tuple]] = []

    def change(sigs: list[tuple], added: bool) -> None:
        for sig in sigs:
            (skip.add if added else skip.discard)(sig)
            log.append((added, sig))

    first = [c.signature for c, _ in pricer.price(pi, sigma, phase=2, flows=flows, fast=True)]
    alone = Pricer(graph, pricer.problem, pricer.rules)  # one process, the same graph
    alone.cheapest(flows)
    assert pricer.start_worker()  # one worker for every step: the log's new entries only
    try:
        for step in range(4):
            two = pricer.price(pi, sigma, phase=2, flows=flows, skip=skip, skip_log=log, fast=True)
            one = alone.price(pi, sigma, phase=2, flows=flows, skip=skip, fast=True)
            assert _key(two) == _key(one) and pricer.skipped == alone.skipped
            assert pricer._worker is not None and pricer._worker.log_pos == len(log)
            assert (alone.skipped > 0) == (step > 0)  # the skip set mattered
            if step == 0:
                change(first, True)  # every best column in the master: next ones offered
            elif step == 1:
                change(first[::2], False)  # half of them dropped
            elif step == 2:
                change(first[::4], True)  # some back
    finally:
        pricer.stop_worker()
    assert len(log) > 0
