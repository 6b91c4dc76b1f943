"""Real road, rail and pipeline networks as networkx graphs (the first stage)."""

from networks._errors import FreightError, InfeasibleError, InputError, InputErrors
from networks._types import MODES, Link, Network, NetworkConfig, Place
from networks.loading import load_network
from networks.routing import Route, route, summarize
from networks.sidings import add_lines, base_network

__all__ = [
    "MODES",
    "FreightError",
    "InfeasibleError",
    "InputError",
    "InputErrors",
    "Link",
    "Network",
    "NetworkConfig",
    "Place",
    "Route",
    "add_lines",
    "base_network",
    "load_network",
    "route",
    "summarize",
]
