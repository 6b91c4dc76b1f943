"""Plain data the networks stage hands on: places, their links to the graphs, the network."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

MODES: tuple[str, ...] = ("road", "rail", "pipeline")


@dataclass(frozen=True)
class Place:
    """A named point: county seat, shipper, mine, port, station, siding, terminal.

    A place whose ``modes`` include a non-road mode is a *terminal*: goods can be lifted
    there, at ``handling_cny_per_t`` a lift (NaN when the table leaves it blank: the
    scenario's default applies), up to ``capacity_t`` tonnes a year.
    """

    id: str
    name: str
    lon: float
    lat: float
    kind: str
    modes: tuple[str, ...] = ("road",)
    handling_cny_per_t: float = 0.0
    capacity_t: float = math.inf
    source: str = ""
    county: str = ""
    note: str = ""
    name_en: str = ""

    @property
    def is_terminal(self) -> bool:
        return any(m != "road" for m in self.modes)


@dataclass(frozen=True)
class Link:
    """Where a place joins one mode's graph: the node, and how far the place is from it."""

    node: int
    offset_km: float


@dataclass(frozen=True)
class NetworkConfig:
    """Which files make the network, and the tolerances used to join them."""

    road: str
    rail: str
    places: tuple[str, ...]
    pipeline: str | None = None
    rail_lines: str | None = None
    rail_line_stations: str | None = None
    extra_lines: tuple[str, ...] = ()
    snap_m: float = 30.0
    link_tolerance_km: dict[str, float] = field(
        default_factory=lambda: {"road": 10.0, "rail": 5.0, "pipeline": 5.0}
    )


@dataclass(frozen=True)
class Network:
    """The loaded multimodal network."""

    graphs: dict[str, nx.Graph]
    places: dict[str, Place]
    links: dict[str, dict[str, Link]]
    sources: dict[str, str] = field(default_factory=dict)
