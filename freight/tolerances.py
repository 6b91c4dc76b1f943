"""The solver core's tolerances, each named by what it protects.

Floating point makes two computations of one number differ in their last bits: a chain's
km summed arc by arc or leg by leg, a reduced cost computed by HiGHS or by pricing, the
tonnes on a row summed in another order. Each tolerance below says which comparison it
guards and how (relative to what). They are not tuning: changing one changes which
answers count as equal, so they live here, apart from :class:`freight.colgen.SolveOptions`.
"""

from __future__ import annotations

KM_REL = 1e-9
"""A km bound (the rule's ``max_access_km``, its ``threshold_km``, a road search's budget)
holds within this share of the bound (at least 1 km), or this many km where the budget
is already a difference: a leg's km summed in another order than the bound was computed
from must not fall on the wrong side of it."""

REDUCED_COST_REL = 1e-9
"""A chain prices out only when its reduced cost is below ``-REDUCED_COST_REL x max(1,
|cost|)``: a column in the master's basis has reduced cost 0, which pricing recomputes as
its weight less the flow's dual, equal up to rounding; without the tolerance such a column
would be offered (and rebuilt) every round, and the loop would not end."""

PHASE1_UNSERVED_SHARE = 1e-9
"""Phase 1 ends feasible when the unserved tonnes are at most this share of all tonnes
(0.04 t of the 37 Mt of the Liaocheng default). Phase 2 (unserved fixed at 0) has the last
word: should it find the master infeasible, the solve is infeasible, so a shortfall
within this share is never written as a result."""

OVERLOAD_REL = 1e-9
"""A capacity row left out of the master enters when a master solution loads it above its
capacity by more than this share of it ..."""

OVERLOAD_T = 1e-6
"""... and by more than this many tonnes: the usage of a row summed over columns in
another order than HiGHS sums it must not bring in a row that is exactly full."""

IDLE_REDUCED_COST_REL = 1e-6
"""Column deletion: a column counts a round towards its deletion only when its reduced
cost is above this share of ``max(1, cost)``: a non-basic column at a reduced cost of 0
(up to rounding) may enter the basis at the next pivot and is kept."""

USED_SHARE = 1e-9
"""Tonnes a column carries at the optimum below this share of its flow's tonnes (at least
1 t) are read as 0 (what simplex leaves at a bound, up to scaling), not as a chain used."""

ACCOUNTED_SHARE = 1e-6
"""A result accounts for every tonne: a flow's assigned tonnes must equal its tonnes within
this share of them (at least 1 t), or the solve is an error, never a result."""

BINDING_SLACK_SHARE = 1e-6
"""A capacity binds when its slack is within this share of the capacity (at least 1 t) ..."""

BINDING_DUAL_CNY = 1e-7
"""... and its shadow price is above this many CNY/t: a full row whose dual is 0 up to
rounding is not reported as a bottleneck."""

SHORT_T_REL = 1e-9
"""An infeasible solve names the flows whose unserved tonnes in phase 1 exceed this share
of them (at least 1e-9 t) ..."""

BLOCKING_DUAL = 1e-9
"""... and the capacity rows whose phase-1 dual exceeds this (a tonne of unserved demand
costs 1 in phase 1, so a dual of 1e-9 is nothing)."""

FULL_SHARE = 1e-7
"""The reasons: a capacity on a flow's cheapest compliant chain counts as exhausted when its
tonnes are within this share of it ..."""

FULL_T = 1e-6
"""... less this many tonnes."""

ROAD_T_SHARE = 1e-9
"""The reasons: a flow has tonnes left on the road only above this share of its tonnes
(at least 1 t)."""
