"""Places join the graphs at the nearest point ON a line, splitting the edge there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString

from networks._types import Place
from networks.graph import build_graph, total_km
from networks.io import LineFeature, point_km
from networks.places import PlaceTable, link_places, read_places

DATA = Path(__file__).parent / "data"


def _graph(mode: str = "road") -> object:
    return build_graph([LineFeature(1, (LineString([(116.0, 36.0), (116.2, 36.0)]),))], mode=mode)


def test_link_is_the_nearest_point_on_the_line_not_a_vertex() -> None:
    G = _graph()
    before = total_km(G)
    table = PlaceTable(places={"a": Place("a", "甲", 116.07, 36.01, "county")})
    links = link_places({"road": G}, table, tolerance_km={"road": 5.0})
    link = links["a"]["road"]
    node = G.nodes[link.node]
    assert (node["x"], node["y"]) == pytest.approx((116.07, 36.0))
    assert link.offset_km == pytest.approx(point_km(116.07, 36.01, 116.07, 36.0))
    assert link.offset_km == pytest.approx(1.109, abs=0.01)
    assert G.number_of_edges() == 2 and total_km(G) == pytest.approx(before)


def test_two_places_on_one_edge_both_split_it() -> None:
    G = _graph()
    before = total_km(G)
    table = PlaceTable(
        places={
            "a": Place("a", "甲", 116.05, 36.001, "county"),
            "b": Place("b", "乙", 116.15, 35.999, "county"),
        }
    )
    links = link_places({"road": G}, table, tolerance_km={"road": 5.0})
    assert G.number_of_edges() == 3 and total_km(G) == pytest.approx(before)
    xs = sorted(G.nodes[links[p]["road"].node]["x"] for p in "ab")
    assert xs == pytest.approx([116.05, 116.15])


def test_rail_places_join_freight_track_only() -> None:
    G = build_graph(
        [
            LineFeature(1, (LineString([(116.0, 36.0), (116.2, 36.0)]),), freight=False),
            LineFeature(2, (LineString([(116.0, 36.03), (116.2, 36.03)]),)),
        ],
        mode="rail",
    )
    road = _graph()
    table = PlaceTable(places={"t": Place("t", "站", 116.1, 36.005, "station", ("road", "rail"))})
    links = link_places(
        {"road": road, "rail": G}, table, tolerance_km={"road": 5, "rail": 5}, min_component_km=1.0
    )
    assert G.nodes[links["t"]["rail"].node]["y"] == pytest.approx(36.03)


def test_toy_places_table() -> None:
    table = read_places(DATA / "toy_places.csv")
    assert list(table.places) == ["p_west", "p_east", "p_town", "p_spur"]
    assert table.names_en["p_west"] == "West yard"
    assert table.places["p_west"].modes == ("road", "rail")
    assert table.places["p_town"].modes == ("road",)
    assert table.origins["p_east"] == (str(DATA / "toy_places.csv"), "row 4")


def test_hundreds_of_places_link_to_the_nearest_line_of_a_big_graph() -> None:
    # 500 places on a 60k-edge grid (the batched search's size; its speed is measured in
    # benchmarks, not here): each joins its nearest line, at the km of that join
    rng = np.random.default_rng(1)
    lines = []
    for i in range(60_000):  # a 60k-edge grid-ish network
        x, y = 115 + (i % 300) * 0.01, 35 + (i // 300) * 0.01
        end = (x + 0.01, y) if i % 2 else (x, y + 0.01)
        lines.append(LineFeature(i + 1, (LineString([(x, y), end]),)))
    G = build_graph(lines, mode="road")
    places = {f"p{i}": Place(f"p{i}", "x", float(115 + rng.random() * 2.9),
                             float(35 + rng.random() * 1.9), "county") for i in range(500)}
    links = link_places({"road": G}, PlaceTable(places=places), tolerance_km={"road": 5})
    assert len(links) == 500
    segs = [ln.parts[0] for ln in lines]
    for pid in list(places)[::25]:  # a sample, against every line near it
        p = places[pid]
        link = links[pid]["road"]
        node = G.nodes[link.node]
        assert link.offset_km == pytest.approx(point_km(p.lon, p.lat, node["x"], node["y"]),
                                               abs=1e-9)  # fmt: skip
        near = [ln for ln in segs
                if abs(ln.centroid.x - p.lon) < 0.02 and abs(ln.centroid.y - p.lat) < 0.02]
        assert link.offset_km <= min(_nearest_km(ln, p.lon, p.lat) for ln in near) + 1e-6


def _nearest_km(line: LineString, lon: float, lat: float) -> float:
    """Geodesic km from (lon, lat) to a short straight line, by dense sampling."""
    from networks.io import GEOD

    t = np.linspace(0.0, 1.0, 2001)
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    _, _, m = GEOD.inv(np.full(len(t), lon), np.full(len(t), lat), xs, ys)
    return float(np.min(m)) / 1000.0


def test_batched_candidates_link_exactly_as_one_by_one() -> None:
    from networks.snapping import EdgeLocator

    rng = np.random.default_rng(3)
    lines = [
        LineFeature(
            i + 1,
            (
                LineString(
                    [
                        (116.0 + 0.05 * i, 36.0 + 0.02 * (i % 3)),
                        (116.05 + 0.05 * i, 36.05),
                        (116.1 + 0.05 * i, 36.0),
                    ]
                ),
            ),
        )
        for i in range(6)
    ]
    pts = [
        (float(x), float(y))
        for x, y in zip(rng.uniform(115.95, 116.4, 40), rng.uniform(35.95, 36.1, 40), strict=True)
    ]
    pts += pts[:5]  # the same points again, now next to nodes made by the first links
    G1, G2 = build_graph(lines, mode="road"), build_graph(lines, mode="road")
    one = EdgeLocator(G1)
    got1 = [one.link(x, y, max_km=5.0) for x, y in pts]
    many = EdgeLocator(G2)
    keeps = many.candidates([x for x, _ in pts], [y for _, y in pts], max_km=5.0)
    got2 = [many.link_from(k, x, y, max_km=5.0) for k, (x, y) in zip(keeps, pts, strict=True)]
    assert got1 == got2 and any(g is None for g in got1) and any(g for g in got1)
    assert list(G1.edges) == list(G2.edges)
    assert list(G1.nodes(data=True)) == list(G2.nodes(data=True))
