"""The junction fix of the derivation (data/derive/junctions.py) on tiny chains.

Chains are on the 0.001 deg grid of the shipped layers' source, near 116E 36N, where a
cell is 90 m wide and 111 m high.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `data` is not an installed package; plain `pytest` needs this
    sys.path.insert(0, str(ROOT))

from data.derive.junctions import apply_joins, join_dead_ends, plan_joins  # noqa: E402
from data.derive.osm_scgraph import chain_km, chain_stated_km  # noqa: E402


def P(i: int, j: int) -> tuple[float, float]:
    """Grid point ``i`` cells east and ``j`` cells north of 116E 36N."""
    return (round(116.0 + i / 1000, 3), round(36.0 + j / 1000, 3))


def _edges(chains: list[list[tuple[float, float]]]) -> set[frozenset[tuple[float, float]]]:
    return {frozenset(e) for c in chains for e in zip(c, c[1:], strict=False)}


def _stated(chains: list[list[tuple[float, float]]], factor: float = 1.1) -> dict:
    """Source km of every edge: 10 % over the geodesic length, like a curving track."""
    return {e: factor * chain_km(list(e)) for e in _edges(chains)}


MAIN = [P(0, 0), P(10, 0), P(20, 0)]  # along the parallel, 1.8 km


def test_dead_end_one_cell_short_gets_a_connector_and_splits_the_line() -> None:
    spur = [P(5, 20), P(5, 1)]  # stops one cell (111 m) north of MAIN's first segment
    chains = [MAIN, spur]
    stated = _stated(chains)
    joins, left = plan_joins(chains)
    assert left == []
    (j,) = joins
    assert (j.dead_end, j.target, j.segment, j.point) == (P(5, 1), 0, 0, P(5, 0))
    assert j.distance_m == pytest.approx(110.95, abs=0.5) and j.cut_back_from is None
    new, new_stated = apply_joins(chains, joins, stated)
    # three chains meet at P(5, 0): MAIN's two halves and the spur, extended to it
    assert sorted(map(len, new)) == [2, 3, 3]
    assert all(P(5, 0) in (c[0], c[-1]) for c in new)
    # lengths: MAIN's first edge keeps its km, shared by the halves; the connector is
    # measured geodesically
    total_before = sum(chain_stated_km(c, stated) for c in chains)
    total_after = sum(chain_stated_km(c, new_stated) for c in new)
    assert total_after == pytest.approx(total_before + chain_km([P(5, 1), P(5, 0)]))
    halves = [new_stated[frozenset((P(0, 0), P(5, 0)))], new_stated[frozenset((P(5, 0), P(10, 0)))]]
    assert sum(halves) == pytest.approx(stated[frozenset((P(0, 0), P(10, 0)))])
    assert halves[0] == pytest.approx(halves[1])


def test_dead_end_on_the_line_splits_it_without_a_connector() -> None:
    spur = [P(5, 20), P(5, 0)]  # ends ON MAIN's first segment, which has no vertex there
    chains = [MAIN, spur]
    (j,) = plan_joins(chains)[0]
    assert j.point == j.dead_end == P(5, 0) and j.distance_m == pytest.approx(0, abs=1e-6)
    new, _ = apply_joins(chains, [j], _stated(chains))
    assert _edges(new) == {
        frozenset((P(0, 0), P(5, 0))),
        frozenset((P(5, 0), P(10, 0))),
        frozenset((P(10, 0), P(20, 0))),
        frozenset((P(5, 20), P(5, 0))),
    }


def test_beyond_near_m_nothing_is_joined() -> None:
    spur = [P(5, 20), P(5, 2)]  # two cells: 222 m
    assert plan_joins([MAIN, spur]) == ([], [])
    joins, _ = plan_joins([MAIN, spur], near_m=250)
    assert len(joins) == 1


def test_overshoot_is_cut_back_to_the_junction() -> None:
    # a road from the north crosses MAIN between vertices and stops one cell past it
    spur = [P(5, 20), P(5, -1)]
    chains = [MAIN, spur]
    stated = _stated(chains)
    (j,) = plan_joins(chains)[0]
    assert j.point == P(5, 0) and j.cut_back_from == P(5, 20)
    new, new_stated = apply_joins(chains, [j], stated)
    pts = {p for c in new for p in c}
    assert P(5, -1) not in pts  # the overshoot is gone
    assert frozenset((P(5, 20), P(5, 0))) in _edges(new)
    # the shortened edge keeps its share of the source's km
    full = stated[frozenset((P(5, 20), P(5, -1)))]
    assert new_stated[frozenset((P(5, 20), P(5, 0)))] == pytest.approx(full * 20 / 21, rel=1e-3)


def test_stub_beside_its_own_line_is_left() -> None:
    # a one-cell stub going north from the junction of MAIN's two halves: the nearest
    # point of either half is that junction, the stub's own other end
    west = [P(0, 0), P(10, 0)]
    east = [P(10, 0), P(20, 0)]
    stub = [P(10, 0), P(10, 1)]
    joins, left = plan_joins([west, east, stub])
    assert joins == [] and left == [(P(10, 1), "stub")]


def test_junction_on_a_third_lines_vertex_is_left() -> None:
    # main runs slightly north-east, 11 m north of P(5, 0); a V-shaped line has its apex
    # at P(5, 0) without touching main; the spur's junction on main rounds to P(5, 0),
    # which would join the V too
    main = [P(0, 0), (116.02, 36.0004)]
    vee = [P(4, -2), P(5, 0), P(6, -2)]
    spur = [P(5, 20), (116.005, 36.0011)]
    joins, left = plan_joins([main, vee, spur])
    assert joins == [] and left == [((116.005, 36.0011), "third line")]


def test_two_dead_ends_facing_each_other_are_joined_once() -> None:
    a = [P(0, 0), P(10, 0)]
    b = [P(11, 0), P(20, 0)]  # a gap of one cell (90 m) in a line
    chains, stated, joins, left = join_dead_ends([a, b], _stated([a, b]))
    assert len(joins) == 1 and left == []
    assert chains == [[P(0, 0), P(10, 0), P(11, 0), P(20, 0)]]
    assert chain_stated_km(chains[0], stated) == pytest.approx(
        1.1 * chain_km(a) + chain_km([P(10, 0), P(11, 0)]) + 1.1 * chain_km(b)
    )


def test_join_dead_ends_leaves_nothing_to_join() -> None:
    # spurs one cell short of MAIN from either side, and a line from two cells above MAIN
    # (too far) to one cell below a fourth line (joined)
    chains = [
        MAIN,
        [P(5, 20), P(5, 1)],
        [P(15, -20), P(15, -1)],
        [P(0, 30), P(20, 30)],
        [P(7, 2), P(7, 29)],
    ]
    new, stated, joins, left = join_dead_ends(chains, _stated(chains))
    assert sorted(j.dead_end for j in joins) == [P(5, 1), P(7, 29), P(15, -1)] and left == []
    assert plan_joins(new) == ([], [])
    assert not math.isnan(sum(chain_stated_km(c, stated) for c in new))
