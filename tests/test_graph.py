"""Lines -> graph: snapping, crossings, parallel edges, contraction, splitting, add_lines."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from networks.graph import build_graph, split_edge, total_km
from networks.io import LineFeature, geodesic_km
from networks.sidings import add_lines
from networks.simplification import simplify_graph

M_PER_DEG_LAT = 110_574.0


def feats(*coords: list[tuple[float, float]], **kw: object) -> list[LineFeature]:
    return [LineFeature(i + 1, (LineString(c),), **kw) for i, c in enumerate(coords)]  # type: ignore[arg-type]


def check_contract(G: nx.Graph) -> None:
    """Every edge has every attribute; geometry runs from the smaller node to the larger."""
    for u, v, d in G.edges(data=True):
        assert set(d) >= {
            "length_km",
            "geometry",
            "name",
            "lines",
            "capacity_t",
            "freight",
            "commodities",
        }
        a, b = min(u, v), max(u, v)
        xy = shapely.get_coordinates(d["geometry"])
        assert tuple(xy[0]) == (G.nodes[a]["x"], G.nodes[a]["y"])
        assert tuple(xy[-1]) == (G.nodes[b]["x"], G.nodes[b]["y"])
    assert nx.number_of_selfloops(G) == 0


@pytest.mark.parametrize(("gap_m", "joined"), [(10.0, True), (100.0, False)])
def test_end_points_snap_within_tolerance(gap_m: float, joined: bool) -> None:
    d = gap_m / M_PER_DEG_LAT
    G = build_graph(
        feats([(116.0, 36.0), (116.1, 36.0)], [(116.1, 36.0 + d), (116.2, 36.0)]),
        mode="road",
        snap_m=30.0,
    )
    assert nx.is_connected(G) is joined
    assert G.number_of_nodes() == (3 if joined else 4)
    check_contract(G)


def test_crossing_lines_do_not_join() -> None:
    G = build_graph(
        feats([(116.0, 36.0), (116.2, 36.0)], [(116.1, 35.9), (116.1, 36.1)]), mode="road"
    )
    assert nx.number_connected_components(G) == 2


def test_line_ending_on_another_lines_interior_does_not_join() -> None:
    G = build_graph(
        feats([(116.0, 36.0), (116.1, 36.0), (116.2, 36.0)], [(116.1, 36.0), (116.1, 36.1)]),
        mode="road",
    )
    assert nx.number_connected_components(G) == 2


def test_parallel_edges_are_split() -> None:
    G = build_graph(
        feats(
            [(116.0, 36.0), (116.1, 36.0)],
            [(116.0, 36.0), (116.05, 36.02), (116.1, 36.0)],
            [(116.0, 36.0), (116.1, 36.0)],
        ),
        mode="rail",
    )
    assert G.number_of_edges() == 5 and G.number_of_nodes() == 4
    check_contract(G)
    H = simplify_graph(G)  # contraction must not recreate the parallel edges
    assert H.number_of_edges() == G.number_of_edges()
    assert total_km(H) == pytest.approx(total_km(G))


def test_length_km_property_wins() -> None:
    G = build_graph(feats([(116.0, 36.0), (116.1, 36.0)], length_km=42.0), mode="road")
    assert next(iter(G.edges(data="length_km")))[2] == 42.0


def test_contraction_keeps_length_and_geometry() -> None:
    pts = [(116.0, 36.0), (116.1, 36.05), (116.2, 36.0), (116.3, 36.1)]
    lines = [[pts[i], pts[i + 1]] for i in range(3)] + [[(116.2, 36.0), (116.2, 35.9)]]
    G = build_graph(feats(*lines), mode="road")
    H = simplify_graph(G)
    assert H.number_of_nodes() == 4 and H.number_of_edges() == 3
    assert total_km(H) == pytest.approx(total_km(G))
    check_contract(H)
    ((u, v, geom),) = [(u, v, g) for u, v, g in H.edges(data="geometry") if len(g.coords) == 3]
    assert geodesic_km(np.asarray(geom.coords)) == pytest.approx(H.edges[u, v]["length_km"])


def test_contraction_needs_equal_attributes() -> None:
    G = build_graph(
        [
            LineFeature(1, (LineString([(116.0, 36.0), (116.1, 36.0)]),), name="甲"),
            LineFeature(2, (LineString([(116.1, 36.0), (116.2, 36.0)]),), name="乙"),
        ],
        mode="road",
    )
    assert simplify_graph(G).number_of_edges() == 2


def test_contraction_of_a_loop_keeps_the_graph_simple() -> None:
    ring = [(116.0, 36.0), (116.1, 36.0), (116.1, 36.1), (116.0, 36.1)]
    lines = [[ring[i], ring[(i + 1) % 4]] for i in range(4)] + [[(116.0, 36.0), (115.9, 36.0)]]
    G = build_graph(feats(*lines), mode="road")
    H = simplify_graph(G)
    assert H.number_of_edges() == 4  # tail + loop kept as three edges
    assert total_km(H) == pytest.approx(total_km(G))
    check_contract(H)


def test_split_at_a_point_mid_segment_not_at_a_vertex() -> None:
    G = build_graph(feats([(116.0, 36.0), (116.1, 36.0), (116.3, 36.0)]), mode="road")
    ((u, v, before),) = G.edges(data="length_km")
    w = split_edge(G, u, v, seg=1, t=0.25)  # at 116.15, between the vertices
    assert (G.nodes[w]["x"], G.nodes[w]["y"]) == pytest.approx((116.15, 36.0))
    assert G.edges[u, w]["length_km"] + G.edges[w, v]["length_km"] == pytest.approx(before)
    assert G.edges[u, w]["length_km"] == pytest.approx(before * 0.15 / 0.3, rel=1e-3)
    check_contract(G)


def test_split_at_an_end_returns_the_end() -> None:
    G = build_graph(feats([(116.0, 36.0), (116.1, 36.0)]), mode="road")
    ((u, v),) = G.edges
    assert split_edge(G, u, v, seg=0, t=0.0) == min(u, v)
    assert G.number_of_edges() == 1


def test_add_lines_joins_a_named_end_to_nearest_point_on_a_line() -> None:
    G = build_graph(feats([(116.0, 36.0), (116.2, 36.0)]), mode="rail")
    siding = gpd.GeoDataFrame(
        {"name": ["专用线"], "join": ["start"]},
        geometry=[LineString([(116.1, 36.002), (116.1, 36.1)])],
        crs="EPSG:4326",
    )
    add_lines(G, siding, tolerance_km=1.0)
    assert nx.is_connected(G) and G.number_of_nodes() == 4
    check_contract(G)


coord = st.tuples(st.floats(115.0, 117.0), st.floats(35.0, 37.0))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(coord, min_size=2, max_size=6), min_size=1, max_size=8), st.integers(0, 3))
def test_contraction_preserves_total_km(
    polylines: list[list[tuple[float, float]]], chain_cut: int
) -> None:
    # Chain the polylines end to end (some sharing ends, so there is something to contract).
    lines = []
    for i, pl in enumerate(polylines):
        if i and i % 4 != chain_cut:
            pl = [lines[-1][-1], *pl]
        lines.append(pl)
    G = build_graph(feats(*lines), mode="road", snap_m=30.0)
    H = simplify_graph(G)
    assert total_km(H) == pytest.approx(total_km(G), rel=1e-9, abs=1e-9)
    assert nx.number_connected_components(H) == nx.number_connected_components(G)
    check_contract(H)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(coord, min_size=2, max_size=6, unique=True), st.floats(0.0, 1.0), st.integers(0, 10)
)
def test_splitting_anywhere_preserves_length(
    pts: list[tuple[float, float]], t: float, seg: int
) -> None:
    G = build_graph(feats(pts), mode="road", snap_m=1.0)
    if G.number_of_edges() == 0:
        return
    u, v, before = next(iter(G.edges(data="length_km")))
    w = split_edge(G, u, v, seg=seg % (len(pts) - 1), t=t)
    assert total_km(G) == pytest.approx(before, rel=1e-9)
    assert not math.isnan(total_km(G)) and G.has_node(w)
    check_contract(G)


# --- the array build against the edge-by-edge reference it replaced ------------------------


def _reference_build(features: list[LineFeature], *, mode: str, snap_m: float) -> nx.Graph:
    """The graph the edge-by-edge code made: add_edge for every line, in order."""
    from networks.graph import _cluster_points, add_edge
    from networks.io import geodesic_km_many

    G = nx.Graph(mode=mode, crs="EPSG:4326", source="", dropped_loops=0)
    parts = [(p, f) for f in features for p in f.parts]
    lengths = geodesic_km_many([p for p, _ in parts])
    total: dict[int, float] = {}
    for (_, f), length in zip(parts, lengths, strict=True):
        total[id(f)] = total.get(id(f), 0.0) + float(length)
    ends = np.array([c for p, _ in parts for c in (p.coords[0], p.coords[-1])], dtype=float)
    labels = _cluster_points(ends, snap_m)
    rep: dict[int, np.ndarray] = {}
    for i, lab in enumerate(labels):
        rep.setdefault(int(lab), ends[i])
    for lab, xy in rep.items():
        G.add_node(lab, x=float(xy[0]), y=float(xy[1]))
    G.graph["next_node"] = max(rep) + 1
    for k, (p, f) in enumerate(parts):
        u, v = int(labels[2 * k]), int(labels[2 * k + 1])
        if u == v:
            G.graph["dropped_loops"] += 1
            continue
        coords = shapely.get_coordinates(p).copy()
        coords[0], coords[-1] = rep[u], rep[v]
        length = float(lengths[k])
        if f.length_km is not None:
            t = total[id(f)]
            length = f.length_km * (length / t if t > 0 else 1.0 / len(f.parts))
        add_edge(
            G,
            u,
            v,
            coords,
            length_km=length,
            name=f.name,
            lines=(),
            capacity_t=f.capacity_t,
            freight=f.freight,
            commodities=f.commodities,
        )
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    return G


def _reference_simplify(G: nx.Graph) -> nx.Graph:
    """The networkx contraction the array one replaced (same walk, same cuts)."""
    attrs = ("name", "lines", "capacity_t", "freight", "commodities")
    key = lambda d: tuple(d.get(a) for a in attrs)  # noqa: E731
    ends = set()
    for n in G.nodes:
        if G.degree(n) != 2:
            ends.add(n)
            continue
        a, b = (G.edges[n, m] for m in G.neighbors(n))
        if key(a) != key(b):
            ends.add(n)
    paths, seen = [], set()

    def walk(start: int, first: int) -> list[int]:
        path = [start, first]
        seen.add(frozenset((start, first)))
        prev, cur = start, first
        while cur not in ends and cur != start:
            nxt = next(m for m in G.neighbors(cur) if m != prev)
            if frozenset((cur, nxt)) in seen:
                break
            seen.add(frozenset((cur, nxt)))
            path.append(nxt)
            prev, cur = cur, nxt
        return path

    for s in ends:
        for m in G.neighbors(s):
            if frozenset((s, m)) not in seen:
                paths.append(walk(s, m))
    for u, v in G.edges:
        if frozenset((u, v)) not in seen:
            ends.add(u)
            paths.append(walk(u, v))
    H = nx.Graph()
    H.graph.update(G.graph)
    paths.sort(key=len)
    for path in paths:
        a, b, last = path[0], path[-1], len(path) - 1
        if a == b:
            cuts = [0, last // 3, (2 * last) // 3, last]
        elif H.has_edge(a, b) and last >= 2:
            cuts = [0, last // 2, last]
        else:
            cuts = [0, last]
        for i, j in zip(cuts[:-1], cuts[1:], strict=True):
            sub = path[i : j + 1]
            x, y = sub[0], sub[-1]
            for n in (x, y):
                if n not in H:
                    H.add_node(n, **G.nodes[n])
            if len(sub) == 2:
                H.add_edge(x, y, **G.edges[x, y])
                continue
            pieces, length = [], 0.0
            joints = []  # (vertex, km, geodesic km) at the end of each piece
            for p, q in zip(sub[:-1], sub[1:], strict=True):
                c = shapely.get_coordinates(G.edges[p, q]["geometry"])
                pieces.append(c if p < q else c[::-1])
                length += float(G.edges[p, q]["length_km"])
                at = sum(len(c) - 1 for c in pieces)
                joints.append((at, length, (joints[-1][2] if joints else 0.0) + geodesic_km(c)))
            coords = np.vstack([pieces[0]] + [c[1:] for c in pieces[1:]])
            data = dict(G.edges[sub[0], sub[1]])
            data["length_km"] = length
            data["geometry"] = LineString(coords if x < y else coords[::-1])
            # the features' own km where spreading the sum by map length misplaces a
            # joint by more than 1 m
            g = joints[-1][2]
            marks = [(a, k) for a, k, gj in joints[:-1]]
            if g > 0 and any(abs(k - length * gj / g) > 1e-3 for _, k, gj in joints[:-1]):
                if x > y:
                    marks = [(len(coords) - 1 - a, length - k) for a, k in reversed(marks)]
                data["km_at"] = tuple(marks)
            H.add_edge(x, y, **data)
    return H


def _assert_same_graph(G: nx.Graph, H: nx.Graph) -> None:
    """Equal down to the order of nodes, of neighbours and of attributes."""
    assert G.graph == H.graph
    assert list(G.nodes(data=True)) == list(H.nodes(data=True))
    assert [list(G.adj[n]) for n in G] == [list(H.adj[n]) for n in H]
    for u, v, d in G.edges(data=True):
        e = H.edges[u, v]
        assert list(d) == list(e)
        assert (
            shapely.get_coordinates(d["geometry"]).tolist()
            == shapely.get_coordinates(e["geometry"]).tolist()
        )
        assert {k: x for k, x in d.items() if k != "geometry"} == {
            k: x for k, x in e.items() if k != "geometry"
        }


grid = st.tuples(st.integers(0, 4), st.integers(0, 4))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(grid, min_size=2, max_size=5), st.sampled_from(["", "甲"]), st.booleans()
        ),
        min_size=1,
        max_size=14,
    ),
    st.floats(0.0, 1.0),
)
def test_array_build_and_contraction_match_edge_by_edge(
    lines: list[tuple[list[tuple[int, int]], str, bool]], jitter: float
) -> None:
    # lines on a small lattice: shared ends, doubled edges, loops, rings and name changes
    features = [
        LineFeature(
            i + 1,
            (
                LineString(
                    [
                        (116 + 0.01 * x + 1e-5 * jitter * k, 36 + 0.01 * y)
                        for k, (x, y) in enumerate(pts)
                    ]
                ),
            ),
            name=name,
            length_km=10.0 if given_len else None,
        )
        for i, (pts, name, given_len) in enumerate(lines)
    ]
    from networks._table import contract
    from networks.graph import build_table

    ref = _reference_build(features, mode="road", snap_m=30.0)
    G = build_graph(features, mode="road", snap_m=30.0)
    _assert_same_graph(ref, G)
    ref_h = _reference_simplify(ref)
    _assert_same_graph(ref_h, simplify_graph(G))
    _assert_same_graph(ref_h, contract(build_table(features, mode="road", snap_m=30.0)))
