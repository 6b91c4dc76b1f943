"""Generated benchmark instances as problems, for the tests of the scale work."""

from __future__ import annotations

from pathlib import Path

from benchmarks.generate import generate
from freight.problem import Problem
from freight.scenario import build_problem, load_scenario
from networks import load_network


def generated_problem(size: str, tmp_path: Path, seed: int, enforcement: str = "soft") -> Problem:
    """The problem of ``benchmarks.generate``'s instance ``size`` (written under
    ``tmp_path``, the network built afresh, no cache)."""
    toml = generate(size, tmp_path / size, seed=seed, enforcement=enforcement)
    scenario = load_scenario(toml)
    return build_problem(scenario, load_network(scenario.network, use_cache=False))
