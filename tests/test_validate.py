"""``freight validate`` makes every check ``freight run`` makes before solving and reports
them all at once; each "bad input that passes" of issue 15 is now one exit-2 line naming
the file, the row or feature and the field, from both commands, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest

from freight.cli import main
from tests.scenario_kit import DEFAULT_FLOWS, DEFAULT_PLACES, line, write_scenario

ROOT = Path(__file__).resolve().parents[1]
XS = [112.0 + 0.5 * i for i in range(10)]
BROKEN_ROAD = [line([(112.0, 36.0), (114.0, 36.0)]), line([(114.5, 36.0), (116.5, 36.0)])]
BROKEN_RAIL = [line([(112.0, 36.02), (114.0, 36.02)]), line([(114.5, 36.02), (116.5, 36.02)])]


def _nan_coordinate(d: Path) -> tuple[Path, str]:
    toml = write_scenario(d)
    road = d / "road.geojson"
    road.write_text(road.read_text().replace("[113.0, 36.0]]", "[NaN, 36.0]]", 1))
    return toml, f"{road}: feature 2: field 'geometry': coordinate (nan, 36) is not a number"


def _pipeline_unknown_commodity(d: Path) -> tuple[Path, str]:
    places = [*DEFAULT_PLACES, {"id": "p1", "name": "管1", "lon": 112.0, "lat": 36.04,
                                "kind": "pipeline_terminal", "modes": "road;pipeline"}]  # fmt: skip
    toml = write_scenario(d, places=places, pipeline=[
        line([(112.0, 36.04), (116.5, 36.04)], commodities="oil"),
        line([(112.0, 36.04), (112.0, 36.2)], commodities="oil;gas")])  # fmt: skip
    return toml, (f"{d / 'pipeline.geojson'}: feature 2: field 'commodities': unknown "
                  "commodity 'gas'")  # fmt: skip


def _shapefile_without_dbf(d: Path) -> tuple[Path, str]:
    toml = write_scenario(d)
    gpd.read_file(d / "road.geojson").to_file(d / "road.shp", driver="ESRI Shapefile")
    (d / "road.dbf").unlink()
    toml.write_text(toml.read_text().replace('road = "road.geojson"', 'road = "road.shp"'))
    return toml, f"{d / 'road.shp'}: file: field 'dbf': no road.dbf beside it"


def _no_flow_rows(d: Path) -> tuple[Path, str]:
    return write_scenario(d, flows=[]), f"{d / 'flows.csv'}: table: field '(rows)': no flows"


def _no_route_at_all_soft(d: Path) -> tuple[Path, str]:
    toml = write_scenario(d, enforcement="soft", road=BROKEN_ROAD, rail=BROKEN_RAIL)
    return toml, f"{d / 'flows.csv'}: row 2: field 'destination': no route at all"


def _no_road_route_on_road_today(d: Path) -> tuple[Path, str]:
    toml = write_scenario(d, enforcement="soft", road=BROKEN_ROAD)
    return toml, f"{d / 'flows.csv'}: row 2: field 'origin': no road route joins s_mine"


def _one_point_linestring(d: Path) -> tuple[Path, str]:
    road = [line([(x, 36.0), (x + 0.5, 36.0)]) for x in XS[:-1]] + [line([(113.0, 36.3)])]
    return write_scenario(d, road=road), (f"{d / 'road.geojson'}: feature 10: field "
                                          "'geometry': not a valid line")  # fmt: skip


def _geopackage_of_several_layers_none_named(d: Path) -> tuple[Path, str]:
    toml = write_scenario(d)
    gpkg = d / "lines.gpkg"
    gpd.read_file(d / "rail.geojson").to_file(gpkg, layer="tracks", driver="GPKG")
    gpd.read_file(d / "road.geojson").to_file(gpkg, layer="roads", driver="GPKG")
    toml.write_text(toml.read_text().replace('rail = "rail.geojson"', 'rail = "lines.gpkg"'))
    return toml, f"{gpkg}: layer: field 'layer': no layer 'rail'; layers are tracks, roads"


def _terminal_30_km_from_its_rail(d: Path) -> tuple[Path, str]:
    places = [dict(p) for p in DEFAULT_PLACES]
    places[0].update(lat=36.29, lon=112.01)
    road = [line([(x, 36.0), (x + 0.5, 36.0)]) for x in XS[:-1]]
    road.append(line([(112.0, 36.0), (112.0, 36.3)]))  # so that only rail is far
    return write_scenario(d, places=places, road=road), (
        f"{d / 'places.csv'}: row 2: field 'modes': place 't_west' (西站) claims rail but "
        "the nearest freight rail line is 30.")


def _tonnes_below_a_tonne(d: Path) -> tuple[Path, str]:
    flows = [DEFAULT_FLOWS[0], dict(DEFAULT_FLOWS[0], id="F2", tonnes_per_year="1e-12")]
    expected = f"{d / 'flows.csv'}: row 3: field 'tonnes_per_year': 1e-12 t a year is below 1 t"
    return write_scenario(d, flows=flows), expected


def _extends_1000_deep(d: Path) -> tuple[Path, str]:
    write_scenario(d)
    for i in range(1000):
        (d / f"e{i}.toml").write_text(f'extends = "{"s.toml" if i == 0 else f"e{i - 1}.toml"}"\n')
    return d / "e999.toml", "field 'extends': a chain of more than 16 files"


CASES: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "nan coordinates": _nan_coordinate,
    "pipeline naming an unknown commodity": _pipeline_unknown_commodity,
    "Shapefile without its .dbf": _shapefile_without_dbf,
    "flows table with no rows": _no_flow_rows,
    "no route at all, soft rule": _no_route_at_all_soft,
    "no road route for a flow on the road": _no_road_route_on_road_today,
    "one-point LineString": _one_point_linestring,
    "GeoPackage of several layers, none named": _geopackage_of_several_layers_none_named,
    "terminal 30 km from the rail it claims": _terminal_30_km_from_its_rail,
    "tonnes below the solver's resolution": _tonnes_below_a_tonne,
    "extends chain of 1,000 files": _extends_1000_deep,
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_exit_2_line_from_validate_and_from_run(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml, expected = CASES[case](tmp_path / "s")
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    hits = [line for line in err if expected in line]
    assert len(hits) == 1, err
    assert err[-1].endswith("problem(s) found")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(expected in line for line in err), err
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()


def test_validate_reports_every_stage_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flow row (tables), a pipeline of an unknown commodity and a terminal 30 km
    from its rail (network): one validate lists all three."""
    d = tmp_path / "s"
    toml, far = _terminal_30_km_from_its_rail(d)
    _, pipe = _pipeline_unknown_commodity(tmp_path / "p")
    (d / "pipeline.geojson").write_bytes((tmp_path / "p" / "pipeline.geojson").read_bytes())
    with_pipe = 'places = "places.csv"\npipeline = "pipeline.geojson"'
    toml.write_text(toml.read_text().replace('places = "places.csv"', with_pipe))
    flows = (d / "flows.csv").read_text() + "F2,coal,s_mine,s_plant,0.5,road,电厂,test,\n"
    (d / "flows.csv").write_text(flows)
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err
    assert far in err
    assert pipe.replace(str(tmp_path / "p"), str(d)) in err
    assert f"{d / 'flows.csv'}: row 3: field 'tonnes_per_year'" in err
    assert err.strip().splitlines()[-1] == "3 problem(s) found"


def test_a_sound_scenario_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write_scenario(tmp_path / "s"))]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("tables, layers, network and flows are valid")
    assert out[-1].startswith("scenario is valid")


@pytest.mark.parametrize("what", ["fifo layer", "/dev/zero layer", "/dev/zero table",
                                  "fifo scenario"])  # fmt: skip
def test_only_regular_files_are_read(what: str, tmp_path: Path) -> None:
    """The issue: a layer path that is a FIFO or /dev/zero hung. In a subprocess with a
    timeout, so a regression fails instead of hanging the suite."""
    toml = write_scenario(tmp_path / "s")
    text = toml.read_text()
    if what == "fifo layer":
        os.mkfifo(tmp_path / "s" / "r.geojson")
        toml.write_text(text.replace('rail = "rail.geojson"', 'rail = "r.geojson"'))
    elif what == "/dev/zero layer":
        toml.write_text(text.replace('rail = "rail.geojson"', 'rail = "/dev/zero"'))
    elif what == "/dev/zero table":
        toml.write_text(text.replace('file = "flows.csv"', 'file = "/dev/zero"'))
    else:
        toml = tmp_path / "s" / "pipe.toml"
        os.mkfifo(toml)
    for cmd in (["validate"], ["run", "--no-maps", "--out", str(tmp_path / "out")]):
        r = subprocess.run([sys.executable, "-m", "freight.cli", cmd[0], str(toml), *cmd[1:]],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert r.returncode == 2, r.stderr
        assert "not a regular file" in r.stderr
    assert not (tmp_path / "out").exists()


def test_small_flows_do_not_vanish(tmp_path: Path) -> None:
    """The other side of refusing flows under 1 t: a 1 t flow beside a 10^8 t one is in
    the result with its tonne."""
    flows = [dict(DEFAULT_FLOWS[0], tonnes_per_year=1e8),
             dict(DEFAULT_FLOWS[0], id="F2", tonnes_per_year=1, commodity="oil")]  # fmt: skip
    toml = write_scenario(tmp_path / "s", flows=flows, rail_capacity_t=5e7, enforcement="soft")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 0
    import csv

    with open(out / "flows.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["flow_id"] == "F2"]
    assert sum(float(r["tonnes"]) for r in rows) == pytest.approx(1.0, abs=1e-9)
