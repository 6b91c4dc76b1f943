"""Row management: capacity rows deleted from the master change neither optimum nor duals.

``freight.solve`` deletes a capacity row whose slack has stayed basic, with more than a share
of the capacity left, for ``drop_rows_after`` consecutive master solves (a basic slack has
dual 0: the same vertex stays optimal without the row). A later solution that overloads the
row brings it back as any lazy row, and the loop ends only when nothing prices out and
nothing is overloaded, so the optimum is the one with every row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from freight.colgen import SolveOptions
from freight.colgen.lazy_rows import overloaded
from freight.colgen.master import Master
from freight.colgen.pricing import Pricer
from freight.colgen.pruning import Pruner
from freight.colgen.seeds import capacity_free
from freight.expanded_graph import MultimodalGraph
from freight.problem import Status
from freight.rule import check_flows, rules_for
from freight.solve import solve
from tests.generated import generated_problem
from tests.test_master import _hand_problem


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_hand_row_goes_while_slack_and_comes_back_when_overloaded(solver: str) -> None:
    # two flows over one 600 t rail edge (rail 78 CNY/t, road 120): f1 1,000 t, f2 200 t;
    # the same with either backend (under CBC, rows with slack are read from the values)
    prob = _hand_problem()
    graph = MultimodalGraph(prob.network, prob.costs)
    pricer = Pricer.for_problem(graph, prob, rules_for(prob, check_flows(prob, graph)))
    f1, f2 = prob.flows
    road = capacity_free(pricer, prob.flows)
    zero = np.zeros(len(graph.rows))
    rail = {c.flow.id: c.build() for c in pricer.candidates(zero, phase=2, flows=[f1, f2])}
    assert all(c.rows for c in rail.values()) and not any(c.rows for c in road.values())
    master = Master(
        {f.id: f.tonnes for f in prob.flows}, graph.rows, lazy_rows=True, solver=solver
    )
    two = SolveOptions(drop_columns_after=0, drop_rows_after=2, row_slack_share=0.5)
    pruner = Pruner(master, two)

    def drop_slack() -> int:
        return pruner.prune(master)[1]

    master.add_columns([road["f1"], road["f2"], rail["f2"]])
    master.activate(list(rail["f2"].rows))
    res = master.solve(phase=2)  # f2 on rail, 400 t of the edge left: its slack is basic
    assert res.objective == pytest.approx(1000 * 120.0 + 200 * 78.0, rel=1e-12)
    assert drop_slack() == 0  # one round only
    assert master.solve(phase=2).objective == pytest.approx(res.objective, rel=1e-12)
    assert drop_slack() == 1 and not master.cap_rows
    again = master.solve(phase=2)  # the same vertex and duals without the row
    assert again.objective == pytest.approx(res.objective, rel=1e-12)
    assert again.sigma == pytest.approx(res.sigma, rel=1e-12)
    assert np.array_equal(again.pi, res.pi)
    # a row that came back (here by hand, still slack) waits twice as long to go again
    master.activate(list(rail["f2"].rows))
    for _ in range(3):
        assert master.solve(phase=2).objective == pytest.approx(res.objective, rel=1e-12)
        assert drop_slack() == 0
    master.solve(phase=2)
    assert drop_slack() == 1  # four rounds, not two, once back
    master.add_columns([rail["f1"]])  # the row left out: all 1,200 t on rail
    over = overloaded(master, master.solve(phase=2))
    assert over == list(rail["f1"].rows)
    master.activate(over)  # back, with the coefficients of the columns already in
    final = master.solve(phase=2)
    assert final.objective == pytest.approx(600 * 78.0 + 600 * 120.0, rel=1e-12)
    assert not overloaded(master, final)
    one = SolveOptions(drop_columns_after=0, drop_rows_after=1, row_slack_share=0.0)
    assert Pruner(master, one).prune(master)[1] == 0  # binding now: not loose at all


@pytest.mark.parametrize("enforcement", ["soft", "hard"])
def test_solve_same_optimum_with_and_without(
    enforcement: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prob = generated_problem("mid", tmp_path, 0, enforcement)
    graph = MultimodalGraph(prob.network, prob.costs)
    keep = solve(prob, graph=graph, options=SolveOptions(drop_rows_after=0))
    # any slack left
    drop = solve(prob, graph=graph, options=SolveOptions(drop_rows_after=1, row_slack_share=0.0))
    assert keep.status is drop.status is Status.OPTIMAL
    assert keep.stats["rows_dropped"] == 0 < drop.stats["rows_dropped"]
    assert drop.stats["rows_back"] > 0  # deleted rows came back overloaded
    assert drop.stats["rows"] < keep.stats["rows"]
    assert drop.objective_cny == pytest.approx(keep.objective_cny, rel=1e-10)
