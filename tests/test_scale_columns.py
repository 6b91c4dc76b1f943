"""Column management: columns deleted from the master change neither optimum nor duals.

``freight.solve`` deletes a column that stays non-basic at zero with a positive reduced
cost for ``drop_after`` consecutive master solves; pricing may bring it back. The loop
still ends only when nothing prices out at the master's duals, so the optimum is exact.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pytest

from freight.colgen import SolveOptions
from freight.colgen.loop import select_columns as _select
from freight.colgen.master import Master
from freight.colgen.pricing import Pricer
from freight.colgen.pruning import Pruner
from freight.colgen.seeds import capacity_free
from freight.expanded_graph import MultimodalGraph
from freight.problem import Problem, Status
from freight.rule import check_flows, rules_for
from freight.solve import solve
from tests.generated import generated_problem
from tests.test_master import _hand_problem


def _small(tmp_path: Path, enforcement: str = "soft") -> Problem:
    return generated_problem("small", tmp_path, 2, enforcement)


def _loop(problem: Problem, drop_after: int) -> tuple[Master, Pricer, object]:
    """Phase-2 column generation as ``solve`` runs it (a few columns per round)."""
    graph = MultimodalGraph(problem.network, problem.costs)
    rules = rules_for(problem, check_flows(problem, graph))
    pricer = Pricer.for_problem(graph, problem, rules)
    master = Master({f.id: f.tonnes for f in problem.flows}, graph.rows)
    pruner = Pruner(master, SolveOptions(drop_columns_after=drop_after, drop_rows_after=0))
    free = capacity_free(pricer, problem.flows)
    master.add_columns([pricer.ruled(c) for c in free.values()])
    rest = [f for f in problem.flows if f.id not in free]  # start far from the optimum
    zero = np.zeros(len(graph.rows))
    master.add_columns([c.build() for c in pricer.candidates(zero, phase=2, flows=rest)])
    res = master.solve(phase=2)
    while res.optimal:
        cols = _select(master, pricer.price(res.pi, res.sigma, phase=2), 3)
        if not cols:
            break
        if drop_after:
            objective, sigma = res.objective, dict(res.sigma)
            if pruner.prune(master)[0]:
                # deleting non-basic columns: the same vertex, objective and duals
                again = master.solve(phase=2)
                assert again.objective == pytest.approx(objective, rel=1e-12)
                assert again.sigma == pytest.approx(sigma, rel=1e-9, abs=1e-9)
        master.add_columns(cols)
        res = master.solve(phase=2)
    return master, pricer, res


def _duals_optimal(master: Master, pricer: Pricer, res) -> None:  # type: ignore[no-untyped-def]
    # nothing prices out over all chains (dropped ones included), strong duality
    assert not _select(master, pricer.price(res.pi, res.sigma, phase=2), 10**9)
    for c, _ in pricer.price(res.pi, res.sigma, phase=2).columns:
        assert c.signature in master.seen  # only noise on columns in the master
    dual = sum(res.sigma[f] * t for f, t in master.demands.items())
    dual += sum(res.pi[r] * master.rows[r].capacity_t for r in master.cap_rows)
    assert dual == pytest.approx(res.objective, rel=1e-9)


def test_hand_same_optimum_and_duals() -> None:
    a, _, ra = _loop(_hand_problem(), 0)
    b, pb, rb = _loop(_hand_problem(), 1)
    assert rb.objective == pytest.approx(ra.objective, rel=1e-12)
    assert rb.objective == pytest.approx(600 * 78.0 + 600 * 120.0, rel=1e-12)
    assert rb.sigma == pytest.approx(ra.sigma, rel=1e-12)
    assert np.allclose(rb.pi, ra.pi, rtol=1e-12, atol=1e-12)
    _duals_optimal(b, pb, rb)


def test_small_same_optimum_dropped_columns_come_back(tmp_path: Path) -> None:
    a, pa, ra = _loop(_small(tmp_path), 0)
    b, pb, rb = _loop(_small(tmp_path), 1)
    assert b.pool  # columns were deleted
    assert len(b.columns) < len(a.columns)
    assert rb.objective == pytest.approx(ra.objective, rel=1e-10)
    _duals_optimal(a, pa, ra)
    _duals_optimal(b, pb, rb)
    # a dropped column is a new column again (its signature forgotten)
    back = next(iter(b.pool.values()))
    assert b.add_columns([back]) == 1 and back.signature not in b.pool
    assert b.solve(phase=2).objective == pytest.approx(rb.objective, rel=1e-10)


@pytest.mark.parametrize("enforcement", ["soft", "hard"])
def test_solve_same_optimum_with_and_without(enforcement: str, tmp_path: Path) -> None:
    prob = _small(tmp_path, enforcement)
    graph = MultimodalGraph(prob.network, prob.costs)
    keep = solve(prob, graph=graph, options=SolveOptions(max_new=3, drop_columns_after=0))
    drop = solve(prob, graph=graph, options=SolveOptions(max_new=3, drop_columns_after=1))
    assert keep.status is drop.status
    if keep.status is not Status.OPTIMAL:
        return
    assert drop.objective_cny == pytest.approx(keep.objective_cny, rel=1e-10)
    assert drop.stats["columns"] <= keep.stats["columns"]


def test_export_after_drops_is_the_final_master(tmp_path: Path) -> None:
    master, _, res = _loop(_small(tmp_path), 1)
    assert master.pool  # columns were deleted
    mps = tmp_path / "m.mps"
    master.export_lp(str(mps))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(mps)) == highspy.HighsStatus.kOk
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(res.objective, rel=1e-9)
    assert h.getNumCol() == len(master.flow_ids) + len(master.columns)
    # the PuLP model of record was rebuilt from the master's columns
    assert len(master.model.x) == len(master.columns)


def test_cbc_deletes_columns_too_same_optimum(tmp_path: Path) -> None:
    # with CBC the master is rebuilt in PuLP at every solve; idle columns are read from
    # its values and duals, and deleted the same way (deletion did nothing under CBC)
    from dataclasses import replace

    prob = replace(generated_problem("small", tmp_path, 3), solver="cbc")
    graph = MultimodalGraph(prob.network, prob.costs)
    keep = solve(prob, graph=graph, options=SolveOptions(
        settle=False, max_new=3, drop_columns_after=0, drop_rows_after=0))
    drop = solve(prob, graph=graph, options=SolveOptions(
        settle=False, max_new=3, drop_columns_after=1, drop_rows_after=1))  # fmt: skip
    assert keep.status is drop.status is Status.OPTIMAL
    assert drop.stats["dropped"] > 0
    assert drop.objective_cny == pytest.approx(keep.objective_cny, rel=1e-9)
