"""Real road, rail and pipeline networks as networkx graphs (the first stage)."""

from networks._errors import FreightError, InfeasibleError, InputError, InputErrors
from networks._types import MODES, Link, Network, NetworkConfig, Place

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
]
