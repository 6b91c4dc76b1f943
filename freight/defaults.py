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
RAIL_CONSTRUCTION_FUND_SOURCE = "[S] railway construction fund, 2012 rate (DOMAIN.md)"

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
        "[M] 0: trucking is quoted per t·km with loading included in the rate; lifts at "
        "terminals are charged as handling",
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
