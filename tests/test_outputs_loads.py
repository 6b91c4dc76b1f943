"""Edge loads for links.geojson: from arrays, exactly what a loop over every edge gives.

``freight.outputs._edge_loads`` sums the tonnes on every edge by direction and by
commodity from numpy arrays; the loop it replaced is the reference: same keys, same
order of edges, directions and commodities (first use), same sums to the last bit (in
assignment order) -- with small node ids (packed into one integer) and huge ones (grouped
row-wise).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from freight.outputs import _edge_loads
from freight.problem import Assignment, Chain, Flow, Leg
from tests import tinynet as tn


def _loop(flows: dict[str, Flow], assigns: list[Assignment]) -> dict[tuple, dict]:
    loads: dict[tuple, dict] = {}
    for a in assigns:
        c = flows[a.flow_id].commodity
        for leg in a.chain.legs:
            for u, v in zip(leg.nodes[:-1], leg.nodes[1:], strict=True):
                rec = loads.setdefault((leg.mode, min(u, v), max(u, v)), {"dir": {}, "comm": {}})
                rec["dir"][(u, v)] = rec["dir"].get((u, v), 0.0) + a.tonnes
                rec["comm"][c] = rec["comm"].get(c, 0.0) + a.tonnes
    return loads


_legs = st.lists(
    st.tuples(
        st.sampled_from(["road", "rail", "pipeline"]),
        st.lists(st.integers(0, 6), min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    chains=st.lists(
        st.tuples(_legs, st.floats(0.001, 1e7), st.integers(0, 3)), min_size=1, max_size=8
    ),
    huge=st.booleans(),
)
def test_edge_loads_equal_the_loop_over_every_edge(chains: list, huge: bool) -> None:
    offset = 2**40 if huge else 0  # node ids too large to pack three into one integer
    comms = ["coal", "ore", "coke", "oil"]
    flows = {f"f{i}": Flow(f"f{i}", comms[c], "O", "D", t) for i, (_, t, c) in enumerate(chains)}
    assigns = [
        Assignment(
            f"f{i}",
            Chain(
                legs=tuple(Leg(m, tuple(n + offset for n in nodes), 1.0) for m, nodes in legs),
                lifts=(),
                cost_cny_per_t=0.0,
                co2_g_per_t=0.0,
                compliant=False,
            ),
            t,
        )
        for i, (legs, t, _) in enumerate(chains)
    ]
    problem = tn.problem(tn.network(road=[(1, 2, 1.0)]), flows.values())  # flows read only
    got, want = _edge_loads(problem, assigns), _loop(flows, assigns)
    assert list(got) == list(want)
    for k, rec in want.items():
        assert list(got[k]["dir"].items()) == list(rec["dir"].items())
        assert list(got[k]["comm"].items()) == list(rec["comm"].items())
