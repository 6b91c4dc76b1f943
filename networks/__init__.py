"""Real road, rail and pipeline networks as networkx graphs (the first stage)."""

from networks._errors import (
    BusyError,
    FreightError,
    InfeasibleError,
    InputError,
    InputErrors,
    SolverError,
)
from networks._types import MODES, Link, Network, NetworkConfig, Place
from networks.loading import load_network
from networks.routing import Route, route, summarize
from networks.sidings import add_lines, base_network

__all__ = [
    "MODES",
    "BusyError",
    "FreightError",
    "InfeasibleError",
    "InputError",
    "InputErrors",
    "Link",
    "Network",
    "NetworkConfig",
    "Place",
    "Route",
    "SolverError",
    "add_lines",
    "base_network",
    "load_network",
    "route",
    "summarize",
]
