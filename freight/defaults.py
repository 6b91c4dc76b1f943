"""Every default parameter, in one place, with its unit in its name and its source beside it.

Keys are the dotted TOML paths a scenario uses to override them (``policy.threshold_km``,
``costs.road.cny_per_tkm``), so the effective value of a key is "the scenario's, else this
one", and ``summary.json`` can print both the value and where it came from.

Source tags follow ``DOMAIN.md``: **[S]** found in a named public source, **[D]** derived
from [S] figures, **[M]** general knowledge or an estimate of ours — a default to be
overridden, never a fact. Each source string says which.

Nothing here is computed at import time beyond building these constant tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from freight.problem import Costs, ModeCost, Policy

Value = float | str | tuple[str, ...]


@dataclass(frozen=True)
class Param:
    """One parameter value with its unit and the source that justifies it."""

    value: Value
    unit: str
    source: str

    def as_dict(self) -> dict[str, object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"value": value, "unit": self.unit, "source": self.source}


# --- rail tariff ---------------------------------------------------------------------------
#: The rail freight tariff per tonne is base1 (CNY/t, charged once per rail leg) plus
#: base2 (CNY/t·km) times the rail km, by tariff class; the railway construction fund is a
#: further per-t·km charge that we add to base2 (so ``cny_per_tkm`` = base2 + fund).
RAIL_TARIFF_CLASSES: dict[int, tuple[float, float, str]] = {
    # class: (base1_cny_per_t, base2_cny_per_tkm, source of the rates)
    3: (12.80, 0.091, "[S] rates, DOMAIN.md (class 3: ore)"),
    4: (16.30, 0.098, "[S] rates, DOMAIN.md (class 4: coal)"),
    5: (18.60, 0.103, "[S] rates, DOMAIN.md (class 5: coke)"),
    6: (
        26.00,
        0.138,
        "[M] general knowledge of the national tariff table, unverified; in line with the "
        "rise from class 3 to 5 (class 6: petroleum in tank cars, metals, steel)",
    ),
}
RAIL_TARIFF_STRUCTURE = "[M] tariff = base1 + base2 × km (China Railway freight tariff)"

RAIL_CONSTRUCTION_FUND_CNY_PER_TKM = 0.033
RAIL_CONSTRUCTION_FUND_SOURCE = (
    "[S] railway construction fund 3.3 fen/t·km (DOMAIN.md; NDRC 2011: 'average 10.31 fen, "
    "of which 7.01 operating and 3.3 construction fund'). Re-checked against 发改价格〔2015〕"
    "183号 as reported (Xinhua 2015-01-30 [S]): it quotes only the new AVERAGE, 15.51 fen/t·km, "
    "which by NDRC's own convention includes the fund. The class rates (base1 + base2 × km) "
    "are operating rates: class 4 coal over a 700 km haul gives 12.1 fen/t·km alone and 15.4 "
    "with the fund on top, the latter matching the 15.51 average [D]; so the fund is added "
    "once, not counted twice"
)

#: Tariff class used for the mode-level rail default (commodities without a class).
RAIL_DEFAULT_TARIFF_CLASS = 4


def rail_tariff(tariff_class: int) -> tuple[Param, Param]:
    """The rail ``cny_per_t`` and ``cny_per_tkm`` (fund included) of a tariff class.

    Raises ``KeyError`` for a class with no default rate.
    """
    base1, base2, source = RAIL_TARIFF_CLASSES[tariff_class]
    fund = RAIL_CONSTRUCTION_FUND_CNY_PER_TKM
    per_t = Param(
        base1, "CNY/t", f"class {tariff_class} base1 {base1}: {source}; {RAIL_TARIFF_STRUCTURE}"
    )
    per_tkm = Param(
        round(base2 + fund, 6),
        "CNY/t·km",
        f"class {tariff_class} base2 {base2}: {source}; + construction fund {fund}: "
        f"{RAIL_CONSTRUCTION_FUND_SOURCE}; {RAIL_TARIFF_STRUCTURE}",
    )
    return per_t, per_tkm


_RAIL_PER_T, _RAIL_PER_TKM = rail_tariff(RAIL_DEFAULT_TARIFF_CLASS)

# --- the table ------------------------------------------------------------------------------
DEFAULTS: dict[str, Param] = {
    # Policy: item 23 of the plan.
    "policy.commodities": Param(
        ("coal", "ore", "coke", "oil"),
        "commodity ids",
        "[S] plan item 23 and 鲁政办发〔2018〕38号: coal, ore, coke, oil",
    ),
    "policy.threshold_km": Param(400.0, "km", "[S] plan item 23: hauls of 400 km or more"),
    "policy.distance": Param(
        "road", "road | great_circle", "[M] the haul a truck drives, shortest road km"
    ),
    "policy.max_access_km": Param(
        50.0,
        "km",
        "[M] estimate: a chain counts as rail/pipeline when its road legs are short-haul "
        "trucking (短驳), which DOMAIN.md puts under 50 km",
    ),
    "policy.enforcement": Param(
        "hard", "hard | soft | off", "[S] plan item 23 reads as an obligation: hard"
    ),
    "policy.penalty_cny_per_t": Param(
        50.0,
        "CNY/t",
        "[M] estimate, used only when enforcement = soft: about a quarter of the road cost "
        "of a 400 km haul (400 km × 0.49 CNY/t·km ≈ 196 CNY/t), a stand-in for the fines "
        "and restrictions a non-compliant shipper faces",
    ),
    # Road.
    "costs.road.cny_per_tkm": Param(
        0.49,
        "CNY/t·km",
        "[S] MDPI Systems (2026): 0.49; DOMAIN.md gives 0.30–0.49 [M] before tolls. We take "
        "the only sourced figure; bulk trucks on expressways pay tolls, which the lower end "
        "leaves out. Set 0.30 for a low-road-cost sensitivity run",
    ),
    "costs.road.cny_per_t": Param(
        0.0,
        "CNY/t",
        "[M] 0: the fixed part of a truck trip is costs.road.cny_per_trip; lifts at "
        "terminals are charged as handling",
    ),
    "costs.road.cny_per_trip": Param(
        350.0,
        "CNY/truck trip",
        "[D from M] a truck's fixed cost per trip (waiting to load and unload, positioning, "
        "the driver's day): DOMAIN.md puts a 短驳 under 50 km at 10–30 CNY/t [M]; at 20 km and "
        "0.42 CNY/t·km the distance part is 8.4 CNY/t, leaving ~11.6 CNY/t of the range's "
        "midpoint, × 33 t ≈ 380 CNY a trip, rounded down; charged once per road leg, "
        "÷ costs.truck_payload_t",
    ),
    "costs.road.speed_kmh": Param(
        50.0,
        "km/h",
        "[M] estimate: a loaded 49 t tractor-trailer's average over a long haul with "
        "rest stops (expressway limit 100 km/h, trucks ~70–80 km/h moving); used only "
        "for the time cost (costs.time)",
    ),
    "costs.road.co2_g_per_tkm": Param(
        60.0,
        "g/t·km",
        "[D] tractor-trailer with empty return (DOMAIN.md); fleet average up to ~165, a 2021 "
        "study uses 41.25 [S]",
    ),
    # Rail: mode-level fallback for commodities without a tariff class.
    "costs.rail.cny_per_tkm": Param(
        _RAIL_PER_TKM.value,
        "CNY/t·km",
        f"{_RAIL_PER_TKM.source}; class {RAIL_DEFAULT_TARIFF_CLASS} used for commodities "
        "without a tariff class [M]",
    ),
    "costs.rail.cny_per_t": Param(
        _RAIL_PER_T.value,
        "CNY/t",
        f"{_RAIL_PER_T.source}; class {RAIL_DEFAULT_TARIFF_CLASS} used for commodities "
        "without a tariff class [M]",
    ),
    "costs.rail.co2_g_per_tkm": Param(
        10.0, "g/t·km", "[D/S] middle of 7–13 g/t·km (DOMAIN.md); a 2021 study uses 6.11 [S]"
    ),
    "costs.rail.misc_cny_per_t": Param(
        5.0,
        "CNY/t",
        "[M] estimate: rail miscellaneous charges per tonne and rail leg beside the tariff "
        "(取送车费 shunting to and from the loading track, 延期占用费 wagon demurrage, "
        "stamp duty; DOMAIN.md names them without figures): a few CNY/t; 5 taken",
    ),
    "costs.rail.reliability_cny_per_t": Param(
        0.0,
        "CNY/t",
        "[M] what shippers pay for rail's wagon-supply risk (monthly wagon plans 请车, "
        "passenger priority, 5,000 t lots, extra payments to secure wagons: World Bank China "
        "Transport Topics No. 12 (2015) [S] describes it; no figure found): 0 before "
        "calibration, which may set it within the scenario's bounds",
    ),
    "costs.rail.speed_kmh": Param(
        30.0,
        "km/h",
        "[M] estimate: commercial speed of a Chinese bulk freight train including stops "
        "and marshalling (running speed 60–80 km/h); used only for the time cost",
    ),
    # Pipeline.
    "costs.pipeline.cny_per_tkm": Param(
        0.15, "CNY/t·km", "[M] midpoint of 0.10–0.20 CNY/t·km for crude (DOMAIN.md)"
    ),
    "costs.pipeline.cny_per_t": Param(
        0.0, "CNY/t", "[M] 0: entry and exit are charged as terminal handling"
    ),
    "costs.pipeline.co2_g_per_tkm": Param(
        5.0,
        "g/t·km",
        "[M] estimate: below rail (pumping needs less energy per t·km than a train; "
        "European freight guidelines commonly use ~5 g/t·km for oil pipelines), not lower, "
        "since Chinese pumps draw on a coal-heavy grid and waxy crude is heated",
    ),
    "costs.pipeline.speed_kmh": Param(
        5.0,
        "km/h",
        "[M] estimate: crude moves at ~1–2 m/s (3.6–7.2 km/h) in a trunk line; used only "
        "for the time cost",
    ),
    # Handling per lift, by the kind of place where the lift happens (a place's own
    # handling_cny_per_t wins; kinds not listed take costs.handling_cny_per_t).
    "costs.handling.station": Param(
        20.0,
        "CNY/t per lift",
        "[D from M] a public freight yard (货场) handles twice: unload the wagon, stock, "
        "load the truck (or the reverse): 2 × the 10 CNY/t midpoint of DOMAIN.md's "
        "5–15 CNY/t per lift [M]",
    ),
    "costs.handling.siding": Param(
        5.0,
        "CNY/t per lift",
        "[M] an enterprise's own siding (专用线) unloads straight into its yard with its own "
        "equipment, one lift and no yard fee: the low end of DOMAIN.md's 5–15 CNY/t",
    ),
    "costs.handling.port": Param(
        20.0, "CNY/t per lift", "[S] waterway/port handling ~20 CNY/t (DOMAIN.md)"
    ),
    "costs.handling.mine": Param(
        10.0,
        "CNY/t per lift",
        "[M] loading at a mine's loading station (集运站, 装车站): midpoint of DOMAIN.md's "
        "5–15 CNY/t per lift",
    ),
    "costs.handling.pipeline_terminal": Param(
        10.0, "CNY/t per lift", "[M] midpoint of DOMAIN.md's 5–15 CNY/t per lift"
    ),
    # Time (off by default: a bulk tonne's inventory cost is tiny).
    "costs.time.cny_per_t_hour": Param(
        0.0,
        "CNY/(t·h)",
        "[D] 0: the inventory cost of bulk goods is negligible (coal at ~600 CNY/t × 4.35 % "
        "a year, the 2019 one-year benchmark lending rate [M], ÷ 8,760 h ≈ 0.003 CNY/t·h, "
        "0.3 CNY/t over a 100-hour trip); set it (or [costs.time.<commodity>]) for goods "
        "whose time matters",
    ),
    "costs.time.dwell_h": Param(
        24.0,
        "h per lift",
        "[M] estimate: a day in a yard per lift (waiting for the wagon or the truck); used "
        "only for the time cost",
    ),
    # Costs in general.
    "costs.carbon_price_cny_per_t": Param(
        0.0,
        "CNY/t CO2",
        "[M] 0: costs are money paid; China's national ETS traded at roughly 40–100 CNY/t "
        "in 2021–2024 [M] — set it for a carbon-priced run",
    ),
    "costs.truck_payload_t": Param(
        33.0, "t", "[M] 32–35 t payload under 49 t GVW (GB 1589-2016), midpoint"
    ),
    "costs.handling_cny_per_t": Param(
        10.0,
        "CNY/t per lift",
        "[M] midpoint of 5–15 CNY/t per lift (DOMAIN.md); used for terminals whose "
        "handling_cny_per_t is blank",
    ),
    "costs.discount_rate": Param(
        0.08,
        "1/year",
        "[M] 8 %: the social discount rate of 建设项目经济评价方法与参数 (第三版, 2006), from "
        "general knowledge, unverified here; annualises the capital cost of [investments]",
    ),
    # Calibration (freight calibrate).
    "calibration.tolerance_cny_per_t": Param(
        2.0,
        "CNY/t",
        "[M] a flow counts as reproduced when its baseline chain is within this of the "
        "cheapest alternative: below the spread of the cost figures themselves",
    ),
    "calibration.margin_cny_per_t": Param(
        0.0,
        "CNY/t",
        "[M] 0: calibration asks each baseline chain to be no dearer than every "
        "alternative; a positive margin asks it to be cheaper by that much",
    ),
    "calibration.warning_share": Param(
        0.02,
        "share of baseline cost",
        "[M] a run warns 'calibrate' when the least cost without the rule is below today's "
        "cost by more than this share: shippers do not leave 2 % of their transport bill "
        "on the table year after year",
    ),
    # Network joins.
    "network.snap_m": Param(30.0, "m", "[M] line ends closer than this are joined"),
    "network.link_tolerance_km.road": Param(
        10.0, "km", "[M] a place further than this from any road is a data error"
    ),
    "network.link_tolerance_km.rail": Param(
        5.0, "km", "[M] a place claiming rail further than this from a line is a data error"
    ),
    "network.link_tolerance_km.pipeline": Param(
        5.0, "km", "[M] a place claiming pipeline further than this from a line is an error"
    ),
    # Solver.
    "solver.name": Param("highs", "highs | cbc", "[M] HiGHS: fast LP with duals"),
}

MODE_FIELDS: tuple[str, ...] = ("cny_per_tkm", "cny_per_t", "co2_g_per_tkm")
#: Factors a mode may have beside MODE_FIELDS ([costs.<mode>] and, except speed, per
#: commodity): all add to what a tonne pays once per leg of the mode, but speed.
MODE_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "road": ("cny_per_trip", "speed_kmh"),
    "rail": ("misc_cny_per_t", "reliability_cny_per_t", "speed_kmh"),
    "pipeline": ("speed_kmh",),
}
#: Place kinds with a default handling charge (costs.handling.<kind>).
HANDLING_KINDS: tuple[str, ...] = ("station", "siding", "port", "mine", "pipeline_terminal")
ENFORCEMENTS: tuple[str, ...] = ("hard", "soft", "off")
DISTANCES: tuple[str, ...] = ("road", "great_circle")
SOLVERS: tuple[str, ...] = ("highs", "cbc")


def default_value(key: str) -> Value:
    """The default value of a dotted key (``KeyError`` when there is none)."""
    return DEFAULTS[key].value


def default_float(key: str) -> float:
    """The default of a numeric key, as a float."""
    value = DEFAULTS[key].value
    if not isinstance(value, float):
        raise TypeError(f"default {key!r} is not a number")
    return value


def default_mode_cost(mode: str) -> ModeCost:
    """The default factors of a mode, for any commodity."""
    return ModeCost(
        cny_per_tkm=default_float(f"costs.{mode}.cny_per_tkm"),
        cny_per_t=default_float(f"costs.{mode}.cny_per_t"),
        co2_g_per_tkm=default_float(f"costs.{mode}.co2_g_per_tkm"),
    )


def default_policy() -> Policy:
    """The 400 km rule as the plan states it."""
    commodities = DEFAULTS["policy.commodities"].value
    assert isinstance(commodities, tuple)
    return Policy(
        commodities=frozenset(commodities),
        threshold_km=default_float("policy.threshold_km"),
        distance=cast(Any, default_value("policy.distance")),
        max_access_km=default_float("policy.max_access_km"),
        enforcement=cast(Any, default_value("policy.enforcement")),
        penalty_cny_per_t=default_float("policy.penalty_cny_per_t"),
    )


def default_costs() -> Costs:
    """Mode-level default costs (per-commodity rail tariffs come from the commodity table)."""
    return Costs(
        by_mode={m: default_mode_cost(m) for m in ("road", "rail", "pipeline")},
        carbon_price_cny_per_t=default_float("costs.carbon_price_cny_per_t"),
    )
