"""The result folder: files parse, columns per docs/CONTRACTS.md, totals consistent."""

from __future__ import annotations

import csv
import json
import math

import pytest

from freight.outputs import BOTTLENECK_COLUMNS, FLOW_COLUMNS, TERMINAL_COLUMNS, write_results
from freight.problem import Flow, Policy
from freight.solve import baseline, solve, solve_policy_off
from tests import tinynet as tn


def _problem(enforcement="soft"):
    net = tn.network(
        road=[(1, 2, 401.0), (2, 3, 100.0)],
        rail=[(11, 12, 500.0, {"capacity_t": 600.0, "name": "邯济铁路", "lines": ("邯济铁路",)})],
        pipeline=[(21, 22, 450.0)],
        places=[
            tn.place("O", {"road": (1, 0.0)}, county="茌平区"),
            tn.place("D", {"road": (2, 0.0)}),
            tn.place("E", {"road": (3, 0.0)}),
            tn.place(
                "TA",
                {"road": (1, 10.0), "rail": (11, 0.0), "pipeline": (21, 0.0)},
                kind="station",
                handling=5.0,
                capacity=5000.0,
            ),
            tn.place(
                "TB",
                {"road": (2, 10.0), "rail": (12, 0.0), "pipeline": (22, 0.0)},
                kind="station",
                handling=5.0,
            ),
        ],
    )
    flows = [
        Flow("coal1", "coal", "O", "D", 1000.0, shipper="信发"),
        Flow("oil1", "oil", "O", "D", 200.0, baseline_mode="pipeline"),
        Flow("steel1", "steel", "O", "D", 50.0),
        Flow("coke1", "coke", "D", "E", 30.0),
    ]
    pol = Policy(
        commodities=frozenset({"coal", "oil", "coke"}),
        enforcement=enforcement,
        penalty_cny_per_t=30.0,
    )
    return tn.problem(net, flows, cost=tn.costs(rail=(0.3, 10.0, 10.0)), policy=pol)


def _read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a UTF-8 BOM"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        r = csv.DictReader(fh)
        return r.fieldnames, list(r)


def test_result_folder(tmp_path):
    prob = _problem()
    sol = solve(prob)
    off = solve_policy_off(prob, sol)
    before = baseline(prob)
    out = tmp_path / "run"
    summary = write_results(
        prob, sol, before, off, out, scenario_meta={"scenario": "t", "title": "测试"}
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "bottlenecks.csv",
        "flows.csv",
        "links.geojson",
        "summary.json",
        "terminals.csv",
    ]
    assert not list(tmp_path.glob(".*"))  # the temporary folder is gone
    js = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert js == json.loads(json.dumps(summary))
    for key in (
        "scenario",
        "title",
        "status",
        "objective_cny",
        "tonnes",
        "tkm",
        "road_tonnage_reduction_t",
        "truck_trips_avoided",
        "co2_t",
        "cost_cny",
        "policy",
        "policy_cost_cny",
        "co2_abatement_cny_per_t",
        "by_commodity",
        "parameters",
        "solver",
        "reasons",
    ):
        assert key in js
    assert set(js["policy"]) == {
        "enforcement",
        "commodities",
        "threshold_km",
        "distance",
        "max_access_km",
        "eligible_flows",
        "eligible_t",
        "shifted_t",
        "shortfall_t",
    }
    total = sum(f.tonnes for f in prob.flows)
    for state in ("before", "after"):
        assert sum(js["tonnes"][state].values()) == pytest.approx(total)
        assert sum(sum(v[state].values()) for v in js["by_commodity"].values()) == pytest.approx(
            total
        )

    cols, rows = _read_csv(out / "flows.csv")
    assert cols == FLOW_COLUMNS
    assert sum(float(r["tonnes"]) for r in rows) == pytest.approx(total)
    assert sum(float(r["road_t"]) for r in rows) == pytest.approx(js["tonnes"]["after"]["road"])
    assert sum(float(r["cost_cny"]) for r in rows) == pytest.approx(js["objective_cny"])
    coal = [r for r in rows if r["flow_id"] == "coal1"]
    # rail 600 t (capacity) at 178 CNY/t; 400 t road at 160.4 + 30 penalty
    assert {r["line_haul_mode"]: float(r["tonnes"]) for r in coal} == pytest.approx(
        {"rail": 600.0, "road": 400.0}
    )
    road_row = next(r for r in coal if r["line_haul_mode"] == "road")
    assert road_row["reason_code"] == "capacity" and "cap_rail_11_12" in road_row["reason"]
    assert road_row["county"] == "茌平区" and road_row["shipper"] == "信发"
    rail_row = next(r for r in coal if r["line_haul_mode"] == "rail")
    assert rail_row["lines"] == "邯济铁路" and rail_row["lifts"] == "TA;TB"
    assert rail_row["compliant"] == "yes" and rail_row["eligible"] == "yes"
    reasons = {}
    for r in rows:
        if r["reason_code"]:
            reasons[r["reason_code"]] = reasons.get(r["reason_code"], 0.0) + float(r["road_t"])
    assert reasons == pytest.approx(js["reasons"])
    assert js["reasons"] == pytest.approx(
        {"capacity": 400.0, "commodity_not_covered": 50.0, "below_threshold": 30.0}
    )

    cols, rows = _read_csv(out / "bottlenecks.csv")
    assert cols == BOTTLENECK_COLUMNS
    assert rows[0]["constraint"] == "cap_rail_11_12"
    assert float(rows[0]["shadow_cny_per_t"]) == pytest.approx(190.4 - 178.0)

    cols, rows = _read_csv(out / "terminals.csv")
    assert cols == TERMINAL_COLUMNS
    ta = next(r for r in rows if r["id"] == "TA")
    # lifts at TA after: 600 t coal + 200 t oil; before: oil baseline pipeline 200 t
    assert float(ta["throughput_t"]) == pytest.approx(800.0)
    assert float(ta["throughput_before_t"]) == pytest.approx(200.0)

    gj = json.loads((out / "links.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection"
    props = {
        (f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]): f["properties"]
        for f in gj["features"]
    }
    rail = props[("rail", 11, 12)]
    assert rail["tonnes_after"] == pytest.approx(600.0) and rail["binding"]
    assert rail["utilisation"] == pytest.approx(1.0) and rail["capacity_t"] == 600.0
    assert props[("road", 1, 2)]["capacity_t"] is None
    for p in props.values():
        assert set(p) == {
            "mode",
            "u",
            "v",
            "name",
            "lines",
            "km",
            "tonnes_before",
            "tonnes_after",
            "by_commodity_before",
            "by_commodity_after",
            "capacity_t",
            "utilisation",
            "binding",
            "shadow_cny_per_t",
        }

    # policy cost: on (soft) minus off; CO2 abatement per tonne when CO2 falls
    assert js["policy_cost_cny"] == pytest.approx(sol.objective_cny - off.objective_cny)
    assert js["policy_cost_cny"] > 0
    assert js["co2_abatement_cny_per_t"] is None or js["co2_abatement_cny_per_t"] > 0


def test_infeasible_result_still_writes_consistent_flows(tmp_path):
    prob = _problem("hard")
    sol = solve(prob)
    assert sol.status.value == "infeasible"
    write_results(prob, sol, baseline(prob), None, tmp_path / "r", scenario_meta={})
    _, rows = _read_csv(tmp_path / "r" / "flows.csv")
    assert sum(float(r["tonnes"]) for r in rows) == pytest.approx(sum(f.tonnes for f in prob.flows))
    js = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert js["status"] == "infeasible" and js["objective_cny"] is None
    assert "cap_rail_11_12" in js["message"] and not math.isnan(js["tonnes"]["before"]["road"])
