"""What the optimiser is given (a :class:`Problem`) and what it returns (a :class:`Solution`).

These frozen dataclasses are the contract between the scenario loader (``scenario.py``),
the solver core (``chains.py``, ``model.py``, ``explain.py``) and the writers
(``outputs.py``). No I/O and no solver code lives here.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Literal

from networks import Network

MODES: tuple[str, ...] = ("road", "rail", "pipeline")
Mode = Literal["road", "rail", "pipeline"]


@dataclass(frozen=True)
class ModeCost:
    """Cost and emission factors of one mode (optionally for one commodity).

    ``cny_per_tkm`` is charged per tonne-km of a leg, ``cny_per_t`` once per entry into the
    mode (e.g. the fixed part of the rail tariff), ``co2_g_per_tkm`` per tonne-km.
    """

    cny_per_tkm: float
    cny_per_t: float
    co2_g_per_tkm: float
    speed_kmh: float = math.inf


@dataclass(frozen=True)
class Costs:
    """Cost parameters: by mode, overridden by (mode, commodity) where they differ.

    ``cny_per_t`` of a mode is everything a tonne pays once per leg of it (the scenario
    loader sums its parts: a truck trip's fixed cost ÷ payload; the rail tariff's base1,
    miscellaneous charges and the wagon-supply premium). Time costs ``time_cny_per_t_hour``
    of the commodity (``time_default_cny_per_t_hour`` when not listed) per hour: the hours
    of a leg are its km ÷ ``speed_kmh``, and every lift adds ``dwell_h_per_lift``.
    """

    by_mode: dict[str, ModeCost]
    by_mode_commodity: dict[tuple[str, str], ModeCost] = field(default_factory=dict)
    carbon_price_cny_per_t: float = 0.0
    time_cny_per_t_hour: dict[str, float] = field(default_factory=dict)
    time_default_cny_per_t_hour: float = 0.0
    dwell_h_per_lift: float = 0.0

    def of(self, mode: str, commodity: str) -> ModeCost:
        """The factors for ``mode`` carrying ``commodity``."""
        return self.by_mode_commodity.get((mode, commodity), self.by_mode[mode])

    def time_value(self, commodity: str) -> float:
        """CNY per tonne-hour of ``commodity``."""
        return self.time_cny_per_t_hour.get(commodity, self.time_default_cny_per_t_hour)

    def generalised_cny_per_tkm(self, mode: str, commodity: str) -> float:
        """Money plus carbon price plus time per tonne-km."""
        c = self.of(mode, commodity)
        out = c.cny_per_tkm + self.carbon_price_cny_per_t * c.co2_g_per_tkm / 1e6
        vot = self.time_value(commodity)
        if vot and c.speed_kmh > 0 and math.isfinite(c.speed_kmh):
            out += vot / c.speed_kmh
        return out

    def lift_cny_per_t(self, commodity: str) -> float:
        """The time cost of one lift's dwell, per tonne of ``commodity``."""
        return self.time_value(commodity) * self.dwell_h_per_lift


@dataclass(frozen=True)
class Policy:
    """The 400 km rule of item 23, every part configurable.

    ``enforcement``: ``"hard"`` (eligible tonnes must use a compliant chain), ``"soft"``
    (tonnes that do not pay ``penalty_cny_per_t``), ``"off"`` (no rule).
    ``distance``: how the haul is measured, ``"road"`` (shortest road km) or
    ``"great_circle"``.
    """

    commodities: frozenset[str]
    threshold_km: float = 400.0
    distance: Literal["road", "great_circle"] = "road"
    max_access_km: float = 50.0
    enforcement: Literal["hard", "soft", "off"] = "hard"
    penalty_cny_per_t: float = 0.0

    def off(self) -> Policy:
        """The same policy switched off (for the policy-cost comparison run)."""
        return Policy(
            commodities=self.commodities,
            threshold_km=self.threshold_km,
            distance=self.distance,
            max_access_km=self.max_access_km,
            enforcement="off",
            penalty_cny_per_t=self.penalty_cny_per_t,
        )


@dataclass(frozen=True)
class Flow:
    """A yearly tonnage of one commodity between two places, with its current mode."""

    id: str
    commodity: str
    origin: str
    destination: str
    tonnes: float
    baseline_mode: str = "road"
    shipper: str = ""
    note: str = ""


@dataclass(frozen=True)
class Problem:
    """Everything one optimisation needs, already validated."""

    network: Network
    flows: tuple[Flow, ...]
    costs: Costs
    policy: Policy
    solver: Literal["highs", "cbc"] = "highs"
    truck_payload_t: float = 33.0
    name: str = ""


class Status(enum.Enum):
    """Outcome of a solve. Only ``OPTIMAL`` carries a result: every other status has no
    assignments and is never written (``freight.run`` raises instead)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"  # the rule (or the capacities) cannot hold: message says why
    ITERATION_LIMIT = "iteration_limit"  # max_iterations reached before the optimum was proved
    TIME_LIMIT = "time_limit"  # time_limit reached before the optimum was proved
    ERROR = "error"  # the LP solver failed


@dataclass(frozen=True)
class Leg:
    """One leg of a chain: a path in one mode's graph.

    ``nodes`` are node ids of ``network.graphs[mode]``; ``km`` includes the link offsets of
    the places at either end when the leg starts or ends at a place.
    """

    mode: str
    nodes: tuple[int, ...]
    km: float


@dataclass(frozen=True)
class Chain:
    """A route through the multimodal network: legs joined at terminals.

    ``lifts`` are the place ids of the terminals where goods are lifted (a mode change, or
    loading/unloading a non-road leg at a shipper's own siding), in order.
    ``compliant`` is True when the chain satisfies the rule's definition of a rail or
    pipeline chain (road legs at each end no longer than ``max_access_km``).
    """

    legs: tuple[Leg, ...]
    lifts: tuple[str, ...]
    cost_cny_per_t: float
    co2_g_per_t: float
    compliant: bool

    def km_by_mode(self) -> dict[str, float]:
        out = {m: 0.0 for m in MODES}
        for leg in self.legs:
            out[leg.mode] += leg.km
        return out

    def line_haul_mode(self) -> str:
        """The mode of the longest leg (what the bureau calls the line haul)."""
        return max(self.legs, key=lambda leg: leg.km).mode if self.legs else "road"


@dataclass(frozen=True)
class Assignment:
    """Tonnes of one flow carried on one chain."""

    flow_id: str
    chain: Chain
    tonnes: float


@dataclass(frozen=True)
class Binding:
    """A capacity constraint that binds, with its shadow price.

    ``name`` is the LP constraint's name (``cap_rail_<u>_<v>``, ``terminal_<id>``, ...);
    ``kind`` is ``"edge"`` or ``"terminal"``; ``ref`` is ``(mode, u, v)`` for a directed edge
    or ``(place_id,)`` for a terminal; ``shadow_cny_per_t`` is the yearly cost saved by one
    more tonne of capacity (>= 0).
    """

    name: str
    kind: str
    ref: tuple
    label: str
    capacity_t: float
    used_t: float
    shadow_cny_per_t: float


@dataclass(frozen=True)
class FlowStatus:
    """What the rule says about one flow, and why any of its tonnes stay on the road.

    ``reason_code`` is one of ``""``, ``below_threshold``, ``commodity_not_covered``,
    ``no_access``, ``capacity``, ``cheaper_not_eligible``; ``reason`` is the sentence.
    """

    flow_id: str
    haul_km: float
    eligible: bool
    covered: bool
    has_access: bool
    reason: str = ""
    reason_code: str = ""


@dataclass(frozen=True)
class Solution:
    """The optimiser's answer for a Problem."""

    status: Status
    objective_cny: float
    assignments: tuple[Assignment, ...]
    bindings: tuple[Binding, ...]
    flow_status: dict[str, FlowStatus]
    message: str = ""
    iterations: int = 0
    stats: dict[str, float] = field(default_factory=dict)
    # (flow id, chain) of every column of the final master, used or not: a warm start
    chains: tuple[tuple[str, Chain], ...] = ()
    # names of the capacity rows in the final master (lazy rows): a warm start's first rows
    rows: tuple[str, ...] = ()
    # the final master's basis by name (freight.model.Master.basis): a warm start's basis
    basis: dict[str, dict] | None = field(default=None, repr=False, compare=False)

    def tonnes_of(self, flow_id: str) -> float:
        return sum(a.tonnes for a in self.assignments if a.flow_id == flow_id)


INF = math.inf
