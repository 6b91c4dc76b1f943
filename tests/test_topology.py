"""The topology checks (networks.topology) on tiny hand-made layers near Liaocheng.

Each layer is drawn so the answer can be worked out on paper: one degree of latitude is
110.95 km at 36 N, so 0.00045 deg north is 50 m.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from networks.io import LineFeature, point_km
from networks.topology import (
    check_features,
    check_lines,
    dead_ends,
    find_crossings,
    find_length_mismatches,
    find_long_segments,
    find_near_misses,
    find_self_intersections,
    format_reports,
)

X0, Y0 = 116.0, 36.0
M_LAT = 1 / 110_950.0  # degrees of latitude per metre at 36 N


def north(m: float) -> float:
    return Y0 + m * M_LAT


def road(*pts: tuple[float, float]) -> LineString:
    return LineString(pts)


# a road along the parallel Y0 from X0 to X0 + 0.02 (about 1.8 km)
MAIN = road((X0, Y0), (X0 + 0.02, Y0))


def test_dead_end_short_of_a_line_is_a_near_miss() -> None:
    # a road coming from the north stops 50 m short of MAIN
    spur = road((X0 + 0.01, north(2000)), (X0 + 0.01, north(50)))
    misses = find_near_misses([MAIN, spur])
    assert len(misses) == 1
    m = misses[0]
    assert (m.line, m.end, m.target) == (1, 1, 0)
    assert m.distance_m == pytest.approx(50, abs=0.5)
    assert m.point == pytest.approx((X0 + 0.01, Y0), abs=1e-9)
    assert m.segment == 0 and m.t == pytest.approx(0.5)


def test_end_on_a_line_without_a_vertex_is_a_near_miss_at_zero_m() -> None:
    # a T drawn without splitting MAIN: the graph builder joins ends only
    spur = road((X0 + 0.01, north(2000)), (X0 + 0.01, Y0))
    (m,) = find_near_misses([MAIN, spur])
    assert m.distance_m == pytest.approx(0, abs=1e-6)


def test_joined_ends_are_no_dead_ends() -> None:
    # three roads meeting at one point (one end 10 m off: within snap_m = 30 m)
    a = road((X0, Y0), (X0 + 0.01, Y0))
    b = road((X0 + 0.01, north(10)), (X0 + 0.02, Y0))
    c = road((X0 + 0.01, Y0), (X0 + 0.01, north(-2000)))
    assert sorted(dead_ends([a, b, c]).tolist()) == [0, 3, 5]  # the three far ends
    assert find_near_misses([a, b, c]) == []
    # with snap_m = 5 m, b's end no longer joins: it is a dead end 10 m from a and c
    (m,) = find_near_misses([a, b, c], snap_m=5)
    assert (m.line, m.end) == (1, 0) and m.distance_m == pytest.approx(10, abs=0.5)


def test_near_m_is_the_threshold() -> None:
    spur = road((X0 + 0.01, north(2000)), (X0 + 0.01, north(200)))
    assert find_near_misses([MAIN, spur]) == []
    (m,) = find_near_misses([MAIN, spur], near_m=250)
    assert m.distance_m == pytest.approx(200, abs=1)


def test_nearest_of_two_lines_is_reported() -> None:
    # a second road 300 m south of MAIN; a spur from the south crosses it and stops 20 m
    # past it (an overshoot), 280 m short of MAIN: the nearest line is the one reported
    other = road((X0, north(-300)), (X0 + 0.02, north(-300)))
    spur = road((X0 + 0.01, north(-2000)), (X0 + 0.01, north(-280)))
    (m,) = find_near_misses([MAIN, other, spur])
    assert m.target == 1 and m.distance_m == pytest.approx(20, abs=0.5)


def test_crossing_without_vertex() -> None:
    cross = road((X0 + 0.01, north(-500)), (X0 + 0.01, north(500)))
    (c,) = find_crossings([MAIN, cross])
    i, j, p, kind = c
    assert (i, j, kind) == (0, 1, "cross")
    assert p == pytest.approx((X0 + 0.01, Y0), abs=1e-9)


def test_lines_joined_at_their_ends_do_not_cross() -> None:
    a = road((X0, Y0), (X0 + 0.01, Y0))
    b = road((X0 + 0.01, Y0), (X0 + 0.01, north(500)))
    assert find_crossings([a, b]) == []


def test_lines_sharing_an_end_and_crossing_elsewhere_are_reported() -> None:
    # b starts at MAIN's start, goes north, turns and comes back south across MAIN
    b = road((X0, Y0), (X0 + 0.005, north(300)), (X0 + 0.01, north(-300)))
    (c,) = find_crossings([MAIN, b])
    assert c[3] == "cross"
    assert c[2][0] == pytest.approx(X0 + 0.0075, abs=1e-6)


def test_overlap_is_its_own_kind() -> None:
    twice = road((X0 + 0.005, Y0), (X0 + 0.03, Y0))  # runs along MAIN's second half
    (c,) = find_crossings([MAIN, twice])
    assert c[3] == "overlap"
    r = check_lines([MAIN, twice])
    assert r.counts()["overlaps"] == 1 and r.counts()["crossings"] == 0


def test_self_intersection() -> None:
    loop = road((X0, Y0), (X0 + 0.01, Y0), (X0 + 0.01, north(500)), (X0 + 0.005, north(-500)))
    ring = road((X0, Y0), (X0 + 0.01, Y0), (X0 + 0.01, north(500)), (X0, Y0))  # simple
    found = find_self_intersections([MAIN, loop, ring])
    assert [i for i, _ in found] == [1]
    x, y = found[0][1]
    assert y == pytest.approx(Y0, abs=1e-9)  # the last segment crosses the first
    assert X0 < x < X0 + 0.01


def test_length_mismatches() -> None:
    assert find_length_mismatches([1.0, 1.0, 1.0, 1.0, 0.0], [1.6, 1.4, 0.6, None, 0.2]) == [
        0,
        2,
        4,
    ]
    assert find_length_mismatches([1.0], [1.6], ratio=2.0) == []


def test_long_segments() -> None:
    # 0.6 deg of longitude at 36 N is 54.0 km; the second segment is 0.1 deg
    line = road((X0, Y0), (X0 + 0.6, Y0), (X0 + 0.7, Y0))
    ((i, seg, km, a, b),) = find_long_segments([MAIN, line])
    assert (i, seg) == (1, 0)
    assert km == pytest.approx(point_km(X0, Y0, X0 + 0.6, Y0))
    assert 53 < km < 55 and a == (X0, Y0) and b == (X0 + 0.6, Y0)
    assert find_long_segments([line], long_km=60) == []


def test_check_lines_counts_and_feature_numbers() -> None:
    spur = road((X0 + 0.015, north(2000)), (X0 + 0.015, north(50)))
    cross = road((X0 + 0.01, north(-500)), (X0 + 0.01, north(500)))
    long = road((X0 + 1, Y0), (X0 + 1.6, Y0))
    geo = point_km(X0 + 1, Y0, X0 + 1.6, Y0)
    r = check_lines(
        [MAIN, spur, cross, long], ids=[11, 12, 13, 14], length_km=[None, None, None, 2 * geo]
    )
    assert r.counts() == {
        "features": 4,
        "dead_ends": 8,
        "near_miss_dead_ends": 1,
        "crossings": 1,
        "overlaps": 0,
        "self_intersections": 0,
        "length_mismatches": 1,
        "long_segments": 1,
    }
    (m,) = r.near_misses
    assert (m.feature, m.end, m.other) == (12, "end", 11)
    assert (m.lon, m.lat) == pytest.approx((X0 + 0.015, north(50)))
    (c,) = r.crossings
    assert (c.feature, c.other) == (11, 13)
    (x,) = r.length_mismatches
    assert x.feature == 14 and x.ratio == pytest.approx(2.0)
    assert r.long_segments[0].feature == 14
    d = r.to_dict(limit=1)
    assert d["counts"]["crossings"] == 1 and d["length_mismatches"][0]["ratio"] == pytest.approx(2)
    assert d["thresholds"] == {"snap_m": 30.0, "near_m": 150.0, "ratio": 1.5, "long_km": 50.0}


def test_clean_layer_reports_nothing() -> None:
    a = road((X0, Y0), (X0 + 0.01, Y0))
    b = road((X0 + 0.01, Y0), (X0 + 0.02, north(100)))
    r = check_lines([a, b], length_km=[0.9, 0.95])
    c = r.counts()
    assert c["dead_ends"] == 2
    assert all(v == 0 for k, v in c.items() if k not in ("features", "dead_ends"))


def test_check_features_groups_parts_under_the_feature_number() -> None:
    part1 = road((X0, Y0), (X0 + 0.01, Y0))
    part2 = road((X0 + 0.01, north(100)), (X0 + 0.02, north(100)))  # 100 m from part1's end
    geo = point_km(X0, Y0, X0 + 0.01, Y0) + point_km(X0 + 0.01, north(100), X0 + 0.02, north(100))
    f = LineFeature(index=7, parts=(part1, part2), length_km=geo * 1.01)
    r = check_features([f])
    assert r.features == 1
    assert {m.feature for m in r.near_misses} == {7} and len(r.near_misses) == 2
    assert r.length_mismatches == ()  # the parts' lengths are summed for the feature


def test_format_reports_names_features_and_thresholds() -> None:
    spur = road((X0 + 0.01, north(2000)), (X0 + 0.01, north(50)))
    text = "\n".join(
        format_reports({"road": check_lines([MAIN, spur])}, sources={"road": "roads.geojson"})
    )
    assert "[road] (roads.geojson): 2 features, 4 dead ends" in text
    assert "dead ends within 150 m of another line, not joined" in text
    assert "feature 2 end" in text and "is 50 m from feature 1" in text


def test_near_miss_search_widens_with_latitude() -> None:
    # 60 N: a degree of longitude is half as long as at the equator. A road starting
    # 140 m east of another's end (0.0025 deg) is found; 0.0025 deg is 278 m of latitude.
    y = 60.0
    dlon = 140 / (111_412 * math.cos(math.radians(y)))
    main = road((10.0, y), (10.02, y))
    east = road((10.02 + dlon, y), (10.04, y + 0.01))
    misses = find_near_misses([main, east])
    assert {(m.line, m.end) for m in misses} == {(0, 1), (1, 0)}
    assert all(m.distance_m == pytest.approx(140, abs=1.5) for m in misses)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 20)] * 4), min_size=2, max_size=12))
def test_crossings_match_pairwise_predicates(segs: list[tuple[int, int, int, int]]) -> None:
    # random segments on a 0.001 deg grid, with snap_m = 0 (only identical ends join):
    # a pair is listed exactly when shapely says their interiors meet at points (cross)
    # or along a stretch (overlap)
    lines = [
        road((X0 + a / 1000, Y0 + b / 1000), (X0 + c / 1000, Y0 + d / 1000))
        for a, b, c, d in segs
        if (a, b) != (c, d)
    ]
    found = {(i, j): kind for i, j, _, kind in find_crossings(lines, snap_m=0.0)}
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i], lines[j]
            kind = "cross" if a.crosses(b) else "overlap" if a.overlaps(b) else None
            assert found.get((i, j)) == kind, (i, j, a.wkt, b.wkt)
