"""The three states and their comparisons, worked by hand on a tiny instance.

::

    road:  4 ─10─ 1 ────── 401 km ────── 2 ─10─ 5        O at road 1, D at road 2, E at road 3
                  └──────── 600 km ───── 3 ─10─ 6
    rail:  11 ─── 500 km ─── 12,  11 ─── 500 km ─── 13
    TA: road 4 + rail 11 (county 东昌府区); TB: road 5 + rail 12 (no county; D is in 茌平区);
    TC: road 6 + rail 13 (no county; nor has E). Handling 5 CNY/t at each.

Costs: road 0.4 CNY/t·km, 60 g CO2/t·km; rail 0.3 CNY/t·km + 10 CNY/t per entry,
10 g/t·km. Truck payload 33 t.

Rail chain per tonne (both flows): 10 km road (4.0) + 5 (lift) + 10 (entry) + 500 × 0.3
(150) + 5 (lift) + 10 km road (4.0) = 178 CNY/t; CO2 20 × 60 + 500 × 10 = 6,200 g/t.

- Flow A: coal O → D, 990 t, road 401 km today = 160.4 CNY/t, 24,060 g/t. Road is cheaper
  than rail (160.4 < 178), but the haul is ≥ 400 km: **the rule moves it** (17.6 CNY/t).
- Flow B: ore O → E, 660 t, road 600 km today = 240 CNY/t, 36,000 g/t. Rail is cheaper
  (178 < 240): it moves **without the rule** -- the shift the cost model calls voluntary.

==============  ==========================  ==========================  ======================
state           baseline (A road, B road)   without rule (A road, B     with rule (A rail,
                                            rail)                       B rail)
==============  ==========================  ==========================  ======================
road t          1,650                       990                         0
road t·km       990×401 + 660×600           396,990 + 660×20            990×20 + 660×20
                = 792,990                   = 410,190                   = 33,000
access t, t·km  0, 0                        2×660 = 1,320; 13,200       2×1,650 = 3,300; 33,000
trips lh/acc    50 / 0 / 50                 30 / 40 / 70                0 / 100 / 100
CO2 t           23.8194 + 23.76 = 47.5794   23.8194 + 4.092 = 27.9114   6.138 + 4.092 = 10.23
cost CNY        158,796 + 158,400           158,796 + 117,480           176,220 + 117,480
                = 317,196                   = 276,276                   = 293,700
==============  ==========================  ==========================  ======================

Policy cost 293,700 − 276,276 = 17,424 (= 990 × 17.6); CO2 abated by the rule
27.9114 − 10.23 = 17.6814 t; abatement cost 17,424 / 17.6814 = 985.44 CNY/t. Today costs
(317,196 − 276,276) / 317,196 = 12.9 % more than the least cost without the rule: the
``uncalibrated`` warning.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from freight.outputs import write_results
from freight.problem import Flow, Policy
from freight.solve import baseline, solve, solve_policy_off
from freight.states import access_legs, leg_lifts
from tests import tinynet as tn

COVERED = frozenset({"coal", "ore", "coke", "oil"})


def _problem(**policy):
    net = tn.network(
        road=[(1, 2, 401.0), (1, 3, 600.0), (1, 4, 10.0), (2, 5, 10.0), (3, 6, 10.0)],
        rail=[(11, 12, 500.0), (11, 13, 500.0)],
        places=[
            tn.place("O", {"road": (1, 0.0)}),
            tn.place("D", {"road": (2, 0.0)}, county="茌平区"),
            tn.place("E", {"road": (3, 0.0)}),
            tn.place(
                "TA",
                {"road": (4, 0.0), "rail": (11, 0.0)},
                kind="station",
                handling=5.0,
                county="东昌府区",
            ),  # fmt: skip
            tn.place("TB", {"road": (5, 0.0), "rail": (12, 0.0)}, kind="station", handling=5.0),
            tn.place("TC", {"road": (6, 0.0), "rail": (13, 0.0)}, kind="station", handling=5.0),
        ],
    )
    flows = [Flow("A", "coal", "O", "D", 990.0), Flow("B", "ore", "O", "E", 660.0)]
    cost = tn.costs(road=(0.4, 0.0, 60.0), rail=(0.3, 10.0, 10.0))
    return tn.problem(net, flows, cost=cost, policy=Policy(commodities=COVERED, **policy))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    prob = _problem()
    on = solve(prob)
    off = solve_policy_off(prob, on)
    out = tmp_path_factory.mktemp("states") / "run"
    summary = write_results(prob, on, baseline(prob), off, out, scenario_meta={"scenario": "t"})
    return {
        "s": summary,
        "json": json.loads((out / "summary.json").read_text(encoding="utf-8")),
        "flows": _rows(out / "flows.csv"),
        "terminals": {r["id"]: r for r in _rows(out / "terminals.csv")},
        "links": json.loads((out / "links.geojson").read_text(encoding="utf-8")),
    }


STATES = {
    # state: road t, rail t, road t·km, rail t·km, access t, access t·km, trips lh/acc/total,
    # CO2 t, cost CNY
    "baseline": (1650, 0, 792_990, 0, 0, 0, (50, 0, 50), 47.5794, 317_196),
    "without_rule": (990, 660, 410_190, 330_000, 1320, 13_200, (30, 40, 70), 27.9114, 276_276),
    "with_rule": (0, 1650, 33_000, 825_000, 3300, 33_000, (0, 100, 100), 10.23, 293_700),
}


@pytest.mark.parametrize("name", list(STATES))
def test_each_state_by_hand(run: dict, name: str) -> None:
    road, rail, road_tkm, rail_tkm, acc_t, acc_tkm, trips, co2, cost = STATES[name]
    st = run["json"]["states"][name]
    assert st["tonnes"] == pytest.approx({"road": road, "rail": rail, "pipeline": 0})
    assert st["tkm"] == pytest.approx({"road": road_tkm, "rail": rail_tkm, "pipeline": 0})
    assert st["access"] == pytest.approx({"tonnes": acc_t, "tkm": acc_tkm, "trips": acc_t / 33})
    assert st["truck_trips"] == pytest.approx(dict(zip(("line_haul", "access", "total"), trips,
                                                       strict=True)))  # fmt: skip
    assert st["co2_t"] == pytest.approx(co2, rel=1e-9)
    assert st["cost_cny"] == pytest.approx(cost, rel=1e-9)
    assert st["label_zh"] and st["label_en"]
    if name == "baseline":
        assert "objective_cny" not in st and "status" not in st
    else:
        assert st["objective_cny"] == pytest.approx(cost, rel=1e-9)  # hard rule: no penalty
        assert st["status"] == "optimal"
    comm = st["by_commodity"]
    assert comm["coal"]["road"] + comm["coal"]["rail"] == pytest.approx(990)
    assert comm["ore"]["road"] == pytest.approx(660 if name == "baseline" else 0)


def test_comparisons_by_hand(run: dict) -> None:
    c = run["json"]["comparisons"]
    effect, vol, total = c["rule_effect"], c["voluntary"], c["total"]
    # the rule's own effect: without − with
    assert effect["road_t"] == pytest.approx(990)
    assert effect["road_tkm"] == pytest.approx(410_190 - 33_000)
    assert effect["truck_trips"] == pytest.approx({"line_haul": 30, "access": -60, "total": -30})
    assert effect["co2_t"] == pytest.approx(17.6814, rel=1e-9)
    assert effect["cost_cny"] == pytest.approx(-17_424, rel=1e-9)
    # what the cost model calls voluntary: baseline − without
    assert vol["road_t"] == pytest.approx(660)
    assert vol["road_tkm"] == pytest.approx(792_990 - 410_190)
    assert vol["truck_trips"] == pytest.approx({"line_haul": 20, "access": -40, "total": -20})
    assert vol["co2_t"] == pytest.approx(19.668, rel=1e-9)
    assert vol["cost_cny"] == pytest.approx(40_920, rel=1e-9)
    # total: baseline − with = voluntary + rule effect
    assert total["road_t"] == pytest.approx(1650)
    assert total["truck_trips"] == pytest.approx({"line_haul": 50, "access": -100, "total": -50})
    assert total["co2_t"] == pytest.approx(37.3494, rel=1e-9)
    for k in ("road_t", "road_tkm", "co2_t", "cost_cny", "access_tkm"):
        assert total[k] == pytest.approx(vol[k] + effect[k])
    assert "无规则最低成本 − 有规则最低成本" in effect["definition_zh"]
    assert "without the rule − least cost with the rule" in effect["definition_en"]
    assert "today (baseline) − least cost without the rule" in vol["definition_en"]
    # policy cost, CO2 abated by the rule, abatement cost -- each with its definition
    cost, co2, abate = (c[k] for k in ("policy_cost_cny", "co2_abated_by_rule_t",
                                       "co2_abatement_cny_per_t"))  # fmt: skip
    assert cost["value"] == pytest.approx(17_424, rel=1e-9)
    assert co2["value"] == pytest.approx(17.6814, rel=1e-9)
    assert abate["value"] == pytest.approx(17_424 / 17.6814, rel=1e-9)
    assert abate["value"] == pytest.approx(985.44, abs=0.01)
    assert abate["value"] * co2["value"] == pytest.approx(cost["value"], rel=1e-12)
    assert "policy cost ÷ CO2 abated by the rule" in abate["definition_en"]
    assert "objective with the rule − objective without the rule" in cost["definition_en"]
    assert all(c[k]["unit"] for k in ("policy_cost_cny", "co2_abated_by_rule_t",
                                      "co2_abatement_cny_per_t"))  # fmt: skip


def test_uncalibrated_warning_with_its_figures(run: dict) -> None:
    (w,) = [w for w in run["json"]["warnings"] if w["code"] == "uncalibrated"]
    assert w["share"] == pytest.approx(40_920 / 317_196, rel=1e-9)
    assert w["threshold_share"] == 0.02
    assert "calibrate" in w["text_en"] and "276,276" in w["text_en"] and "317,196" in w["text_en"]
    assert "请先校准" in w["text_zh"] and "12.9%" in w["text_zh"]


def test_no_warning_when_today_is_already_least_cost(tmp_path: Path) -> None:
    prob = _problem()
    on = solve(prob)
    off = solve_policy_off(prob, on)
    # today = the least cost without the rule (B already on rail): no warning
    s = write_results(prob, on, off, off, tmp_path / "r")
    assert [w["code"] for w in s["warnings"]] == []
    assert s["comparisons"]["voluntary"]["road_t"] == 0
    # a threshold of 20 % hides the 12.9 % gap
    s = write_results(prob, on, baseline(prob), off, tmp_path / "r2",
                      scenario_meta={"calibration_warning_share": 0.2})  # fmt: skip
    assert s["warnings"] == []


def test_access_by_station_and_county(run: dict) -> None:
    st = run["json"]["states"]
    on = st["with_rule"]["access_by_station"]
    # TA: both flows' access legs at O (10 km); TB: A's egress; TC: B's egress
    expect = {"TA": (1650, 16_500, 50), "TB": (990, 9_900, 30), "TC": (660, 6_600, 20)}
    assert set(on) == set(expect)
    for k, v in on.items():
        assert (v["tonnes"], v["tkm"], v["trips"]) == pytest.approx(expect[k])
    assert on["TA"]["name"] == "TA名" and on["TA"]["county"] == "东昌府区"
    off = st["without_rule"]["access_by_station"]
    assert {k: v["tonnes"] for k, v in off.items()} == pytest.approx({"TA": 660, "TC": 660})
    assert st["baseline"]["access_by_station"] == {}
    # county: the station's, else the place's (TB has none, D is in 茌平区); TC and E: none
    county = st["with_rule"]["access_by_county"]
    assert {k: v["tonnes"] for k, v in county.items()} == pytest.approx(
        {"东昌府区": 1650, "茌平区": 990, "": 660}
    )
    assert county["茌平区"]["trips"] == pytest.approx(30)


def test_flows_csv_flow_level_columns(run: dict) -> None:
    rows = {r["flow_id"]: r for r in run["flows"]}
    assert len(run["flows"]) == 2  # one chain each
    a, b = rows["A"], rows["B"]
    expect = {
        "A": dict(flow_tonnes=990, road_t_baseline=990, road_t_without_rule=990,
                  road_t_with_rule=0, cost_cny_without_rule=158_796, cost_cny_with_rule=176_220,
                  rule_cost_cny=17_424, co2_t_without_rule=23.8194, co2_t_with_rule=6.138),
        "B": dict(flow_tonnes=660, road_t_baseline=660, road_t_without_rule=0,
                  road_t_with_rule=0, cost_cny_without_rule=117_480, cost_cny_with_rule=117_480,
                  rule_cost_cny=0, co2_t_without_rule=4.092, co2_t_with_rule=4.092),
    }  # fmt: skip
    for fid, cols in expect.items():
        for k, v in cols.items():
            assert float(rows[fid][k]) == pytest.approx(v, abs=1e-6), (fid, k)
    assert a["moved_by_rule"] == "yes" and b["moved_by_rule"] == "no"
    for r, t in ((a, 990), (b, 660)):  # 短驳 at both ends, 10 km each
        assert float(r["access_km"]) == pytest.approx(20)
        assert float(r["access_t"]) == pytest.approx(2 * t)
        assert float(r["access_trips"]) == pytest.approx(2 * t / 33, abs=1e-3)
    total = sum(float(r["rule_cost_cny"]) for r in rows.values())
    assert total == pytest.approx(run["json"]["comparisons"]["policy_cost_cny"]["value"], abs=0.01)


def test_terminals_and_links_in_three_states(run: dict) -> None:
    t = run["terminals"]
    states = ("baseline", "without_rule", "with_rule")
    thr = {k: tuple(float(t[k][f"throughput_{s}_t"]) for s in states) for k in t}
    expect = {"TA": (0, 660, 1650), "TB": (0, 0, 990), "TC": (0, 660, 660)}
    assert set(thr) == set(expect)
    for k, v in thr.items():
        assert v == pytest.approx(expect[k])
    assert float(t["TA"]["access_t_with_rule"]) == pytest.approx(1650)
    assert float(t["TB"]["access_trips_with_rule"]) == pytest.approx(30)
    assert t["TA"]["capacity_known"] == "no" and t["TA"]["capacity_t"] == ""
    props = {(f["properties"]["mode"], f["properties"]["u"], f["properties"]["v"]):
             f["properties"] for f in run["links"]["features"]}  # fmt: skip
    road = props[("road", 1, 2)]
    assert (road["tonnes_baseline"], road["tonnes_without_rule"], road["tonnes_with_rule"]) == (
        pytest.approx(990),
        pytest.approx(990),
        0.0,
    )
    acc = props[("road", 1, 4)]  # O → TA: access for both flows with the rule
    assert acc["access_t_with_rule"] == pytest.approx(1650)
    assert acc["access_t_without_rule"] == pytest.approx(660)
    assert acc["access_t_baseline"] == 0.0
    assert props[("road", 2, 5)]["access_t_with_rule"] == pytest.approx(990)
    assert props[("rail", 11, 12)]["by_commodity_with_rule"] == pytest.approx({"coal": 990})
    caps = run["json"]["capacities"]
    assert caps["rail_links_with_flow"] == 2 and caps["rail_links_unknown"] == 2
    assert caps["terminals_with_flow"] == 3 and caps["terminals_unknown"] == 3


def test_policy_block_and_capital_default(run: dict) -> None:
    s = run["json"]
    assert s["schema_version"] == 2
    pol = s["policy"]
    assert pol["eligible_flows"] == 2 and pol["eligible_t"] == pytest.approx(1650)
    assert pol["eligible_road_t"] == pytest.approx(
        {"baseline": 1650, "without_rule": 990, "with_rule": 0}
    )
    assert s["capital"]["items"] == [] and s["capital"]["annualised_cny"] == 0


def test_capital_items_are_reported(tmp_path: Path) -> None:
    prob = _problem()
    on = solve(prob)
    inv = [{"id": "sdg", "name": "专用线", "capex_cny": 1e6, "life_years": 30,
            "discount_rate": 0.06, "annualised_cny": 72_648.91, "source": "estimate"}]  # fmt: skip
    s = write_results(prob, on, baseline(prob), solve_policy_off(prob, on), tmp_path / "r",
                      scenario_meta={"investments": inv})  # fmt: skip
    assert s["capital"]["items"] == inv
    assert s["capital"]["annualised_cny"] == pytest.approx(72_648.91)
    assert "annualised" in s["capital"]["definition_en"]


def test_leg_lifts_and_access_legs_of_a_siding_chain() -> None:
    from freight.problem import Chain, Leg

    ch = Chain(legs=(Leg("rail", (11, 12), 500.0), Leg("road", (5, 2), 10.0)),
               lifts=("O", "TB"), cost_cny_per_t=0.0, co2_g_per_t=0.0, compliant=True)  # fmt: skip
    assert leg_lifts(ch) == [("O", "TB"), ("TB", None)]
    (acc,) = access_legs(ch, "O", "D")
    assert (acc.station, acc.place, acc.leg.km) == ("TB", "D", 10.0)
    road = Chain(legs=(Leg("road", (1, 2), 401.0),), lifts=(), cost_cny_per_t=0.0,
                 co2_g_per_t=0.0, compliant=False)  # fmt: skip
    assert access_legs(road, "O", "D") == []  # a road line haul has no 短驳


def test_a_shippers_own_siding_is_no_access_leg() -> None:
    """Rail to the shipper's own siding at its gate (kind siding, same point), then the
    road leg the tables' links make to the plant: in-plant, no 短驳 -- unless the siding is
    another site, kilometres away."""
    from freight.problem import Chain, Leg
    from networks import Place

    def places(siding_lon: float) -> dict[str, Place]:
        return {
            "D": Place(id="D", name="厂", lon=116.09, lat=36.44, kind="shipper"),
            "S": Place(id="S", name="专用线", lon=siding_lon, lat=36.44, kind="siding",
                       modes=("road", "rail")),
        }  # fmt: skip

    ch = Chain(legs=(Leg("rail", (11, 12), 500.0), Leg("road", (5,), 3.4)), lifts=("O", "S"),
               cost_cny_per_t=0.0, co2_g_per_t=0.0, compliant=True)  # fmt: skip
    assert access_legs(ch, "O", "D", places(116.09)) == []  # the same site
    assert access_legs(ch, "O", "D", places(116.0905)) == []  # 45 m apart: still the same
    (far,) = access_legs(ch, "O", "D", places(116.15))  # 5.4 km away: a truck's trip
    assert far.station == "S" and far.leg.km == 3.4
    assert len(access_legs(ch, "O", "D")) == 1  # without the places: every road leg
