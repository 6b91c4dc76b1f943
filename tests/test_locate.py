"""Where a point sits on the networks (``freight locate``), and link distances in
``freight validate``: a station 3 km off the track is warned about, one beyond the
tolerance is an error that gives the nearest point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from freight.cli import main
from networks.io import point_km
from networks.locate import bd09_to_gcj02, gcj02_to_wgs84, wgs84_to_gcj02
from tests.test_cli import _write

KM_PER_DEG_LAT = 110.95  # at 36N


def _scenario(tmp_path: Path, station_lat: float) -> Path:
    """The tiny CLI scenario (rail along 36.02N, 112-116.5E) with the east terminal moved
    ``station_lat`` north, and a passenger-only line at 36.06N."""
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    places = tmp_path / "places.csv"
    places.write_text(
        places.read_text(encoding="utf-8").replace(
            "t_east,东站,116.49,36.01", f"t_east,东站,116.49,{station_lat}"
        ),
        encoding="utf-8",
    )
    rail = json.loads((tmp_path / "rail.geojson").read_text(encoding="utf-8"))
    rail["features"].append(
        {
            "type": "Feature",
            "properties": {"freight": False, "name": "高铁"},
            "geometry": {"type": "LineString", "coordinates": [[115.0, 36.06], [116.6, 36.06]]},
        }
    )
    (tmp_path / "rail.geojson").write_text(json.dumps(rail), encoding="utf-8")
    return toml


def _add_spur(folder: Path) -> None:
    """A north-south freight spur at 116.3E, 36.02-36.3N: at 36N the GCJ-02 shift is
    ~0.5 km east, which a line running north shows (one running east hides it)."""
    rail = json.loads((folder / "rail.geojson").read_text(encoding="utf-8"))
    rail["features"].append(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[116.3, 36.02], [116.3, 36.3]]},
        }
    )
    (folder / "rail.geojson").write_text(json.dumps(rail), encoding="utf-8")


def test_a_station_3_km_off_the_track_is_warned_about(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, 36.02 + 3.0 / KM_PER_DEG_LAT)
    assert main(["validate", str(toml)]) == 0
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("t_east"))
    assert "3.00" in row  # its rail link distance is printed
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    (warning,) = [line for line in warnings if "'t_east'" in line]
    assert "3.00 km" in warning and "charged as rail" in warning
    assert "116.490000,36.020000" in warning  # the point it is joined to
    # the other terminal is 1.11 km off (36.01 vs 36.02): over 1 km too
    assert len(warnings) == 2 and "2 warning(s)" in out


def test_beyond_the_tolerance_the_error_gives_the_nearest_point(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, 36.02 - 6.8 / KM_PER_DEG_LAT)
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "t_east" in x]
    assert "6.8 km away at 116.490000,36.020000" in line
    assert "link_tolerance_km.rail = 5 km" in line and "freight locate" in line


def test_locate_a_point(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, 36.01)
    assert main(["locate", "116.2,36.055", str(toml), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    rail = got["nearest"]["rail"]
    # the freight line at 36.02 (3.9 km), not the passenger line at 36.06 (0.55 km)
    assert rail["lat"] == pytest.approx(36.02) and rail["lon"] == pytest.approx(116.2)
    assert rail["km"] == pytest.approx(point_km(116.2, 36.055, 116.2, 36.02), rel=1e-4)
    assert rail["links"] is True and rail["tolerance_km"] == 5.0
    assert "passenger-only" in rail["note"] and "高铁" in rail["note"]
    assert got["nearest"]["road"]["lat"] == pytest.approx(36.0)
    assert got["nearest"]["pipeline"] is None
    assert main(["locate", "116.2,35.9", str(toml)]) == 0  # 13.3 km: would not be joined
    text = capsys.readouterr().out
    assert "rail" in text and "joined: no (more than link_tolerance_km.rail = 5 km)" in text


def test_locate_a_place_reports_its_own_links(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, 36.01)
    assert main(["locate", "东站", str(toml), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["place"] == "t_east"
    assert got["nearest"]["rail"]["km"] == pytest.approx(
        point_km(116.49, 36.01, 116.49, 36.02), rel=1e-4
    )


@pytest.mark.parametrize("bad", ["36.05,116.2", "abc", "500000,4000000"])
def test_locate_rejects_what_is_not_a_point(tmp_path: Path, capsys, bad: str) -> None:
    toml = _scenario(tmp_path, 36.01)
    assert main(["locate", bad, str(toml)]) == 2
    err = capsys.readouterr().err
    assert ("swapped" in err) == (bad == "36.05,116.2")


def test_gcj02_round_trip_and_size_of_the_shift() -> None:
    for lon, lat in ((115.98, 36.45), (116.39, 39.91), (121.47, 31.23)):
        g = wgs84_to_gcj02(lon, lat)
        back = gcj02_to_wgs84(*g)
        assert back == pytest.approx((lon, lat), abs=1e-8)
        assert 0.2 < point_km(lon, lat, *g) < 0.8  # "about 500 m" (DATA-SOURCES.md)
    # the shift near Beijing is east-north-east: ~+0.006 lon, ~+0.0014 lat
    dx, dy = (a - b for a, b in zip(wgs84_to_gcj02(116.39, 39.91), (116.39, 39.91), strict=True))
    assert 0.004 < dx < 0.008 and 0.0005 < dy < 0.0025
    # BD-09 is GCJ-02 shifted again by ~(0.0065, 0.006)
    gx, gy = bd09_to_gcj02(116.4, 39.92)
    assert 0.005 < 116.4 - gx < 0.008 and 0.005 < 39.92 - gy < 0.008


def test_gcj02_coordinates_are_recognised(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, 36.01)
    _add_spur(tmp_path)
    lon, lat = wgs84_to_gcj02(116.3, 36.2)  # a point on the spur, as 高德 shows it
    assert main(["locate", f"{lon},{lat}", str(toml)]) == 0
    out = capsys.readouterr().out
    (hint,) = [x for x in out.splitlines() if x.startswith("hint:")]
    assert "GCJ-02" in hint and "116.300000,36.200000" in hint


def test_validate_warns_about_a_station_in_gcj02(tmp_path: Path, capsys) -> None:
    """0.5 km off the track is under the 1 km warning, but not silent when it is GCJ-02."""
    toml = _scenario(tmp_path, 36.01)
    _add_spur(tmp_path)
    lon, lat = wgs84_to_gcj02(116.3, 36.06)
    with open(tmp_path / "places.csv", "a", encoding="utf-8") as fh:
        fh.write(f"t_spur,支线站,{lon:.6f},{lat:.6f},station,road;rail,10,,test\n")
    assert main(["validate", str(toml)]) == 0
    (warning,) = [x for x in capsys.readouterr().err.splitlines() if "'t_spur'" in x]
    assert "GCJ-02" in warning and "116.300000,36.060000" in warning
    assert "truck movement" not in warning  # it is under 1 km: only the datum is wrong
