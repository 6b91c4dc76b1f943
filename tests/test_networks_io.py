"""Readers of line layers and tables: formats, and one-line errors naming file/feature/field."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from networks import InputErrors, NetworkConfig
from networks.io import geodesic_km, read_line_layer, read_table
from networks.loading import build_network
from networks.places import read_places

DATA = Path(__file__).parent / "data"


def _write(tmp_path: Path, gdf: gpd.GeoDataFrame, name: str) -> str:
    path = tmp_path / name
    driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[path.suffix]
    gdf.to_file(path, driver=driver, engine="pyogrio")
    return str(path)


def _lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["甲线", "乙线"], "capacity_t": [1e6, None], "freight": ["true", "false"]},
        geometry=[
            LineString([(116.0, 36.0), (116.1, 36.0)]),
            LineString([(116.1, 36.0), (116.1, 36.1)]),
        ],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("name", ["l.geojson", "l.gpkg", "l.shp"])
def test_reads_every_format_the_same(tmp_path: Path, name: str) -> None:
    feats = read_line_layer(_write(tmp_path, _lines(), name))
    assert [f.name for f in feats] == ["甲线", "乙线"]
    assert feats[0].capacity_t == 1e6 and math.isinf(feats[1].capacity_t)
    assert feats[0].freight is True and feats[1].freight is False
    # 0.1 deg of longitude at 36N is ~9.02 km
    assert geodesic_km(__import__("numpy").array(feats[0].parts[0].coords)) == pytest.approx(
        9.02, abs=0.02
    )


def test_multilinestring_parts_are_lines(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"length_km": [12.5]},
        geometry=[MultiLineString([[(116, 36), (116.1, 36)], [(117, 36), (117.1, 36)]])],
        crs="EPSG:4326",
    )
    feats = read_line_layer(_write(tmp_path, gdf, "m.geojson"))
    assert len(feats[0].parts) == 2 and feats[0].length_km == 12.5


def test_pipeline_commodities_default_to_oil(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"commodities": [None, "oil;chlorine"]},
        geometry=[LineString([(116, 36), (116.1, 36)]), LineString([(116.1, 36), (116.2, 36)])],
        crs="EPSG:4326",
    )
    feats = read_line_layer(_write(tmp_path, gdf, "p.geojson"), mode="pipeline")
    assert feats[0].commodities == frozenset({"oil"})
    assert feats[1].commodities == frozenset({"oil", "chlorine"})


def _one_error(exc: pytest.ExceptionInfo[InputErrors], file: str, where: str, field: str) -> str:
    line = str(exc.value)
    assert "\n" not in line, line
    assert line.startswith(f"{file}: {where}: field '{field}': "), line
    return line


def test_points_in_line_layer(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        geometry=[LineString([(116, 36), (116.1, 36)]), Point(116, 36)], crs="EPSG:4326"
    )
    f = _write(tmp_path, gdf, "mixed.geojson")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    assert "Point" in _one_error(exc, f, "feature 2", "geometry")


def test_projected_coordinates_given_as_degrees(tmp_path: Path) -> None:
    f = tmp_path / "proj.geojson"
    f.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"LineString","coordinates":[[500000,4000000],[501000,4000000]]}}]}'
    )
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    assert "degrees" in _one_error(exc, str(f), "feature 1", "geometry")


def test_projected_crs(tmp_path: Path) -> None:
    gdf = _lines().to_crs(32650)
    f = _write(tmp_path, gdf, "utm.gpkg")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    assert "projected" in _one_error(exc, f, "layer", "crs")


def test_empty_layer(tmp_path: Path) -> None:
    f = tmp_path / "empty.geojson"
    f.write_text('{"type":"FeatureCollection","features":[]}')
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    assert "empty" in _one_error(exc, str(f), "layer", "geometry")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputErrors) as exc:
        read_line_layer(tmp_path / "nope.gpkg")
    assert "not found" in _one_error(exc, str(tmp_path / "nope.gpkg"), "file", "path")
    bad = tmp_path / "junk.gpkg"
    bad.write_bytes(b"\x00\x01 this is not a geopackage")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(bad)
    assert "cannot read" in _one_error(exc, str(bad), "file", "format")


def test_bad_capacity_is_named(tmp_path: Path) -> None:
    gdf = _lines()
    gdf["capacity_t"] = ["lots", "-5"]
    f = _write(tmp_path, gdf, "cap.geojson")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(f"{f}: feature 1: field 'capacity_t': ")
    assert lines[1].startswith(f"{f}: feature 2: field 'capacity_t': ")


def _places(tmp_path: Path, rows: str) -> str:
    f = tmp_path / "places.csv"
    f.write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n" + rows, encoding="utf-8"
    )
    return str(f)


def test_unknown_mode_and_duplicate_ids(tmp_path: Path) -> None:
    f = _places(
        tmp_path,
        "a,甲,116,36,station,road;ship,,,x\n"
        "b,乙,116,36,station,rail,,,x\n"
        "b,丙,116,36,station,rail,,,x\n",
    )
    with pytest.raises(InputErrors) as exc:
        read_places(f)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(f"{f}: row 2: field 'modes': unknown mode 'ship'")
    assert lines[1].startswith(f"{f}: row 4: field 'id': duplicate place id 'b'")


def test_place_coordinates_and_numbers(tmp_path: Path) -> None:
    f = _places(tmp_path, "a,甲,500000,36,station,road,,,x\nb,乙,116,36,station,road,cheap,,x\n")
    with pytest.raises(InputErrors) as exc:
        read_places(f)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(f"{f}: row 2: field 'lon': ")
    assert lines[1].startswith(f"{f}: row 3: field 'handling_cny_per_t': ")


def test_places_from_point_layer(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["甲"], "kind": ["port"], "modes": ["road;rail"]},
        geometry=[Point(116.5, 36.5)],
        crs="EPSG:4326",
    )
    table = read_places(_write(tmp_path, gdf, "pts.gpkg"))
    p = table.places["a"]
    assert (p.lon, p.lat, p.modes) == (116.5, 36.5, ("road", "rail"))
    assert math.isinf(p.capacity_t)


def test_terminal_far_from_rail_is_an_input_error(tmp_path: Path) -> None:
    f = _places(tmp_path, "far,远站,116.25,36.30,station,road;rail,,,x\n")  # 30 km N of rail
    cfg = NetworkConfig(
        road=str(DATA / "toy_road.geojson"),
        rail=str(DATA / "toy_rail.geojson"),
        places=f,
        link_tolerance_km={"road": 50.0, "rail": 5.0, "pipeline": 5.0},
    )
    with pytest.raises(InputErrors) as exc:
        build_network(cfg)
    line = _one_error(exc, f, "row 2", "modes")
    assert "claims rail" in line and "30.0 km away" in line


def test_all_problems_gathered_across_files(tmp_path: Path) -> None:
    f = _places(tmp_path, "a,甲,116,36,station,road;boat,,,x\n")
    cfg = NetworkConfig(
        road=str(tmp_path / "missing.gpkg"), rail=str(DATA / "toy_rail.geojson"), places=f
    )
    with pytest.raises(InputErrors) as exc:
        build_network(cfg)
    assert len(exc.value.errors) == 2


def test_read_table_skips_comments_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("\ufeff# comment\nid,x\n\na,1\n# more\nb,2\n", encoding="utf-8")
    rows = read_table(f, required=["id"])
    assert rows == [(4, {"id": "a", "x": "1"}), (6, {"id": "b", "x": "2"})]


def test_numeric_columns_parsed_at_once_give_the_same_values_and_errors(tmp_path: Path) -> None:
    gdf = _lines()
    gdf["capacity_t"] = [-5.0, None]  # a float column: parsed in one go
    gdf["length_km"] = [None, 3]
    f = _write(tmp_path, gdf, "num.geojson")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(f)
    assert str(exc.value) == (
        f"{f}: feature 1: field 'capacity_t': expected a number >= 0, got -5.0"
    )
    gdf["capacity_t"] = [2e6, None]
    feats = read_line_layer(_write(tmp_path, gdf, "num2.geojson"))
    assert feats[0].capacity_t == 2e6 and math.isinf(feats[1].capacity_t)
    assert feats[0].length_km is None and feats[1].length_km == 3.0
    assert [f.freight for f in feats] == [True, False]


def test_unreadable_geojson_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "junk.geojson"
    bad.write_text("{ not json")
    with pytest.raises(InputErrors) as exc:
        read_line_layer(bad)
    assert "cannot read" in _one_error(exc, str(bad), "file", "format")


def test_cached_network_is_the_built_one(tmp_path: Path) -> None:
    import shapely

    from networks.loading import load_network

    config = NetworkConfig(
        road=str(DATA / "toy_road.geojson"),
        rail=str(DATA / "toy_rail.geojson"),
        places=(str(DATA / "toy_places.csv"),),
    )
    built = load_network(config, cache_dir=tmp_path)
    assert list(tmp_path.glob("*.netcache"))
    cached = load_network(config, cache_dir=tmp_path)
    assert cached is not built
    for mode, G in built.graphs.items():
        H = cached.graphs[mode]
        assert list(G.edges) == list(H.edges) and G.graph == H.graph
        for (_, _, d), (_, _, e) in zip(G.edges(data=True), H.edges(data=True), strict=True):
            assert list(d) == list(e)  # the geometry keeps its place among the attributes
            assert shapely.equals_exact(d["geometry"], e["geometry"], tolerance=0.0)
            assert {k: v for k, v in d.items() if k != "geometry"} == {
                k: v for k, v in e.items() if k != "geometry"
            }
    assert cached.links == built.links
