"""The scenario file: TOML into frozen dataclasses, then the flows into a :class:`Problem`.

``load_scenario`` reads one TOML file (and the files it ``extends``), rejects unknown keys,
checks types and ranges, resolves paths relative to the file that states them, reads the
commodity table (for the per-commodity rail tariffs) and fills every unstated parameter
from :mod:`freight.defaults`, remembering where each effective value came from.

``build_problem`` reads the flows and checks them against the loaded network;
``validate`` runs every cheap check (no graphs built) for ``freight validate``.

Every function gathers all problems it finds and raises them together as
:class:`~networks.InputErrors` (``validate`` returns them instead).

Precedence of cost factors, most specific first: ``[costs.<mode>.<commodity>]`` in the
scenario, ``[costs.<mode>]`` in the scenario, the commodity's rail tariff class (rail
only), the mode's default.

(Over 500 lines on purpose: every section of the scenario file -- its dataclass, its
checks and their messages -- reads in one place; the TOML reading is :mod:`freight._toml`.)
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from freight._toml import Values, _file_problem, apply_overrides, read_toml
from freight.defaults import (
    DEFAULTS,
    DISTANCES,
    ENFORCEMENTS,
    HANDLING_KINDS,
    MODE_EXTRA_FIELDS,
    MODE_FIELDS,
    RAIL_TARIFF_CLASSES,
    SOLVERS,
    Param,
    rail_tariff,
)
from freight.problem import MODES, Costs, Flow, ModeCost, Policy, Problem
from freight.tables import (
    Commodity,
    commodity_id,
    read_commodities,
    read_flow_rows,
    read_place_ids,
    unknown_commodity,
)
from networks import InputError, InputErrors, Network, NetworkConfig
from networks.csvtable import table_unreadable


@dataclass(frozen=True)
class Scenario:
    """A loaded, checked scenario: files to read and every parameter in effect.

    Paths are absolute. ``parameters`` maps each dotted TOML key to the value in effect,
    its unit and its source (the default's source, or the scenario file that set it);
    ``commodity_table`` is the commodity table by id.
    """

    name: str
    title: str
    description: str
    path: str
    network: NetworkConfig
    counties: str | None
    flows_file: str
    commodities_file: str
    policy: Policy
    costs: Costs
    truck_payload_t: float
    solver: Literal["highs", "cbc"]
    handling_cny_per_t: float
    handling_by_kind: dict[str, float] = field(default_factory=dict)
    investments: tuple[Investment, ...] = ()
    calibration: CalibrationSettings | None = None
    parameters: dict[str, Param] = field(default_factory=dict)
    commodity_table: dict[str, Commodity] = field(default_factory=dict)

    def handling_of(self, kind: str) -> float:
        """Handling per lift at a place of ``kind`` whose table leaves it blank."""
        return self.handling_by_kind.get(kind, self.handling_cny_per_t)


@dataclass(frozen=True)
class Investment:
    """New infrastructure a scenario assumes, with its capital cost (``[investments.<id>]``).

    ``annualised_cny`` is the capital recovery: ``capex × r / (1 − (1 + r)^−life)`` at the
    scenario's ``costs.discount_rate`` r (``capex / life`` when r = 0).
    """

    id: str
    name: str
    capex_cny: float
    life_years: float
    discount_rate: float
    source: str

    @property
    def annualised_cny(self) -> float:
        r, n = self.discount_rate, self.life_years
        if r == 0:
            return self.capex_cny / n
        return self.capex_cny * r / (1.0 - (1.0 + r) ** -n)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "capex_cny": self.capex_cny,
            "life_years": self.life_years,
            "discount_rate": self.discount_rate,
            "annualised_cny": self.annualised_cny,
            "source": self.source,
        }


@dataclass(frozen=True)
class CalibratedParameter:
    """One cost parameter ``freight calibrate`` may change, within sourced bounds.

    ``distribution`` is how ``freight sweep --sample`` draws it within the bounds:
    ``"uniform"``, or ``"triangular"`` with the scenario's value as its mode.
    """

    key: str
    lower: float
    upper: float
    weight: float
    source: str
    distribution: Literal["uniform", "triangular"] = "uniform"


@dataclass(frozen=True)
class CalibrationSettings:
    """``[calibration]``: which parameters move, within which bounds, and the fit's terms."""

    parameters: tuple[CalibratedParameter, ...]
    tolerance_cny_per_t: float
    margin_cny_per_t: float
    warning_share: float


# --- load -----------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """What a (possibly faulty) scenario file yielded, for ``validate``."""

    scenario: Scenario | None = None
    flows_file: str | None = None
    places: tuple[str, ...] = ()
    commodities: dict[str, Commodity] | None = None


def _parse(
    path: str | Path,
    errors: list[InputError],
    overrides: Mapping[str, Any] | None = None,
) -> _Parsed:
    top = Path(os.path.normpath(Path(path).absolute()))
    n_before = len(errors)
    data, origins = read_toml(top, (), errors)
    if len(errors) > n_before and not data:
        return _Parsed()
    if overrides:
        data = apply_overrides(data, origins, overrides, str(top), errors)
    v = Values(data, origins, str(top), errors)
    parsed = _Parsed()

    # Identity.
    name = v.text("name", top.stem)
    if not name or name in (".", "..") or any(c in name for c in '/\\:*?"<>|'):
        v.error("name", f'expected a folder-safe name (no / \\ : * ? " < > |), got {name!r}')
    title = v.text("title", name)
    description = v.text("description", "")

    # Files.
    road = v.path("network.road", required=True)
    rail = v.path("network.rail", required=True)
    pipeline = v.path("network.pipeline", required=False)
    rail_lines = v.path("network.rail_lines", required=False)
    rail_line_stations = v.path("network.rail_line_stations", required=False)
    counties = v.path("network.counties", required=False)
    places = v.paths("network.places", required=True)
    extra_lines = v.paths("network.extra_lines", required=False)
    flows_file = v.path("flows.file", required=True)
    commodities_file = v.path("commodities.file", required=True)
    # only what can be read is read (a pipe or a device never ends: reported above)
    readable = lambda f, key: bool(f) and _file_problem(f, key) is None  # noqa: E731
    parsed.flows_file = flows_file if readable(flows_file, "flows.file") else None
    # with a places file missing, its ids are unknown: flows are not checked against them
    parsed.places = (places if all(readable(p, "network.places") for p in places) else ())

    # Network tolerances.
    snap_m = v.number("network.snap_m")
    tolerance: dict[str, float] = {}
    for mode in MODES:
        tolerance[mode] = v.number(f"network.link_tolerance_km.{mode}", strict=True)
    if v.has("network.link_tolerance_km") and not isinstance(
        v.raw("network.link_tolerance_km"), dict
    ):
        v.error("network.link_tolerance_km", "expected a table such as { road = 10.0 }")

    # Commodities (needed for rail tariffs and to check names).
    commodities: dict[str, Commodity] = {}
    if commodities_file and readable(commodities_file, "commodities.file"):
        n0 = len(errors)
        commodities = read_commodities(commodities_file, errors=errors)
        if not table_unreadable(errors[n0:]):
            parsed.commodities = commodities

    policy = _parse_policy(v, commodities if parsed.commodities is not None else None)
    cost_settings = _parse_costs(v, commodities, commodities_file or "")
    investments = _parse_investments(v, cost_settings.discount_rate)
    calibration = _parse_calibration(v)

    solver = v.choice("solver.name", SOLVERS)

    for section in ("network", "flows", "commodities", "policy", "costs", "solver"):
        if v.has(section) and not isinstance(v.raw(section), dict):
            v.error(section, f"expected a table [{section}], got {v.raw(section)!r}")

    if len(errors) > n_before:
        return parsed
    assert road and rail and flows_file and commodities_file
    network = NetworkConfig(
        road=road,
        rail=rail,
        places=tuple(places),
        pipeline=pipeline,
        rail_lines=rail_lines,
        rail_line_stations=rail_line_stations,
        snap_m=snap_m,
        link_tolerance_km=tolerance,
        extra_lines=tuple(extra_lines),
    )
    parsed.scenario = Scenario(
        name=name,
        title=title,
        description=description,
        path=str(top),
        network=network,
        counties=counties,
        flows_file=flows_file,
        commodities_file=commodities_file,
        policy=policy,
        costs=cost_settings.costs,
        truck_payload_t=cost_settings.truck_payload_t,
        solver=cast(Literal["highs", "cbc"], solver),
        handling_cny_per_t=cost_settings.handling_cny_per_t,
        handling_by_kind=cost_settings.handling_by_kind,
        investments=investments,
        calibration=calibration,
        parameters=dict(sorted(v.parameters.items())),
        commodity_table=commodities,
    )
    return parsed


def _parse_policy(v: Values, commodities: dict[str, Commodity] | None) -> Policy:
    key = "policy.commodities"
    covered: tuple[str, ...] = cast(tuple[str, ...], DEFAULTS[key].value)
    if v.has(key):
        raw = v.raw(key)
        if isinstance(raw, list) and all(isinstance(c, str) and c for c in raw):
            covered = tuple(raw)
        else:
            v.error(key, f"expected a list of commodity ids, got {raw!r}")
    if commodities is not None:
        ids = [commodity_id(c, commodities) for c in covered]
        for c, cid in zip(covered, ids, strict=True):
            if cid is None:
                v.error(key, unknown_commodity(c, commodities))
        covered = tuple(dict.fromkeys(cid or c for c, cid in zip(covered, ids, strict=True)))
    v.record(key, covered)
    return Policy(
        commodities=frozenset(covered),
        threshold_km=v.number("policy.threshold_km"),
        distance=cast(Literal["road", "great_circle"], v.choice("policy.distance", DISTANCES)),
        max_access_km=v.number("policy.max_access_km"),
        enforcement=cast(
            Literal["hard", "soft", "off"], v.choice("policy.enforcement", ENFORCEMENTS)
        ),
        penalty_cny_per_t=v.number("policy.penalty_cny_per_t"),
    )


@dataclass(frozen=True)
class CostSettings:
    """What ``[costs]`` yields beside :class:`Costs`: payload, handling and discounting."""

    costs: Costs
    truck_payload_t: float
    handling_cny_per_t: float
    handling_by_kind: dict[str, float]
    discount_rate: float


def _entry_parts(mode: str) -> tuple[str, ...]:
    """The per-leg charges of a mode beside ``cny_per_t`` (summed into it)."""
    return tuple(f for f in MODE_EXTRA_FIELDS.get(mode, ()) if f != "speed_kmh")


def _entry(mode: str, base: float, parts: dict[str, float], payload: float) -> float:
    """What a tonne pays once per leg of ``mode``: ``cny_per_t`` plus its parts."""
    out = base
    for name, value in parts.items():
        out += value / payload if name == "cny_per_trip" else value
    return out


def _parse_costs(  # noqa: C901,PLR0912,PLR0915 -- one branch per cost key of the scenario, each with its own message
    v: Values, commodities: dict[str, Commodity], commodities_file: str
) -> CostSettings:
    carbon = v.number("costs.carbon_price_cny_per_t")
    payload = v.number("costs.truck_payload_t", strict=True)
    handling = v.number("costs.handling_cny_per_t")
    discount = v.number("costs.discount_rate")
    by_kind: dict[str, float] = {}
    kinds = set(HANDLING_KINDS)
    raw_kinds = v.raw("costs.handling")
    if isinstance(raw_kinds, dict):
        kinds |= set(raw_kinds)
    elif v.has("costs.handling"):
        v.error("costs.handling", "expected a table such as { station = 20.0 }")
    for kind in sorted(kinds):
        key = f"costs.handling.{kind}"
        if key in DEFAULTS or v.has(key):
            by_kind[kind] = v.number(key)

    by_mode: dict[str, ModeCost] = {}
    mode_parts: dict[str, dict[str, float]] = {}
    for mode in MODES:
        if v.has(f"costs.{mode}") and not isinstance(v.raw(f"costs.{mode}"), dict):
            v.error(f"costs.{mode}", "expected a table of cost factors")
            continue
        base = {name: v.number(f"costs.{mode}.{name}") for name in MODE_FIELDS}
        parts = {name: v.number(f"costs.{mode}.{name}") for name in _entry_parts(mode)}
        mode_parts[mode] = parts
        speed = v.number(f"costs.{mode}.speed_kmh", strict=True)
        by_mode[mode] = ModeCost(
            cny_per_tkm=base["cny_per_tkm"],
            cny_per_t=_entry(mode, base["cny_per_t"], parts, payload),
            co2_g_per_tkm=base["co2_g_per_tkm"],
            speed_kmh=speed,
        )

    # Commodities with their own factors: rail tariff classes and scenario overrides.
    overrides: dict[str, set[str]] = {}
    for mode in MODES:
        table = v.raw(f"costs.{mode}")
        if not isinstance(table, dict):
            continue
        for cid, sub in table.items():
            if isinstance(sub, dict):
                overrides.setdefault(mode, set()).add(cid)
                if commodities and cid not in commodities:
                    v.error(
                        f"costs.{mode}.{cid}",
                        f"unknown commodity {cid!r}; known: {', '.join(commodities)}",
                    )

    by_mode_commodity: dict[tuple[str, str], ModeCost] = {}
    for mode in MODES:
        if mode not in by_mode:
            continue
        for cid, commodity in commodities.items():
            tariff = commodity.rail_tariff_class if mode == "rail" else None
            if tariff is None and cid not in overrides.get(mode, set()):
                continue
            factors: dict[str, float] = {}
            for f in MODE_FIELDS:
                ckey, mkey = f"costs.{mode}.{cid}.{f}", f"costs.{mode}.{f}"
                if v.has(ckey):
                    factors[f] = v.number(ckey, record=False)
                    v.record(ckey, factors[f], default_key=mkey)
                elif v.has(mkey) or tariff is None or f == "co2_g_per_tkm":
                    factors[f] = getattr(by_mode[mode], f)
                    if f == "cny_per_t":  # the mode's base, without its parts
                        factors[f] = v.number(mkey, record=False)
                    v.record(ckey, factors[f], default_key=mkey)
                    if v.has(mkey):
                        v.parameters[ckey] = dataclasses.replace(
                            v.parameters[ckey], source=v.source_of(mkey)
                        )
                elif tariff in RAIL_TARIFF_CLASSES:
                    per_t, per_tkm = rail_tariff(tariff)
                    param = per_t if f == "cny_per_t" else per_tkm
                    factors[f] = float(cast(float, param.value))
                    v.parameters[ckey] = param
                else:
                    v.errors.append(
                        InputError(
                            commodities_file,
                            f"commodity {cid}",
                            "rail_tariff_class",
                            f"no default rail tariff for class {tariff} (known: "
                            f"{', '.join(map(str, RAIL_TARIFF_CLASSES))}); set "
                            f"[costs.rail.{cid}] cny_per_t and cny_per_tkm in the scenario",
                        )
                    )
                    break
            else:
                parts = dict(mode_parts[mode])
                for name in parts:
                    ckey = f"costs.{mode}.{cid}.{name}"
                    if v.has(ckey):
                        parts[name] = v.number(ckey)
                by_mode_commodity[(mode, cid)] = ModeCost(
                    cny_per_tkm=factors["cny_per_tkm"],
                    cny_per_t=_entry(mode, factors["cny_per_t"], parts, payload),
                    co2_g_per_tkm=factors["co2_g_per_tkm"],
                    speed_kmh=by_mode[mode].speed_kmh,
                )

    time_default = v.number("costs.time.cny_per_t_hour")
    dwell = v.number("costs.time.dwell_h")
    time_by: dict[str, float] = {}
    raw_time = v.raw("costs.time")
    if isinstance(raw_time, dict):
        for cid, sub in raw_time.items():
            if not isinstance(sub, dict):
                continue
            if commodities and cid not in commodities:
                v.error(
                    f"costs.time.{cid}",
                    f"unknown commodity {cid!r}; known: {', '.join(commodities)}",
                )
                continue
            if "cny_per_t_hour" in sub:
                time_by[cid] = v.number(
                    f"costs.time.{cid}.cny_per_t_hour", record=False
                )
                v.record(
                    f"costs.time.{cid}.cny_per_t_hour",
                    time_by[cid],
                    default_key="costs.time.cny_per_t_hour",
                )
    elif v.has("costs.time"):
        v.error("costs.time", "expected a table such as { cny_per_t_hour = 0.01 }")

    costs = Costs(
        by_mode=by_mode,
        by_mode_commodity=by_mode_commodity,
        carbon_price_cny_per_t=carbon,
        time_cny_per_t_hour=time_by,
        time_default_cny_per_t_hour=time_default,
        dwell_h_per_lift=dwell,
    )
    return CostSettings(costs, payload, handling, by_kind, discount)


def _parse_investments(v: Values, discount_rate: float) -> tuple[Investment, ...]:
    raw = v.raw("investments")
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        v.error("investments", "expected tables [investments.<id>]")
        return ()
    out = []
    for iid, table in raw.items():
        if not isinstance(table, dict):
            continue  # reported by the key check
        where = f"investments.{iid}"
        name = table.get("name", iid)
        source = table.get("source")
        capex = table.get("capex_cny")
        life = table.get("life_years")
        ok = True
        if not isinstance(name, str):
            v.error(f"{where}.name", f"expected text, got {name!r}")
            ok = False
        if not isinstance(source, str) or not source.strip():
            v.error(f"{where}.source", "required: where the capital cost comes from")
            ok = False
        for key, value, strict in (("capex_cny", capex, False), ("life_years", life, True)):
            good = isinstance(value, int | float) and not isinstance(value, bool)
            if not good or not math.isfinite(cast(float, value)) or cast(float, value) < 0 or (
                strict and value == 0
            ):
                v.error(f"{where}.{key}", f"expected a number {'>' if strict else '≥'} 0, "
                        f"got {value!r}")
                ok = False
        if ok:
            out.append(
                Investment(
                    id=iid,
                    name=cast(str, name),
                    capex_cny=float(cast(float, capex)),
                    life_years=float(cast(float, life)),
                    discount_rate=discount_rate,
                    source=cast(str, source),
                )
            )
    return tuple(out)


def _parse_calibration(v: Values) -> CalibrationSettings | None:  # noqa: C901, PLR0912 -- one check per [calibration] field, in the table's order
    tolerance = v.number("calibration.tolerance_cny_per_t")
    margin = v.number("calibration.margin_cny_per_t")
    share = v.number("calibration.warning_share")
    raw = v.raw("calibration.parameters")
    params: list[CalibratedParameter] = []
    if raw is not None and not isinstance(raw, dict):
        v.error("calibration.parameters", 'expected tables [calibration.parameters."<key>"]')
        raw = None
    for key, table in (raw or {}).items():
        if not isinstance(table, dict):
            continue  # reported by the key check
        where = f'[calibration.parameters."{key}"]'
        problems = []
        if key not in v.parameters:
            problems.append(("(key)", f"not a numeric cost parameter of this scenario; "
                            f"calibrate one of: {', '.join(_calibratable(v))}"))
        elif key not in _calibratable(v):
            problems.append(("(key)", "not a cost parameter freight calibrate can move"))
        nums: dict[str, float] = {}
        for sub in ("lower", "upper", "weight"):
            value = table.get(sub, 1.0 if sub == "weight" else None)
            if not isinstance(value, int | float) or isinstance(value, bool) or not (
                math.isfinite(value)
            ):
                problems.append((sub, f"expected a number, got {value!r}"))
            else:
                nums[sub] = float(value)
        source = table.get("source")
        if not isinstance(source, str) or not source.strip():
            problems.append(("source", "required: where the bounds come from"))
        if "lower" in nums and "upper" in nums and nums["lower"] > nums["upper"]:
            problems.append(("lower", f"lower {nums['lower']:g} > upper {nums['upper']:g}"))
        if nums.get("weight", 1.0) <= 0:
            problems.append(("weight", "expected a number > 0"))
        distribution = table.get("distribution", "uniform")
        if distribution not in DISTRIBUTIONS:
            problems.append(("distribution", f"expected one of {', '.join(DISTRIBUTIONS)}, "
                             f"got {distribution!r}"))  # fmt: skip
        elif distribution == "triangular" and not problems:
            mode = v.parameters[key].value
            if not nums["lower"] <= cast(float, mode) <= nums["upper"]:
                problems.append(("distribution", f"triangular needs the scenario's value "
                                 f"{mode:g} (its mode) within [{nums['lower']:g}, "
                                 f"{nums['upper']:g}]"))  # fmt: skip
        for field_name, problem in problems:
            file = v.origins.get(f"calibration.parameters.{key}.{field_name}", v.top_file)
            v.errors.append(InputError(file, where, field_name, problem))
        if not problems:
            params.append(
                CalibratedParameter(
                    key, nums["lower"], nums["upper"], nums.get("weight", 1.0),
                    cast(str, source), cast(Literal["uniform", "triangular"], distribution),
                )  # fmt: skip
            )
    if not params and raw is None:
        return CalibrationSettings((), tolerance, margin, share)
    return CalibrationSettings(tuple(params), tolerance, margin, share)


#: How ``freight sweep --sample`` may draw a ``[calibration.parameters]`` entry.
DISTRIBUTIONS = ("uniform", "triangular")


def _calibratable(v: Values) -> list[str]:
    """Numeric cost parameters: ``costs.*`` keys with a float value."""
    return sorted(
        k for k, p in v.parameters.items()
        if k.startswith("costs.") and isinstance(p.value, float)
        and k not in ("costs.truck_payload_t", "costs.discount_rate")
        and not k.endswith(".speed_kmh")  # costs vary with 1/speed: not linear
    )


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and check a scenario TOML file.

    Parameters
    ----------
    path
        The scenario file. Its ``extends`` (if any) is read first and this file merged over
        it; paths are relative to the file that states them.
    overrides
        Dotted keys set over the file, as a scenario extending it would set them
        (``{"policy.threshold_km": 300.0}``): the sweeps' and calibration's points. Each
        is checked like a key in the file; its source reads "override".

    Returns
    -------
    Scenario

    Raises
    ------
    InputErrors
        Every problem found: unknown keys (with the allowed ones), bad types and ranges,
        missing files, unknown commodities, ``extends`` cycles, bad commodity-table cells.
    """
    errors: list[InputError] = []
    parsed = _parse(path, errors, overrides)
    if errors or parsed.scenario is None:
        raise InputErrors(errors or [InputError(str(path), "file", "(file)", "not loaded")])
    return parsed.scenario


# --- flows against the other tables ---------------------------------------------------------


def _check_flows(
    rows: list[tuple[int, Flow]],
    file: str,
    commodities: dict[str, Commodity] | None,
    place_ids: Iterable[str] | None,
    errors: list[InputError],
) -> list[tuple[int, Flow]]:
    """Flows' commodities and place ids against their tables (None = table not available,
    e.g. unreadable: then nothing is checked against it, so one bad table gives one error,
    not one per flow). Returns the rows with each commodity given by a ``name_zh`` or
    ``name_en`` replaced by its id."""
    places = set(place_ids) if place_ids is not None else None
    out: list[tuple[int, Flow]] = []
    for number, flow in rows:
        where = f"row {number}"
        if commodities is not None:
            cid = commodity_id(flow.commodity, commodities)
            c = commodities.get(cid) if cid is not None else None
            if c is None:
                errors.append(
                    InputError(file, where, "commodity", unknown_commodity(flow.commodity,
                                                                           commodities))
                )
            elif cid != flow.commodity:
                flow = dataclasses.replace(flow, commodity=c.id)
            if c is not None and flow.baseline_mode == "pipeline" and not c.pipeline_ok:
                errors.append(
                    InputError(
                        file,
                        where,
                        "baseline_mode",
                        f"pipeline, but commodity {flow.commodity!r} has pipeline_ok = no",
                    )
                )
        if places is not None:
            for column in ("origin", "destination"):
                pid = getattr(flow, column)
                if pid not in places:
                    near = difflib.get_close_matches(pid, places, n=3)
                    hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
                    errors.append(
                        InputError(
                            file, where, column, f"unknown place id {pid!r} (not in places){hint}"
                        )
                    )
        out.append((number, flow))
    return out


def build_problem(scenario: Scenario, network: Network) -> Problem:
    """Read the scenario's flows, check them against ``network``, and make the Problem.

    Terminals whose ``handling_cny_per_t`` is NaN (blank in the places table) get the
    scenario's handling for their kind (``costs.handling.<kind>``), else
    ``costs.handling_cny_per_t``.

    Raises
    ------
    InputErrors
        Every bad flow row: unknown commodity or place id, tonnes not > 0, bad
        baseline_mode, duplicate ids, pipeline baseline for a commodity not pipeline_ok.
    """
    errors: list[InputError] = []
    commodities = read_commodities(scenario.commodities_file, errors=errors)
    rows = read_flow_rows(scenario.flows_file, errors=errors)
    rows = _check_flows(rows, scenario.flows_file, commodities, network.places, errors)
    if errors:
        raise InputErrors(errors)
    places = {
        pid: (
            dataclasses.replace(p, handling_cny_per_t=scenario.handling_of(p.kind))
            if math.isnan(p.handling_cny_per_t)
            else p
        )
        for pid, p in network.places.items()
    }
    if any(places[k] is not network.places[k] for k in places):
        network = dataclasses.replace(network, places=places)
    return Problem(
        network=network,
        flows=tuple(flow for _, flow in rows),
        costs=scenario.costs,
        policy=scenario.policy,
        solver=scenario.solver,
        truck_payload_t=scenario.truck_payload_t,
        name=scenario.name,
    )


def validate(path: str | Path) -> list[InputError]:
    """Every cheap check of a scenario, without building graphs (the first stage of
    :func:`freight.checks.validate`, which ``freight validate`` runs).

    The scenario file(s), the commodity table, the flows table, and that every flow's
    origin and destination is an ``id`` in the places tables. Returns the problems found
    (empty when the scenario is sound); never raises :class:`InputErrors`.
    """
    errors: list[InputError] = []
    parsed = _parse(path, errors)
    if parsed.flows_file is not None:
        rows = read_flow_rows(parsed.flows_file, errors=errors)
        place_ids: dict[str, int] | None = None
        if parsed.places:
            place_ids = {}
            for places_file in parsed.places:
                n0 = len(errors)
                for pid, number in read_place_ids(places_file, errors=errors).items():
                    place_ids.setdefault(pid, number)
                if table_unreadable(errors[n0:]):
                    place_ids = None  # its ids are unknown: no "unknown place" per flow
                    break
        _check_flows(rows, parsed.flows_file, parsed.commodities, place_ids, errors)
    if parsed.scenario is not None:
        errors.extend(_check_geodata(parsed.scenario))
    # a table read twice (its ids here, its rows by the geodata checks) says its problems once
    return list({e.line(): e for e in errors}.values())


def _check_geodata(scenario: Scenario) -> list[InputError]:
    """Read (not build) every layer and the places tables: geometry types, coordinates in
    degrees, fields, empty layers; a few seconds on the default, no graphs."""
    from networks import InputErrors as _Many
    from networks.io import read_line_layer
    from networks.loading import read_extra_lines
    from networks.places import read_places

    net = scenario.network
    found: list[InputError] = []
    layers = [("road", net.road), ("rail", net.rail), ("pipeline", net.pipeline)]
    for mode, layer_path in layers:  # read as the network builder reads them
        if not layer_path:
            continue
        try:
            read_line_layer(layer_path, layer=mode, mode=mode)
        except _Many as exc:
            found.extend(exc.errors)
        except InputError as exc:
            found.append(exc)
    for extra in net.extra_lines:
        try:
            read_extra_lines(extra)
        except _Many as exc:
            found.extend(exc.errors)
    try:
        read_places(net.places)
    except _Many as exc:
        found.extend(exc.errors)
    except InputError as exc:
        found.append(exc)
    return found


# --- rendering ------------------------------------------------------------------------------


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario's effective settings as JSON-ready data (for summary.json and reports).

    ``parameters`` maps each dotted key to ``{"value", "unit", "source"}``.
    """
    net = scenario.network
    places = net.places if isinstance(net.places, str) else list(net.places)
    return {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "path": scenario.path,
        "files": {
            "road": net.road,
            "rail": net.rail,
            "pipeline": net.pipeline,
            "rail_lines": net.rail_lines,
            "rail_line_stations": net.rail_line_stations,
            "places": places,
            "counties": scenario.counties,
            "extra_lines": list(scenario.network.extra_lines),
            "flows": scenario.flows_file,
            "commodities": scenario.commodities_file,
        },
        "policy": {
            "enforcement": scenario.policy.enforcement,
            "commodities": sorted(scenario.policy.commodities),
            "threshold_km": scenario.policy.threshold_km,
            "distance": scenario.policy.distance,
            "max_access_km": scenario.policy.max_access_km,
            "penalty_cny_per_t": scenario.policy.penalty_cny_per_t,
        },
        "solver": scenario.solver,
        "truck_payload_t": scenario.truck_payload_t,
        "parameters": scenario_parameters(scenario),
    }


def scenario_inputs(scenario: Scenario) -> list[str]:
    """Every file a run of ``scenario`` reads (layers, tables, counties), for the result
    folder's guard: a folder holding one of them is never replaced."""
    net = scenario.network
    files = [net.road, net.rail, net.pipeline, net.rail_lines, net.rail_line_stations,
             *net.places, *net.extra_lines, scenario.counties, scenario.flows_file,
             scenario.commodities_file]  # fmt: skip
    return [str(f) for f in files if f]


def scenario_parameters(scenario: Scenario) -> dict[str, dict[str, object]]:
    """Every parameter in effect, ``{dotted key: {"value", "unit", "source"}}``.

    For ``summary.json`` ``parameters``: each cost factor (by mode, and by mode and
    commodity where one differs), the policy, payload, handling, network tolerances and
    solver, each with the default's source or the scenario file that set it.
    """
    return {key: param.as_dict() for key, param in scenario.parameters.items()}
