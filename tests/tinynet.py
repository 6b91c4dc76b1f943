"""Tiny hand-made networks for optimiser tests (graphs with the CONTRACTS attributes)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import networkx as nx
from shapely.geometry import LineString

from freight.problem import Costs, Flow, ModeCost, Policy, Problem
from networks import Link, Network, Place


def graph(
    mode: str, edges: Iterable[tuple], *, coords: dict[int, tuple[float, float]] | None = None
) -> nx.Graph:
    """An undirected graph of ``mode`` from ``(u, v, km[, attrs])`` tuples.

    Node positions default to ``(0.01 * id, 36.0)``; every edge gets all CONTRACTS attrs.
    """
    g = nx.Graph(mode=mode, crs="EPSG:4326", source="tinynet")
    coords = coords or {}
    for e in edges:
        u, v, km = e[0], e[1], float(e[2])
        attrs = dict(e[3]) if len(e) > 3 else {}
        for n in (u, v):
            if n not in g:
                x, y = coords.get(n, (115.0 + 0.01 * n, 36.0 + 0.001 * (n % 7)))
                g.add_node(n, x=x, y=y)
        a, b = min(u, v), max(u, v)
        geom = LineString([(g.nodes[a]["x"], g.nodes[a]["y"]), (g.nodes[b]["x"], g.nodes[b]["y"])])
        g.add_edge(
            u,
            v,
            length_km=km,
            geometry=geom,
            name=attrs.pop("name", ""),
            lines=attrs.pop("lines", ()),
            capacity_t=attrs.pop("capacity_t", math.inf),
            freight=attrs.pop("freight", True),
            commodities=attrs.pop(
                "commodities", frozenset({"oil"}) if mode == "pipeline" else None
            ),
            **({"users": frozenset(attrs.pop("users"))} if "users" in attrs else {}),
        )
        assert not attrs, attrs
    return g


def place(
    pid: str,
    links: dict[str, tuple[int, float]],
    *,
    kind: str = "shipper",
    handling: float = 0.0,
    capacity: float = math.inf,
    lon: float = 115.5,
    lat: float = 36.4,
    county: str = "",
) -> tuple[Place, dict[str, Link]]:
    """A place and its links ``{mode: (node, offset_km)}`` (road is required)."""
    assert "road" in links
    modes = tuple(m for m in ("road", "rail", "pipeline") if m in links)
    p = Place(
        id=pid,
        name=f"{pid}名",
        lon=lon,
        lat=lat,
        kind=kind,
        modes=modes,
        handling_cny_per_t=handling,
        capacity_t=capacity,
        source="test",
        county=county,
    )
    return p, {m: Link(node=n, offset_km=o) for m, (n, o) in links.items()}


def network(
    road: Iterable[tuple],
    rail: Iterable[tuple] = (),
    pipeline: Iterable[tuple] = (),
    places: Iterable[tuple[Place, dict[str, Link]]] = (),
) -> Network:
    """A Network from edge lists and ``place(...)`` results."""
    pl = list(places)
    return Network(
        graphs={
            "road": graph("road", road),
            "rail": graph("rail", rail),
            "pipeline": graph("pipeline", pipeline),
        },
        places={p.id: p for p, _ in pl},
        links={p.id: lk for p, lk in pl},
        sources={"road": "tinynet", "rail": "tinynet", "pipeline": "tinynet"},
    )


def costs(
    *,
    road: tuple[float, float, float] = (0.4, 0.0, 60.0),
    rail: tuple[float, float, float] = (0.1, 10.0, 10.0),
    pipeline: tuple[float, float, float] = (0.05, 5.0, 5.0),
    carbon: float = 0.0,
) -> Costs:
    """Costs by mode as ``(cny_per_tkm, cny_per_t, co2_g_per_tkm)``."""
    return Costs(
        by_mode={"road": ModeCost(*road), "rail": ModeCost(*rail), "pipeline": ModeCost(*pipeline)},
        carbon_price_cny_per_t=carbon,
    )


def problem(
    net: Network,
    flows: Iterable[Flow],
    *,
    cost: Costs | None = None,
    policy: Policy | None = None,
    solver: str = "highs",
) -> Problem:
    """A Problem with default policy (coal/ore/coke/oil, 400 km, 50 km, hard)."""
    return Problem(
        network=net,
        flows=tuple(flows),
        costs=cost or costs(),
        policy=policy or Policy(commodities=frozenset({"coal", "ore", "coke", "oil"})),
        solver=solver,  # type: ignore[arg-type]
        name="tiny",
    )
