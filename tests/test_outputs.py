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
        "schema_version",
        "scenario",
        "title",
        "status",
        "truck_payload_t",
        "states",
        "comparisons",
        "warnings",
        "policy",
        "capital",
        "capacities",
        "parameters",
        "solver",
        "reasons",
    ):
        assert key in js
    for gone in ("tonnes", "tkm", "road_tonnage_reduction_t", "truck_trips_avoided",
                 "co2_t", "cost_cny", "policy_cost_cny", "by_commodity"):  # fmt: skip
        assert gone not in js  # the ambiguous before/after keys of schema 1
    assert set(js["policy"]) == {
        "enforcement",
        "commodities",
        "threshold_km",
        "distance",
        "max_access_km",
        "eligible_flows",
        "eligible_t",
        "eligible_road_t",
        "shortfall_t",
    }
    total = sum(f.tonnes for f in prob.flows)
    assert set(js["states"]) == {"baseline", "without_rule", "with_rule"}
    for name, st in js["states"].items():
        assert sum(st["tonnes"].values()) == pytest.approx(total)
        assert sum(sum(v.values()) for v in st["by_commodity"].values()) == pytest.approx(total)
        trips = st["truck_trips"]
        assert trips["line_haul"] == pytest.approx(st["tonnes"]["road"] / 33.0)
        assert trips["total"] == pytest.approx(trips["line_haul"] + trips["access"])
        assert st["access"]["trips"] == pytest.approx(trips["access"])
        assert sum(v["tonnes"] for v in st["access_by_station"].values()) == pytest.approx(
            st["access"]["tonnes"]
        )
        assert sum(v["tkm"] for v in st["access_by_county"].values()) == pytest.approx(
            st["access"]["tkm"]
        )
        assert ("objective_cny" in st) == (name != "baseline")

    cols, rows = _read_csv(out / "flows.csv")
    assert cols == FLOW_COLUMNS
    assert sum(float(r["tonnes"]) for r in rows) == pytest.approx(total)
    on = js["states"]["with_rule"]
    assert sum(float(r["road_t"]) for r in rows) == pytest.approx(on["tonnes"]["road"])
    assert sum(float(r["cost_cny"]) for r in rows) == pytest.approx(on["objective_cny"])
    # flow-level columns repeat on each row of a flow: one value per flow id
    per_flow = {r["flow_id"]: r for r in rows}
    assert sum(float(r["rule_cost_cny"]) for r in per_flow.values()) == pytest.approx(
        js["comparisons"]["policy_cost_cny"]["value"], abs=0.01 * len(per_flow)
    )
    assert sum(float(r["cost_cny_with_rule"]) for r in per_flow.values()) == pytest.approx(
        on["objective_cny"], abs=0.01 * len(per_flow)
    )
    for r in per_flow.values():
        assert float(r["road_t_with_rule"]) == pytest.approx(
            sum(float(x["road_t"]) for x in rows if x["flow_id"] == r["flow_id"])
        )
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
    # lifts at TA with the rule: 600 t coal + 200 t oil; today: oil baseline pipeline 200 t
    assert float(ta["throughput_with_rule_t"]) == pytest.approx(800.0)
    assert float(ta["throughput_baseline_t"]) == pytest.approx(200.0)
    assert ta["capacity_known"] == "yes"

    gj = json.loads((out / "links.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection"
    props = {
        (f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]): f["properties"]
        for f in gj["features"]
    }
    rail = props[("rail", 11, 12)]
    assert rail["tonnes_with_rule"] == pytest.approx(600.0) and rail["binding"]
    assert rail["utilisation"] == pytest.approx(1.0) and rail["capacity_t"] == 600.0
    assert props[("road", 1, 2)]["capacity_t"] is None
    # the flows on each link, per state: with the rule only coal (600 t) fits the rail edge
    assert rail["flows_with_rule"] == ["coal1"]
    assert rail["flows_baseline"] == []
    for p in props.values():
        for s in ("baseline", "without_rule", "with_rule"):
            assert bool(p[f"flows_{s}"]) == (p[f"tonnes_{s}"] > 0)
    for p in props.values():
        assert set(p) == {
            "mode",
            "u",
            "v",
            "name",
            "lines",
            "km",
            "tonnes_baseline",
            "tonnes_without_rule",
            "tonnes_with_rule",
            "by_commodity_baseline",
            "by_commodity_without_rule",
            "by_commodity_with_rule",
            "flows_baseline",
            "flows_without_rule",
            "flows_with_rule",
            "access_t_baseline",
            "access_t_without_rule",
            "access_t_with_rule",
            "capacity_t",
            "utilisation",
            "binding",
            "shadow_cny_per_t",
        }

    # policy cost: on (soft, penalties included) minus off; CO2 abatement per tonne when the
    # rule abates CO2, and then abatement × CO2 abated by the rule = policy cost
    cmp = js["comparisons"]
    cost = cmp["policy_cost_cny"]["value"]
    assert cost == pytest.approx(sol.objective_cny - off.objective_cny)
    assert cost > 0
    abated = cmp["co2_abated_by_rule_t"]["value"]
    assert abated == pytest.approx(js["states"]["without_rule"]["co2_t"] - on["co2_t"])
    abate = cmp["co2_abatement_cny_per_t"]["value"]
    assert (abate is None) == (abated <= 1e-9)
    if abate is not None:
        assert abate * abated == pytest.approx(cost)


def test_infeasible_result_still_writes_consistent_flows(tmp_path):
    prob = _problem("hard")
    sol = solve(prob)
    assert sol.status.value == "infeasible"
    write_results(prob, sol, baseline(prob), None, tmp_path / "r", scenario_meta={})
    _, rows = _read_csv(tmp_path / "r" / "flows.csv")
    assert sum(float(r["tonnes"]) for r in rows) == pytest.approx(sum(f.tonnes for f in prob.flows))
    js = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    on = js["states"]["with_rule"]
    assert js["status"] == "infeasible" and on["status"] == "infeasible"
    assert on["objective_cny"] is None
    assert "cap_rail_11_12" in js["message"]
    assert not math.isnan(js["states"]["baseline"]["tonnes"]["road"])
    # no run without the rule: that state and what needs it are null, not made up
    assert js["states"]["without_rule"] is None
    assert js["comparisons"]["rule_effect"] is None and js["comparisons"]["voluntary"] is None
    assert js["comparisons"]["policy_cost_cny"]["value"] is None
    assert all(r["road_t_without_rule"] == "" for r in rows)
