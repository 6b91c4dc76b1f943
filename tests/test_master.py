"""The persistent HiGHS master against a fresh PuLP build, and the exported MPS re-read.

The master keeps one ``highspy.Highs`` alive across column-generation iterations; these
tests check that what it answers is what PuLP's own (fresh-model) HiGHS answers for the same
PuLP model, and that the MPS file written from the PuLP model is the LP the solver saw.
"""

from __future__ import annotations

import math
from pathlib import Path

import highspy
import numpy as np
import pulp
import pytest

from freight.colgen.master import Master
from freight.expanded_graph import MultimodalGraph
from freight.problem import Flow, Policy, Problem, Status
from freight.solve import solve
from tests import tinynet as tn
from tests.generated import generated_problem

COVERED = frozenset({"coal", "ore", "coke", "oil"})


def _hand_problem() -> Problem:
    # two flows compete for a 600 t rail edge; road is 120 CNY/t, rail 78 CNY/t
    places = [
        tn.place("O", {"road": (1, 0.0)}),
        tn.place("D", {"road": (2, 0.0)}),
        tn.place("TA", {"road": (1, 10.0), "rail": (11, 0.0)}, kind="station", handling=5.0),
        tn.place("TB", {"road": (2, 10.0), "rail": (12, 0.0)}, kind="station", handling=5.0),
    ]
    net = tn.network(
        road=[(1, 2, 300.0)], rail=[(11, 12, 500.0, {"capacity_t": 600.0})], places=places
    )
    return tn.problem(
        net,
        [Flow("f1", "steel", "O", "D", 1000.0), Flow("f2", "coal", "O", "D", 200.0)],
        cost=tn.costs(road=(0.4, 0.0, 60.0), rail=(0.1, 10.0, 10.0)),
        policy=Policy(commodities=COVERED, enforcement="off"),
    )


def _small_problem(tmp_path: Path) -> Problem:
    return generated_problem("small", tmp_path, 0)


def _run_master(problem: Problem) -> Master:
    """Column generation as ``solve`` runs it, returning the final (phase-2) master."""
    from freight.colgen.pricing import Pricer
    from freight.rule import check_flows, rules_for

    graph = MultimodalGraph(problem.network, problem.costs)
    rules = rules_for(problem, check_flows(problem, graph))
    pricer = Pricer.for_problem(graph, problem, rules)
    master = Master({f.id: f.tonnes for f in problem.flows}, graph.rows)
    zero = np.zeros(len(graph.rows))
    master.add_columns([c.build() for c in pricer.candidates(zero, phase=2, flows=problem.flows)])
    for phase in (1, 2):
        res = master.solve(phase=phase)
        while res.optimal and not (phase == 1 and res.objective <= 1e-6):
            priced = pricer.price(res.pi, res.sigma, phase=phase)
            if master.add_columns([c for c, _ in priced.columns]) == 0:
                break
            res = master.solve(phase=phase)
    master.last = res  # type: ignore[attr-defined]
    return master


def _fresh_pulp(master: Master) -> tuple[float, dict[str, float], dict[str, float]]:
    """Copy the final master into a new Master and solve its PuLP model with PuLP's own
    HiGHS interface (a fresh model), returning objective, demand duals and row duals."""
    fresh = Master(master.demands, master.rows)
    fresh.add_columns(master.columns)
    prob = fresh.model.build(fresh, phase=2)
    prob.solve(pulp.HiGHS(msg=False, solver="simplex"))
    assert pulp.LpStatus[prob.status] == "Optimal"
    cons = {c.name: c for c in prob.constraints()}
    demand = {f: float(cons[f"demand_{f}"].pi) for f in master.demands}
    rows = {master.rows[r].name: float(cons[master.rows[r].name].pi) for r in master.cap_rows}
    return float(pulp.value(prob.objective)), demand, rows


def _dual_optimal(master: Master, sigma: dict[str, float], pi: dict[str, float], obj: float):
    """Dual feasibility (no column prices out) and strong duality for the duals given."""
    scale = max(1.0, abs(obj))
    dual_obj = sum(sigma[f] * t for f, t in master.demands.items())
    dual_obj += sum(pi[master.rows[r].name] * master.rows[r].capacity_t for r in master.cap_rows)
    assert dual_obj == pytest.approx(obj, rel=1e-9, abs=1e-9 * scale)
    for c in master.columns:
        rc = c.cost_cny_per_t - sigma[c.flow_id]
        rc -= sum(pi[master.rows[r].name] * k for r, k in c.rows.items())
        assert rc >= -1e-7 * max(1.0, c.cost_cny_per_t)
    assert all(v <= 1e-9 for v in pi.values())


def test_persistent_master_matches_fresh_pulp_build_hand() -> None:
    # unique optimum and duals: 600 t rail (any split), 600 t road; demand duals 120,
    # rail capacity shadow 120 - 78 = 42
    master = _run_master(_hand_problem())
    res = master.last  # type: ignore[attr-defined]
    obj, sigma, pi = _fresh_pulp(master)
    assert res.objective == pytest.approx(obj, rel=1e-12)
    assert res.objective == pytest.approx(600 * 78.0 + 600 * 120.0, rel=1e-12)
    assert res.sigma == pytest.approx(sigma, rel=1e-12)
    ours = {master.rows[r].name: res.pi[r] for r in master.cap_rows}
    assert ours == pytest.approx(pi, rel=1e-12)
    assert ours["cap_rail_11_12"] == pytest.approx(-42.0, rel=1e-12)


def test_persistent_master_matches_fresh_pulp_build_small(tmp_path: Path) -> None:
    master = _run_master(_small_problem(tmp_path))
    res = master.last  # type: ignore[attr-defined]
    obj, sigma, pi = _fresh_pulp(master)
    assert res.objective == pytest.approx(obj, rel=1e-10)
    ours = {master.rows[r].name: float(res.pi[r]) for r in master.cap_rows}
    # a degenerate LP may have several dual optima: both must be optimal duals
    _dual_optimal(master, res.sigma, ours, res.objective)
    _dual_optimal(master, sigma, pi, obj)
    # the slacks the master reports are the PuLP model's
    for r in master.cap_rows:
        used = sum(c.rows.get(r, 0) * x for c, x in zip(master.columns, res.x, strict=True))
        assert res.slack[r] == pytest.approx(master.rows[r].capacity_t - used, abs=1e-6)


@pytest.mark.parametrize("which", ["hand", "small"])
def test_exported_mps_resolves_to_the_same_objective(which: str, tmp_path: Path) -> None:
    problem = _hand_problem() if which == "hand" else _small_problem(tmp_path)
    mps = tmp_path / "master.mps"
    sol = solve(problem, export_lp=mps)
    assert sol.status is Status.OPTIMAL
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(mps)) == highspy.HighsStatus.kOk
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    obj = h.getInfo().objective_function_value
    assert obj == pytest.approx(sol.objective_cny, rel=1e-9)
    assert h.getNumCol() >= sol.stats["columns"]
    assert not math.isnan(obj)
