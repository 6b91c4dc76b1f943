"""The optimiser's entry points, as ``freight.run`` and the sweeps call them.

- :func:`solve`: the least-cost assignment of every flow under the problem's rule, solved
  exactly by column generation (:mod:`freight.colgen`; read :mod:`freight.colgen.loop`
  first);
- :func:`solve_policy_off`: the same with the rule off, warm from the rule's solution;
- :func:`baseline`: every flow on its mode of today (:mod:`freight.baseline`);
- :class:`SolveOptions`: the solve's limits and accelerators.
"""

from __future__ import annotations

from dataclasses import replace

from freight.baseline import Baseline, baseline
from freight.colgen.loop import solve
from freight.colgen.options import SolveOptions
from freight.expanded_graph import MultimodalGraph
from freight.problem import Problem, Solution

__all__ = ["Baseline", "SolveOptions", "baseline", "solve", "solve_policy_off"]


def solve_policy_off(
    problem: Problem,
    on: Solution | None = None,
    *,
    graph: MultimodalGraph | None = None,
    options: SolveOptions | None = None,
) -> Solution:
    """The same problem with the rule switched off, warm-started from ``on``: the chains it
    used, the rest of its final master's chains, that master's capacity rows and its basis
    (:attr:`Solution.basis`: the first solve is a warm primal simplex), re-solved in the
    tail's way. The same optimum as a cold start, in a few master solves."""
    off = replace(problem, policy=problem.policy.off())
    return solve(off, warm=on, graph=graph, options=options)
