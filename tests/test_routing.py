"""Routing on the toy network, the summary, and the load cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from networks import InputError, NetworkConfig, load_network, route, summarize
from networks.io import point_km

DATA = Path(__file__).parent / "data"


def _config(tmp: Path | None = None) -> NetworkConfig:
    d = DATA if tmp is None else tmp
    return NetworkConfig(
        road=str(d / "toy_road.geojson"),
        rail=str(d / "toy_rail.geojson"),
        places=str(d / "toy_places.csv"),
        rail_lines=str(d / "toy_rail_lines.csv"),
        rail_line_stations=str(d / "toy_rail_line_stations.csv"),
    )


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory):
    return load_network(_config(), cache_dir=tmp_path_factory.mktemp("cache"))


def test_rail_route_avoids_high_speed_track(net) -> None:
    r = route(net, "p_west", "p_east", mode="rail")
    assert r.lines == ["toy_conv"]
    ys = [c[1] for c in r.geometry.coords]
    assert max(ys) < 36.01  # never on the HSR at 36.03
    links = net.links
    offsets = links["p_west"]["rail"].offset_km + links["p_east"]["rail"].offset_km
    G = net.graphs["rail"]
    track = sum(G.edges[u, v]["length_km"] for u, v in zip(r.nodes, r.nodes[1:], strict=False))
    assert r.km == pytest.approx(track + offsets)
    assert r.km == pytest.approx(40.5 + 2 * 0.555, abs=0.3)


def test_route_lines_in_order_without_repeats(net) -> None:
    r = route(net, "p_west", "p_spur", mode="rail")
    assert r.lines == ["toy_conv", "toy_spur"]


def test_endpoints_by_id_name_name_en_and_lonlat(net) -> None:
    by_id = route(net, "p_west", "p_town", mode="road")
    assert route(net, "西站", "中镇", mode="road").km == pytest.approx(by_id.km)
    assert route(net, "West yard", "Middle town", mode="road").km == pytest.approx(by_id.km)
    edges_before = net.graphs["road"].number_of_edges()
    r = route(net, "116.02,35.995", "116.26,35.97", mode="road")
    assert r.km == pytest.approx(by_id.km, abs=0.05)
    assert net.graphs["road"].number_of_edges() == edges_before  # the graph is not touched


def test_lonlat_on_one_edge_goes_straight_along_it(net) -> None:
    r = route(net, "116.0,35.981", "116.1,35.981", mode="road")
    assert r.km == pytest.approx(point_km(116.0, 35.98, 116.1, 35.98) + 2 * 0.111, abs=0.02)


def test_place_without_terminal_routes_from_its_point(net) -> None:
    """A place with no rail terminal is measured from its point to the nearest rail line."""
    town = net.places["p_town"]
    assert "rail" not in net.links["p_town"]
    by_place = route(net, "p_town", "p_west", mode="rail")
    by_point = route(net, f"{town.lon},{town.lat}", "p_west", mode="rail")
    assert by_place.km == pytest.approx(by_point.km)


def test_routing_errors_are_input_errors(net) -> None:
    with pytest.raises(InputError, match="not a place id"):
        route(net, "nowhere", "p_west", mode="road")
    with pytest.raises(InputError, match="unknown mode"):
        route(net, "p_town", "p_west", mode="ship")


def test_summary(net) -> None:
    s = summarize(net)
    assert set(s) >= {"road", "rail", "pipeline"}
    for mode in ("road", "rail", "pipeline"):
        assert set(s[mode]) >= {"nodes", "edges", "km", "components", "places_linked"}
    assert s["road"]["places_linked"] == 4 and s["rail"]["places_linked"] == 3
    assert s["pipeline"] == {"nodes": 0, "edges": 0, "km": 0.0, "components": 0, "places_linked": 0}
    assert s["rail"]["components"] == 1


def test_cache_hit_and_invalidation(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(DATA, src, ignore=shutil.ignore_patterns("scenario"))
    cache = tmp_path / "cache"
    cfg = _config(src)
    t0 = time.perf_counter()
    a = load_network(cfg, cache_dir=cache)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = load_network(cfg, cache_dir=cache)
    warm = time.perf_counter() - t0
    print(f"toy network cold {cold:.3f} s, warm {warm:.3f} s")
    assert len(list(cache.glob("*.netcache"))) == 1
    assert summarize(a) == summarize(b)
    places = src / "toy_places.csv"
    places.write_text(
        places.read_text(encoding="utf-8").replace("116.26,35.97", "116.36,35.97"), encoding="utf-8"
    )
    c = load_network(cfg, cache_dir=cache)
    assert c.places["p_town"].lon == 116.36
    assert len(list(cache.glob("*.netcache"))) == 2


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREIGHT_CACHE_DIR", str(tmp_path / "env-cache"))
    load_network(_config())
    assert list((tmp_path / "env-cache").glob("*.netcache"))
    bad = next((tmp_path / "env-cache").glob("*.netcache"))
    bad.write_bytes(b"garbage")  # a corrupt entry is rebuilt, not an error
    assert load_network(_config()).places
    assert os.path.getsize(bad) > 100
