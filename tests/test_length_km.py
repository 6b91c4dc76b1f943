"""``length_km`` survives merging (lengths add) and splitting (prorated by the given
lengths, not by map distance) -- issue 15: three touching roads given as 399, 3000 and 401
km came out as 1467, 903 and 1430 km once places split the merged edge."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from networks import NetworkConfig, load_network, route
from networks.graph import KM_AT, split_edge
from tests.scenario_kit import PLACE_COLUMNS, csv_text, line, write_geojson


def _network(folder: Path, features: list[dict], places_x: list[float], *,
             cache: bool = False):  # type: ignore[no-untyped-def]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    write_geojson(folder / "road.geojson", features)
    write_geojson(folder / "rail.geojson", [line([(112.0, 30.0), (113.0, 30.0)])])
    places = [{"id": f"p{i}", "name": f"p{i}", "lon": x, "lat": 36.0, "kind": "city"}
              for i, x in enumerate(places_x)]  # fmt: skip
    (folder / "places.csv").write_text(csv_text(PLACE_COLUMNS, places), encoding="utf-8")
    config = NetworkConfig(road=str(folder / "road.geojson"), rail=str(folder / "rail.geojson"),
                           places=(str(folder / "places.csv"),))  # fmt: skip
    if cache:
        return load_network(config, cache_dir=folder / "cache")
    return load_network(config, use_cache=False)


@pytest.mark.parametrize("reverse", [False, True])
def test_three_roads_given_399_3000_401_km(tmp_path: Path, reverse: bool) -> None:
    """The issue's reproduction (plus a place in the middle of the 3000 km road); written
    in either order, so the merged edge runs either way."""
    feats = [line([(112.0, 36.0), (113.0, 36.0)], length_km=399),
             line([(113.0, 36.0), (113.5, 36.0), (114.0, 36.0)], length_km=3000),
             line([(114.0, 36.0), (115.0, 36.0)], length_km=401)]  # fmt: skip
    if reverse:
        feats = [line(list(reversed(f["geometry"]["coordinates"])), **f["properties"])
                 for f in reversed(feats)]  # fmt: skip
    net = _network(tmp_path, feats, [112.0, 113.0, 113.5, 114.0, 115.0])
    km = {(a, b): route(net, a, b, mode="road").km
          for a, b in [("p0", "p1"), ("p1", "p3"), ("p3", "p4"), ("p1", "p2"), ("p0", "p4")]}
    assert km[("p0", "p1")] == pytest.approx(399.0, abs=1e-6)
    assert km[("p1", "p3")] == pytest.approx(3000.0, abs=1e-6)
    assert km[("p3", "p4")] == pytest.approx(401.0, abs=1e-6)
    assert km[("p1", "p2")] == pytest.approx(1500.0, rel=1e-3)  # half the 3000 km road
    assert km[("p0", "p4")] == pytest.approx(3800.0, abs=1e-6)
    assert sum(d["length_km"] for _, _, d in net.graphs["road"].edges(data=True)) == \
        pytest.approx(3800.0, abs=1e-6)
    # a point given as lon,lat (not a place) is measured the same way
    assert route(net, "p0", "113.5,36.0", mode="road").km == pytest.approx(1899.0, rel=1e-3)


def test_merged_marks_survive_the_cache(tmp_path: Path) -> None:
    feats = [line([(112.0, 36.0), (113.0, 36.0)], length_km=100),
             line([(113.0, 36.0), (114.0, 36.0)], length_km=900)]  # fmt: skip
    built = _network(tmp_path / "a", feats, [112.0, 114.0], cache=True)
    cached = _network(tmp_path / "a", feats, [112.0, 114.0], cache=True)
    assert cached is not built
    marks = [d.get(KM_AT) for _, _, d in built.graphs["road"].edges(data=True)]
    assert marks == [d.get(KM_AT) for _, _, d in cached.graphs["road"].edges(data=True)]
    assert any(marks)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.floats(0.5, 5000.0)), min_size=2, max_size=6),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_splitting_a_merged_edge_gives_each_feature_its_km(
    feats: list[tuple[int, float]], at: float, at2: float
) -> None:
    """Features end to end along 36N, feature i spanning ``steps`` × 0.1° and given
    ``km``: two places anywhere split the merged edge, and the km from the start to each
    is the given km of the features before it plus its share of its own (by map length)."""
    from shapely.geometry import LineString

    from networks.graph import build_graph
    from networks.io import LineFeature
    from networks.simplification import simplify_graph

    x, lines, starts = 112.0, [], []
    for i, (steps, km) in enumerate(feats):
        pts = [(x + 0.1 * k, 36.0) for k in range(steps + 1)]
        starts.append((x, km))
        lines.append(LineFeature(i + 1, (LineString(pts),), length_km=km))
        x += 0.1 * steps
    total = sum(km for _, km in feats)
    G = simplify_graph(build_graph(lines, mode="road"))
    assert G.number_of_edges() == 1
    (u, v, d), = G.edges(data=True)
    assert d["length_km"] == pytest.approx(total)

    def expected(lon: float) -> float:
        done = 0.0
        for (x0, km), (steps, _) in zip(starts, feats, strict=True):
            span = 0.1 * steps
            if lon <= x0 + span + 1e-12:
                return done + km * max(0.0, lon - x0) / span
            done += km
        return done

    a, b = sorted((u, v), key=lambda n: G.nodes[n]["x"])  # a: the west end
    for frac in (at, at2):
        lon = 112.0 + frac * (x - 112.0)
        if abs(lon - 112.0 - round((lon - 112.0) / 0.1) * 0.1) < 1e-4:
            continue  # within ~10 m of a vertex (or the first split): split_edge snaps there
        # the edge (after the first split, one of two) holding lon, and the segment and
        # fraction of its stored geometry (which runs from its smaller node id)
        edge = next((p, q) for p, q in G.edges
                    if min(G.nodes[p]["x"], G.nodes[q]["x"]) - 1e-9 <= lon
                    <= max(G.nodes[p]["x"], G.nodes[q]["x"]) + 1e-9)  # fmt: skip
        xs = [c[0] for c in G.edges[edge]["geometry"].coords]
        if xs[0] > xs[-1]:
            seg = next(k for k in range(len(xs) - 1) if xs[k] >= lon >= xs[k + 1])
        else:
            seg = next(k for k in range(len(xs) - 1) if xs[k] <= lon <= xs[k + 1])
        t = (lon - xs[seg]) / (xs[seg + 1] - xs[seg])
        w = split_edge(G, edge[0], edge[1], seg, t)
        got = nx.shortest_path_length(G, a, w, weight="length_km")
        assert got == pytest.approx(expected(lon), rel=1e-4, abs=1e-3)
    assert sum(dd["length_km"] for _, _, dd in G.edges(data=True)) == pytest.approx(total)
