"""Accelerator: settle outside the LP every flow whose cheapest chain touches no capacity.

A flow whose cheapest chain under its rule (capacities ignored: zero duals) uses no finite
capacity -- no capacitated edge, no capacitated terminal -- takes all its tonnes on that
chain, at that cost, and never enters the master. This is exact:

(i) Objective. Take any feasible solution of the whole model: the settled flow's part costs
at least ``t_f c*_f`` (``c*_f`` its cheapest chain), and the other flows' part is feasible
for the model without it (removing a flow's tonnes only frees capacity), so costs at least
that model's optimum; and that optimum plus ``t_f c*_f`` is attained, since the settled
chain takes no capacity from anyone.

(ii) Duals. The duals of the model without the settled flows, with ``sigma_f = c*_f`` for
each settled flow, are optimal for the whole model: the only new dual constraints are the
settled flows' chains, whose reduced costs ``cost_c - c*_f - sum_r pi_r a_rc`` are
``>= cost_c - c*_f >= 0`` as ``pi <= 0``, and the new primal columns are basic at reduced
cost 0 on rows with no capacity. So a settled flow never needs pricing again, whatever the
final duals: its demand row involves it alone.

Not when the LP is exported: an exported LP holds every flow.
"""

from __future__ import annotations

from freight.expanded_graph import Column
from freight.problem import Flow


def settle(
    flows: tuple[Flow, ...], seeds: dict[str, Column | None]
) -> tuple[list[Column], list[Flow]]:
    """The settled flows' chains (``seeds``: each flow's cheapest chain under its rule,
    :func:`freight.colgen.seeds.seed`) and the flows left for the master, in order."""
    settled = [c for c in seeds.values() if c is not None and not c.rows]
    done = {c.flow_id for c in settled}
    return settled, [f for f in flows if f.id not in done]
