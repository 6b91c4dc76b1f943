"""Hand-worked optima on tiny networks (expected values computed on paper in comments).

Common layout (unless a test says otherwise)::

    road:  1 ───────── L km ───────── 2          O at road 1, D at road 2 (offsets 0)
    rail:  11 ──────── 500 km ─────── 12
    TA: road 1 (offset 10 km) + rail 11 (offset 0), handling 5 CNY/t
    TB: road 2 (offset 10 km) + rail 12 (offset 0), handling 5 CNY/t

Costs: road 0.4 CNY/t·km, no entry charge; rail ``r`` CNY/t·km + 10 CNY/t per entry.
Rail chain per tonne = 10 km × 0.4 (access) + 5 + 10 (lift at TA + rail entry)
                       + 500 r + 5 (lift at TB) + 10 km × 0.4 (egress) = 28 + 500 r.
"""

from __future__ import annotations

import math

import pytest

from freight.problem import Flow, Policy, Status
from freight.solve import solve
from tests import tinynet as tn

COVERED = frozenset({"coal", "ore", "coke", "oil"})


def layout(
    road_km: float,
    *,
    rail_cap: float = math.inf,
    ta_cap: float = math.inf,
    ta_offset: float = 10.0,
    extra_terminal: bool = False,
):
    places = [
        tn.place("O", {"road": (1, 0.0)}),
        tn.place("D", {"road": (2, 0.0)}),
        tn.place(
            "TA",
            {"road": (1, ta_offset), "rail": (11, 0.0)},
            kind="station",
            handling=5.0,
            capacity=ta_cap,
        ),
        tn.place("TB", {"road": (2, 10.0), "rail": (12, 0.0)}, kind="station", handling=5.0),
    ]
    if extra_terminal:
        places.append(
            tn.place("TC", {"road": (1, 20.0), "rail": (11, 0.0)}, kind="station", handling=5.0)
        )
    return tn.network(
        road=[(1, 2, road_km)], rail=[(11, 12, 500.0, {"capacity_t": rail_cap})], places=places
    )


def costs(rail_rate: float):
    return tn.costs(road=(0.4, 0.0, 60.0), rail=(rail_rate, 10.0, 10.0))


def policy(**kw):
    return Policy(commodities=COVERED, **kw)


@pytest.mark.parametrize(
    "road_km, expect_mode, per_t",
    [
        (399.0, "road", 0.4 * 399),  # below threshold: road 159.6 < rail 28 + 150 = 178
        (401.0, "rail", 28 + 500 * 0.3),  # eligible, hard: rail 178 although road is 160.4
    ],
)
def test_threshold_399_vs_401(road_km, expect_mode, per_t):
    prob = tn.problem(
        layout(road_km), [Flow("f1", "coal", "O", "D", 1000.0)], cost=costs(0.3), policy=policy()
    )
    sol = solve(prob)
    assert sol.status is Status.OPTIMAL
    assert sol.objective_cny == pytest.approx(1000 * per_t, rel=1e-9)
    (a,) = sol.assignments
    assert a.chain.line_haul_mode() == expect_mode
    st = sol.flow_status["f1"]
    assert st.haul_km == pytest.approx(road_km)
    if expect_mode == "road":
        assert not st.eligible and st.reason_code == "below_threshold"
        assert "399 km" in st.reason and "400 km" in st.reason
    else:
        assert st.eligible and a.chain.compliant and a.chain.lifts == ("TA", "TB")
        assert a.chain.km_by_mode() == {"road": 20.0, "rail": 500.0, "pipeline": 0.0}


def test_capacity_splits_not_eligible_flow_with_shadow_price():
    # steel is not covered: free choice. Rail 28 + 50 = 78 < road 120 (300 km).
    # Rail edge 11->12 holds 600 t: 600 rail + 400 road = 46,800 + 48,000 = 94,800.
    # One more tonne of rail capacity saves 120 - 78 = 42 CNY.
    prob = tn.problem(
        layout(300.0, rail_cap=600.0),
        [Flow("f1", "steel", "O", "D", 1000.0)],
        cost=costs(0.1),
        policy=policy(),
    )
    sol = solve(prob)
    assert sol.objective_cny == pytest.approx(94_800.0, rel=1e-9)
    by_mode = {a.chain.line_haul_mode(): a.tonnes for a in sol.assignments}
    assert by_mode == pytest.approx({"rail": 600.0, "road": 400.0})
    (b,) = sol.bindings
    assert b.name == "cap_rail_11_12" and b.kind == "edge" and b.ref == ("rail", 11, 12)
    assert b.shadow_cny_per_t == pytest.approx(42.0, rel=1e-9)
    assert b.used_t == pytest.approx(600.0)
    assert sol.flow_status["f1"].reason_code == "commodity_not_covered"


def test_soft_rule_capacity_reason_and_shadow():
    # coal 401 km, rail 0.3: compliant 178; road 160.4 + penalty 30 = 190.4 > 178.
    # Rail holds 600: 600 × 178 + 400 × 190.4 = 106,800 + 76,160 = 182,960; shadow 12.4.
    prob = tn.problem(
        layout(401.0, rail_cap=600.0),
        [Flow("f1", "coal", "O", "D", 1000.0)],
        cost=costs(0.3),
        policy=policy(enforcement="soft", penalty_cny_per_t=30.0),
    )
    sol = solve(prob)
    assert sol.objective_cny == pytest.approx(182_960.0, rel=1e-9)
    assert sol.bindings[0].shadow_cny_per_t == pytest.approx(12.4, rel=1e-9)
    st = sol.flow_status["f1"]
    assert st.reason_code == "capacity" and "cap_rail_11_12" in st.reason
    assert sol.stats["penalty_cny"] == pytest.approx(400 * 30.0, rel=1e-9)


@pytest.mark.parametrize(
    "penalty, expect",
    [
        (10.0, 1000 * (160.4 + 10.0)),  # road + penalty 170.4 < rail 178: pays the penalty
        (20.0, 1000 * 178.0),  # road + penalty 180.4 > rail 178: goes rail
    ],
)
def test_hard_vs_soft(penalty, expect):
    flows = [Flow("f1", "coal", "O", "D", 1000.0)]
    hard = solve(tn.problem(layout(401.0), flows, cost=costs(0.3), policy=policy()))
    assert hard.objective_cny == pytest.approx(178_000.0, rel=1e-9)
    soft = solve(
        tn.problem(
            layout(401.0),
            flows,
            cost=costs(0.3),
            policy=policy(enforcement="soft", penalty_cny_per_t=penalty),
        )
    )
    assert soft.objective_cny == pytest.approx(expect, rel=1e-9)
    if penalty == 10.0:
        assert soft.flow_status["f1"].reason_code == "cheaper_not_eligible"
        off = solve(
            tn.problem(layout(401.0), flows, cost=costs(0.3), policy=policy(enforcement="off"))
        )
        assert off.objective_cny == pytest.approx(160_400.0, rel=1e-9)


def test_oil_pipeline_that_coal_may_not_use():
    # pipeline 21-22, 450 km, oil only. Road 450 km = 180 CNY/t.
    # oil: 10 km × 0.4 + 5 + 5 (lift + pipeline entry) + 450 × 0.05 + 5 + 4 = 45.5 CNY/t.
    # coal: no compliant chain (pipeline refuses coal, no rail) -> road 180, no_access.
    net = tn.network(
        road=[(1, 2, 450.0)],
        pipeline=[(21, 22, 450.0)],
        places=[
            tn.place("O", {"road": (1, 0.0)}),
            tn.place("D", {"road": (2, 0.0)}),
            tn.place(
                "PA",
                {"road": (1, 10.0), "pipeline": (21, 0.0)},
                handling=5.0,
                kind="pipeline_terminal",
            ),
            tn.place(
                "PB",
                {"road": (2, 10.0), "pipeline": (22, 0.0)},
                handling=5.0,
                kind="pipeline_terminal",
            ),
        ],
    )
    flows = [Flow("oil1", "oil", "O", "D", 100.0), Flow("coal1", "coal", "O", "D", 100.0)]
    sol = solve(tn.problem(net, flows, policy=policy()))
    assert sol.objective_cny == pytest.approx(100 * 45.5 + 100 * 180.0, rel=1e-9)
    modes = {a.flow_id: a.chain.line_haul_mode() for a in sol.assignments}
    assert modes == {"oil1": "pipeline", "coal1": "road"}
    assert sol.flow_status["oil1"].eligible
    assert sol.flow_status["coal1"].reason_code == "no_access"


def test_shipper_beyond_max_access_stays_on_road():
    # TA's road link is 60 km from O's node: access leg 60 km > 50 km, no compliant chain.
    # Road 450 km = 180; road-rail-road (any chain allowed when not eligible):
    # 60 × 0.4 + 15 + 150 + 5 + 4 = 198 > 180 -> road.
    prob = tn.problem(
        layout(450.0, ta_offset=60.0),
        [Flow("f1", "coal", "O", "D", 1.0)],
        cost=costs(0.3),
        policy=policy(),
    )
    sol = solve(prob)
    assert sol.objective_cny == pytest.approx(180.0, rel=1e-9)
    st = sol.flow_status["f1"]
    assert not st.has_access and not st.eligible and st.reason_code == "no_access"
    assert "50 km" in st.reason


def test_infeasible_hard_rule_names_flow_and_capacity():
    prob = tn.problem(
        layout(401.0, rail_cap=600.0),
        [Flow("f1", "coal", "O", "D", 1000.0)],
        cost=costs(0.3),
        policy=policy(),
    )
    sol = solve(prob)
    assert sol.status is Status.INFEASIBLE
    assert "f1" in sol.message and "cap_rail_11_12" in sol.message
    assert "400" in sol.message  # 400 of 1000 t unserved


def test_terminal_throughput_binding():
    # steel (free choice), road 300 km = 120. Rail via TA (access 10 km): 28 + 50 = 78;
    # via TC (access 20 km): 82. TA handles 700 t: 700 × 78 + 300 × 82 = 54,600 + 24,600
    # = 79,200; one more tonne through TA saves 82 - 78 = 4.
    prob = tn.problem(
        layout(300.0, ta_cap=700.0, extra_terminal=True),
        [Flow("f1", "steel", "O", "D", 1000.0)],
        cost=costs(0.1),
        policy=policy(),
    )
    sol = solve(prob)
    assert sol.objective_cny == pytest.approx(79_200.0, rel=1e-9)
    (b,) = sol.bindings
    assert b.name == "terminal_TA" and b.kind == "terminal" and b.ref == ("TA",)
    assert b.shadow_cny_per_t == pytest.approx(4.0, rel=1e-9)
    lifts = {a.chain.lifts: a.tonnes for a in sol.assignments}
    assert lifts == pytest.approx({("TA", "TB"): 700.0, ("TC", "TB"): 300.0})


def test_siding_lift_at_origin_counts_handling():
    # O has its own siding on rail 11 (handling 3): no road leg at the origin.
    # siding: 3 + 10 (entry) + 500 × 0.1 + 5 (TB) + 4 = 72 < via TA 78 < road 120.
    net = tn.network(
        road=[(1, 2, 300.0)],
        rail=[(11, 12, 500.0)],
        places=[
            tn.place("O", {"road": (1, 0.0), "rail": (11, 0.0)}, kind="siding", handling=3.0),
            tn.place("D", {"road": (2, 0.0)}),
            tn.place("TB", {"road": (2, 10.0), "rail": (12, 0.0)}, handling=5.0),
        ],
    )
    sol = solve(tn.problem(net, [Flow("f1", "steel", "O", "D", 10.0)], cost=costs(0.1)))
    assert sol.objective_cny == pytest.approx(720.0, rel=1e-9)
    (a,) = sol.assignments
    assert a.chain.lifts == ("O", "TB") and [leg.mode for leg in a.chain.legs] == ["rail", "road"]


def _access_net():
    """Road access to TA (road 4) by three paths: 1-4 10 km (cap 600), 1-2-4 20 + 25 km
    (1->2 cap 300), 1-3-4 30 + 30 km (60 km > 50: not an access leg). D at road 5, 405 km
    from O by road 1-5. Rail 11-12 500 km; TA road 4/rail 11, TB road 5/rail 12, offsets 0."""
    return tn.network(
        road=[
            (1, 4, 10.0, {"capacity_t": 600.0}),
            (1, 2, 20.0, {"capacity_t": 300.0}),
            (2, 4, 25.0),
            (1, 3, 30.0),
            (3, 4, 30.0),
            (1, 5, 405.0),
            (4, 5, 401.0),
        ],
        rail=[(11, 12, 500.0)],
        places=[
            tn.place("O", {"road": (1, 0.0)}),
            tn.place("D", {"road": (5, 0.0)}),
            tn.place("TA", {"road": (4, 0.0), "rail": (11, 0.0)}, handling=5.0),
            tn.place("TB", {"road": (5, 0.0), "rail": (12, 0.0)}, handling=5.0),
        ],
    )


def test_capacitated_access_roads_keep_the_km_bound_exact():
    # compliant: access 10 km: 4 + 15 + 150 + 5 = 174 (600 t); 45 km: 18 + 30 ... = 188
    # (300 t); the 60 km access is not compliant (24 + 170 + 30 penalty = 224). Road 405 km
    # = 162 + 30 penalty = 192 takes the last 100 t.
    # Objective 600 × 174 + 300 × 188 + 100 × 192 = 104,400 + 56,400 + 19,200 = 180,000.
    # Shadows: 1->4: 192 - 174 = 18; 1->2: 192 - 188 = 4.
    flows = [Flow("f1", "coal", "O", "D", 1000.0)]
    soft = solve(
        tn.problem(
            _access_net(),
            flows,
            cost=costs(0.3),
            policy=policy(enforcement="soft", penalty_cny_per_t=30.0),
        )
    )
    assert soft.objective_cny == pytest.approx(180_000.0, rel=1e-9)
    shadows = {b.name: b.shadow_cny_per_t for b in soft.bindings}
    assert shadows == pytest.approx({"cap_road_1_4": 18.0, "cap_road_1_2": 4.0})
    hard = solve(tn.problem(_access_net(), flows, cost=costs(0.3), policy=policy()))
    assert hard.status is Status.INFEASIBLE
    assert "cap_road_1_4" in hard.message and "cap_road_1_2" in hard.message


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_solvers_agree_and_export_mps(solver, tmp_path):
    prob = tn.problem(
        layout(300.0, rail_cap=600.0),
        [Flow("f1", "steel", "O", "D", 1000.0)],
        cost=costs(0.1),
        policy=policy(),
        solver=solver,
    )
    sol = solve(prob, export_lp=str(tmp_path / "master.mps"))
    assert sol.objective_cny == pytest.approx(94_800.0, rel=1e-9)
    assert sol.bindings[0].shadow_cny_per_t == pytest.approx(42.0, rel=1e-9)
    text = (tmp_path / "master.mps").read_text()
    assert "cap_rail_11_12" in text and "demand_f1" in text
