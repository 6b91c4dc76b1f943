"""The three states of every run, and the comparisons between them.

A run reports the same figures for three assignments of the same flows:

- ``baseline`` (现状, today): every flow on its current mode (:func:`freight.baseline.baseline`);
- ``without_rule`` (无规则最低成本): the least-cost assignment with the rule switched off;
- ``with_rule`` (有规则最低成本): the least-cost assignment under the rule as configured.

Accounting, the same for every state:

- *tonnes* by line-haul mode (the mode of a chain's longest leg); *t·km* by the mode of every
  leg, access legs included;
- *access legs* (短驳, station ↔ plant): the road legs of a chain whose line haul is rail or
  pipeline. An access leg's tonnes count once per leg, so a tonne trucked at both ends
  counts twice -- it takes two truck trips. Its *station* is the terminal where it meets the
  non-road leg (the lift at its end, else at its start); its *county* is the station's,
  else that of the flow's place at the leg's other end. A road leg between a shipper's own
  siding (a terminal of kind ``siding``: "a terminal at its own gate", docs/CONTRACTS.md)
  and the flow's place at the same site (within :data:`SAME_SITE_KM`) is the plant's
  internal move, not a truck through the city: it is no access leg (its t·km stay in the
  road t·km the model costs);
- *truck trips*: ``line_haul`` = road line-haul tonnes / ``truck_payload_t``; ``access`` =
  access leg tonnes / ``truck_payload_t``; ``total`` = the two;
- ``cost_cny``: generalised transport cost (money + carbon price, no penalty);
  ``objective_cny`` (the two optimised states): the solver's objective, which adds the soft
  rule's penalties.

The comparisons name what they subtract: *the rule's effect* = without_rule − with_rule;
*the shift the cost model calls voluntary* = baseline − without_rule; *total* = baseline −
with_rule; *policy cost* = objective(with_rule) − objective(without_rule); *CO2 abatement
cost* = policy cost ÷ (CO2 without_rule − CO2 with_rule). Invariant: abatement cost × CO2
abated by the rule = policy cost whenever the abatement cost is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from freight.defaults import DEFAULTS
from freight.problem import MODES, Assignment, Chain, Leg, Problem, Solution
from networks import Place
from networks.io import point_km

STATES: tuple[str, ...] = ("baseline", "without_rule", "with_rule")
STATE_LABELS: dict[str, tuple[str, str]] = {
    "baseline": ("现状", "today (baseline)"),
    "without_rule": ("无规则最低成本", "least cost without the rule"),
    "with_rule": ("有规则最低成本", "least cost with the rule"),
}

SAME_SITE_KM = 1.0
"""A ``siding`` terminal this close (great circle) to a flow's place is that shipper's own
siding, so the road leg between them is in-plant (see the module docstring). An estimate:
the tables place a siding at its plant's coordinates (the planned 鲁西 siding's gate is at
鲁西's point exactly), while two different sites are kilometres apart."""

CALIBRATION_WARNING_SHARE = float(cast(float, DEFAULTS["calibration.warning_share"].value))
"""Warn that the cost model is not calibrated when the least cost without the rule is below
today's cost by more than this share of today's cost (the default of the scenario key
``calibration.warning_share``, passed as ``scenario_meta["calibration_warning_share"]``).
Shippers who could save more than 2 % of their yearly transport bill by changing mode, with
no rule asking them to, would mostly have done so; a larger gap says the costs leave out
something shippers pay, so the without-rule optimum is not a forecast of behaviour and its
shift is not "voluntary". Below 2 % the gap is within the accuracy of the cost factors."""

DEFINITIONS: dict[str, tuple[str, str]] = {
    "rule_effect": (
        "规则带来的转移 = 无规则最低成本 − 有规则最低成本（正数表示有规则时更少）",
        "shift due to the rule = least cost without the rule − least cost with the rule "
        "(positive: less with the rule)",
    ),
    "voluntary": (
        "成本模型认为的自愿转移 = 现状 − 无规则最低成本（正数表示无规则最低成本时更少）",
        "shift the cost model calls voluntary = today (baseline) − least cost without the "
        "rule (positive: less without the rule than today)",
    ),
    "total": (
        "相对现状的总变化 = 现状 − 有规则最低成本（正数表示有规则时更少）",
        "total change from today = today (baseline) − least cost with the rule "
        "(positive: less with the rule than today)",
    ),
    "policy_cost_cny": (
        "政策成本 = 有规则最低成本的目标值 − 无规则最低成本的目标值（元/年，含软约束罚金）",
        "policy cost = objective with the rule − objective without the rule "
        "(CNY/yr, soft-rule penalties included)",
    ),
    "co2_abated_by_rule_t": (
        "规则减少的 CO₂ = 无规则最低成本的 CO₂ − 有规则最低成本的 CO₂（t/年）",
        "CO2 abated by the rule = CO2 without the rule − CO2 with the rule (t/yr)",
    ),
    "co2_abatement_cny_per_t": (
        "CO₂ 减排成本 = 政策成本 ÷ 规则减少的 CO₂（元/t；规则未减少 CO₂ 时为空）",
        "CO2 abatement cost = policy cost ÷ CO2 abated by the rule (CNY/t; null when the "
        "rule abates none)",
    ),
    "truck_trips": (
        "货车趟次：干线 = 公路干线货量 ÷ 载重；短驳 = 铁路/管道链两端公路段货量 ÷ 载重"
        "（两端都短驳的一吨计两趟）；合计 = 二者之和",
        "truck trips: line haul = road line-haul tonnes ÷ payload; 短驳 access = tonnes on the "
        "road legs of rail/pipeline chains ÷ payload (a tonne trucked at both ends counts "
        "twice); total = both",
    ),
    "capital": (
        "情景新建基础设施的年化投资（资本回收系数 × 投资额），与年运输成本并列",
        "annualised capital of the scenario's new infrastructure (capital recovery factor "
        "× capex), shown beside the yearly transport cost",
    ),
}


@dataclass(frozen=True)
class AccessLeg:
    """One road leg of a rail or pipeline chain (短驳)."""

    leg: Leg
    station: str  # place id of the terminal where it meets the non-road leg ("" if none)
    place: str  # the flow's place at its other end ("" for a leg between two terminals)


def leg_lifts(chain: Chain) -> list[tuple[str | None, str | None]]:
    """For each leg of ``chain``, the lifts at its start and at its end (None: none).

    A chain's lifts are, in order: the first leg's when it is not road (a siding), one per
    change of leg, and the last leg's when it is not road (see
    ``MultimodalGraph.chain_from_arcs``).
    """
    legs, lifts = chain.legs, chain.lifts
    n = len(legs)
    starts: list[str | None] = [None] * n
    ends: list[str | None] = [None] * n
    p = 0
    if n and legs[0].mode != "road" and p < len(lifts):
        starts[0] = lifts[p]
        p += 1
    for i in range(n - 1):
        if p < len(lifts):
            ends[i] = starts[i + 1] = lifts[p]
            p += 1
    if n and legs[-1].mode != "road" and p < len(lifts):
        ends[-1] = lifts[p]
    return list(zip(starts, ends, strict=True))


def access_legs(
    chain: Chain, origin: str, destination: str, places: Mapping[str, Place] | None = None
) -> list[AccessLeg]:
    """The access legs (短驳) of ``chain``: its road legs when its line haul is not road,
    less those between a shipper's own siding and the shipper (given ``places``)."""
    if chain.line_haul_mode() == "road":
        return []
    out = []
    n = len(chain.legs)
    for i, (leg, (start, end)) in enumerate(zip(chain.legs, leg_lifts(chain), strict=True)):
        if leg.mode != "road":
            continue
        station = end or start or ""
        place = origin if i == 0 else (destination if i == n - 1 else "")
        if places is not None and _in_plant(places.get(station), places.get(place)):
            continue
        out.append(AccessLeg(leg, station, place))
    return out


def _in_plant(station: Place | None, place: Place | None) -> bool:
    """Whether ``station`` is ``place``'s own siding (kind ``siding``, same site)."""
    if station is None or place is None or station.kind != "siding":
        return False
    return point_km(station.lon, station.lat, place.lon, place.lat) <= SAME_SITE_KM


@dataclass
class FlowFigures:
    """One flow's figures in one state."""

    road_t: float = 0.0
    cost_cny: float = 0.0  # penalties included (the with_rule state of a soft rule)
    co2_t: float = 0.0


@dataclass
class StateTotals:
    """What one state adds up to (see the module docstring for the accounting)."""

    tonnes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODES, 0.0))
    tkm: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODES, 0.0))
    road_lh_t: float = 0.0
    access_t: float = 0.0
    access_tkm: float = 0.0
    co2_t: float = 0.0
    cost_cny: float = 0.0
    penalty_cny: float = 0.0
    by_commodity: dict[str, dict[str, float]] = field(default_factory=dict)
    by_station: dict[str, list[float]] = field(default_factory=dict)  # id -> [t, tkm]
    by_county: dict[str, list[float]] = field(default_factory=dict)  # name -> [t, tkm]
    flows: dict[str, FlowFigures] = field(default_factory=dict)
    access: list[tuple[str, Assignment]] = field(default_factory=list)  # (station, road leg)


PenaltyOf = Callable[[Assignment], float]


def penalty_of(problem: Problem, solution: Solution) -> PenaltyOf:
    """The soft rule's penalty per tonne of an assignment of ``solution`` (0 unless the rule
    is soft, the flow eligible and its chain not compliant)."""
    pol = problem.policy
    if pol.enforcement != "soft" or not pol.penalty_cny_per_t:
        return lambda a: 0.0
    status = solution.flow_status

    def pen(a: Assignment) -> float:
        st = status.get(a.flow_id)
        eligible = st is not None and st.eligible
        return pol.penalty_cny_per_t if eligible and not a.chain.compliant else 0.0

    return pen


def totals(
    problem: Problem, assigns: Sequence[Assignment], *, penalty: PenaltyOf | None = None
) -> StateTotals:
    """Add up one state's assignments (module docstring: what each figure counts)."""
    flows = {f.id: f for f in problem.flows}
    places = problem.network.places
    out = StateTotals()
    for f in problem.flows:
        out.flows[f.id] = FlowFigures()
    for a in assigns:
        f = flows[a.flow_id]
        ch = a.chain
        lh = ch.line_haul_mode()
        out.tonnes[lh] += a.tonnes
        for m, km in ch.km_by_mode().items():
            out.tkm[m] += a.tonnes * km
        out.by_commodity.setdefault(f.commodity, dict.fromkeys(MODES, 0.0))[lh] += a.tonnes
        co2 = a.tonnes * ch.co2_g_per_t / 1e6
        cost = a.tonnes * ch.cost_cny_per_t
        pen = a.tonnes * penalty(a) if penalty is not None else 0.0
        out.co2_t += co2
        out.cost_cny += cost
        out.penalty_cny += pen
        ff = out.flows[a.flow_id]
        ff.co2_t += co2
        ff.cost_cny += cost + pen
        if lh == "road":
            out.road_lh_t += a.tonnes
            ff.road_t += a.tonnes
            continue
        for acc in access_legs(ch, f.origin, f.destination, places):
            t, tkm = a.tonnes, a.tonnes * acc.leg.km
            out.access_t += t
            out.access_tkm += tkm
            rec = out.by_station.setdefault(acc.station, [0.0, 0.0])
            rec[0] += t
            rec[1] += tkm
            st = places.get(acc.station)
            county = st.county if st is not None and st.county else ""
            if not county and acc.place:
                pl = places.get(acc.place)
                county = pl.county if pl is not None else ""
            rec = out.by_county.setdefault(county, [0.0, 0.0])
            rec[0] += t
            rec[1] += tkm
            out.access.append(
                (acc.station, Assignment(a.flow_id, _leg_chain(acc.leg), a.tonnes))
            )
    return out


def _leg_chain(leg: Leg) -> Chain:
    return Chain(legs=(leg,), lifts=(), cost_cny_per_t=0.0, co2_g_per_t=0.0, compliant=True)


def _trips(t: float, payload: float) -> float:
    return t / payload if payload > 0 else math.nan


def state_summary(
    name: str,
    tot: StateTotals,
    problem: Problem,
    solution: Solution | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` record of one state (docs/CONTRACTS.md)."""
    payload = problem.truck_payload_t
    places = problem.network.places
    lh, acc = _trips(tot.road_lh_t, payload), _trips(tot.access_t, payload)
    comms = sorted(set(tot.by_commodity) | {f.commodity for f in problem.flows})
    rec: dict[str, Any] = {
        "label_zh": STATE_LABELS[name][0],
        "label_en": STATE_LABELS[name][1],
        "tonnes": dict(tot.tonnes),
        "tkm": dict(tot.tkm),
        "truck_trips": {"line_haul": lh, "access": acc, "total": lh + acc},
        "access": {"tonnes": tot.access_t, "tkm": tot.access_tkm, "trips": acc},
        "co2_t": tot.co2_t,
        "cost_cny": tot.cost_cny,
        "by_commodity": {c: tot.by_commodity.get(c, dict.fromkeys(MODES, 0.0)) for c in comms},
        "access_by_station": {
            sid: {
                "name": places[sid].name if sid in places else sid,
                "county": places[sid].county if sid in places else "",
                "tonnes": t,
                "tkm": tkm,
                "trips": _trips(t, payload),
            }
            for sid, (t, tkm) in sorted(tot.by_station.items(), key=lambda kv: -kv[1][0])
        },
        "access_by_county": {
            c: {"tonnes": t, "tkm": tkm, "trips": _trips(t, payload)}
            for c, (t, tkm) in sorted(tot.by_county.items(), key=lambda kv: -kv[1][0])
        },
    }
    if solution is not None:
        obj = solution.objective_cny
        rec["objective_cny"] = float(obj) if math.isfinite(obj) else None
        rec["status"] = solution.status.value
    return rec


def compare(a: dict[str, Any], b: dict[str, Any], key: str) -> dict[str, Any]:
    """``a`` − ``b`` for the headline figures, with the definition of ``key``."""
    zh, en = DEFINITIONS[key]
    ta, tb = a["truck_trips"], b["truck_trips"]
    return {
        "definition_zh": zh,
        "definition_en": en,
        "road_t": a["tonnes"]["road"] - b["tonnes"]["road"],
        "road_tkm": a["tkm"]["road"] - b["tkm"]["road"],
        "truck_trips": {k: ta[k] - tb[k] for k in ("line_haul", "access", "total")},
        "access_tkm": a["access"]["tkm"] - b["access"]["tkm"],
        "co2_t": a["co2_t"] - b["co2_t"],
        "cost_cny": a["cost_cny"] - b["cost_cny"],
    }


def _figure(key: str, value: float | None, unit: str) -> dict[str, Any]:
    zh, en = DEFINITIONS[key]
    return {"value": value, "unit": unit, "definition_zh": zh, "definition_en": en}


def comparisons(states: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The comparisons between the states (None where a state is missing)."""
    base, off, on = (states.get(s) for s in STATES)
    out: dict[str, Any] = {
        "rule_effect": compare(off, on, "rule_effect") if off and on else None,
        "voluntary": compare(base, off, "voluntary") if base and off else None,
        "total": compare(base, on, "total") if base and on else None,
    }
    policy_cost = abated = abatement = None
    if off and on:
        abated = off["co2_t"] - on["co2_t"]
        if off.get("objective_cny") is not None and on.get("objective_cny") is not None:
            policy_cost = on["objective_cny"] - off["objective_cny"]
            if abated > 1e-9:
                abatement = policy_cost / abated
    out["policy_cost_cny"] = _figure("policy_cost_cny", policy_cost, "CNY/yr")
    out["co2_abated_by_rule_t"] = _figure("co2_abated_by_rule_t", abated, "t/yr")
    out["co2_abatement_cny_per_t"] = _figure("co2_abatement_cny_per_t", abatement, "CNY/t")
    return out


def run_warnings(
    states: dict[str, dict[str, Any] | None],
    *,
    share: float = CALIBRATION_WARNING_SHARE,
    fallbacks: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Warnings every output shows at the top, each ``{code, title_zh, title_en, text_zh,
    text_en}`` (the title is the short form, the text gives the figures):
    ``uncalibrated`` (with ``share`` and ``threshold_share``) when the least cost without
    the rule is below today's cost by more than ``share`` of it; ``baseline_fallback`` when
    some flows' current mode has no chain on the network."""
    out: list[dict[str, Any]] = []
    base, off = states.get("baseline"), states.get("without_rule")
    if base and off and base["cost_cny"] > 0:
        gap = base["cost_cny"] - off["cost_cny"]
        rel = gap / base["cost_cny"]
        shift = base["tonnes"]["road"] - off["tonnes"]["road"]
        if rel > share:
            out.append({
                "code": "uncalibrated",
                "title_zh": "成本模型不能解释现状选择——请先校准",
                "title_en": "the cost model does not explain today's choices — calibrate",
                "text_zh": (
                    "成本模型不能解释现状选择——请先校准：无规则最低成本 "
                    f"{off['cost_cny']:,.0f} 元/年，比现状 {base['cost_cny']:,.0f} 元/年"
                    f"低 {gap:,.0f} 元（{rel:.1%}，阈值 {share:.0%}）；"
                    f"其中 {shift:,.0f} t 的“自愿”转移来自成本模型，而非托运人的实际选择。"
                ),
                "text_en": (
                    "the cost model does not explain today's choices — calibrate: the least cost "
                    f"without the rule, {off['cost_cny']:,.0f} CNY/yr, is {gap:,.0f} CNY "
                    f"({rel:.1%}; threshold {share:.0%}) below today's {base['cost_cny']:,.0f} "
                    f"CNY/yr, so the {shift:,.0f} t "
                    "'voluntary' shift comes from the cost model, not from what shippers do."
                ),
                "share": rel,
                "threshold_share": share,
            })  # fmt: skip
    if fallbacks:
        ids = sorted(fallbacks)
        shown = ", ".join(ids[:10]) + (f" … (+{len(ids) - 10})" if len(ids) > 10 else "")
        out.append({
            "code": "baseline_fallback",
            "title_zh": "部分货流的现状方式在网络上找不到",
            "title_en": "some flows' current mode has no chain on the network",
            "text_zh": (f"{len(ids)} 条货流的现状运输方式在网络上找不到对应路径，"
                        f"现状按替代路径计：{shown}"),
            "text_en": (f"{len(ids)} flow(s) have no chain of their current mode on the network; "
                        f"today's figures use a substitute: {shown}"),
        })  # fmt: skip
    return out


def capital(investments: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """``summary["capital"]``: the scenario's new infrastructure and its annualised cost."""
    items = [dict(i) for i in investments or ()]
    total = sum(float(i.get("annualised_cny") or 0.0) for i in items)
    zh, en = DEFINITIONS["capital"]
    return {"items": items, "annualised_cny": total, "definition_zh": zh, "definition_en": en}
