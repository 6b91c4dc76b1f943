"""Errors at the boundary a planner meets first: the wrong encoding, a commodity written in
Chinese, swapped coordinates -- each named for what it is, once, with the way out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from freight.cli import main
from freight.scenario import validate
from networks import InputErrors
from networks.csvtable import encoding_problem, read_table
from networks.io import lonlat_problem, read_line_layer
from networks.lines import read_rail_lines
from networks.places import read_places
from tests.test_cli import _write

PLACES = (
    "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
    "t_west,西站,112.01,36.01,station,road;rail,10,,test\n"
    "t_east,东站,116.49,36.01,station,road;rail,10,,test\n"
    "s_mine,煤矿,112.02,36.0,mine,road,,,test\n"
    "s_plant,电厂,116.48,36.0,plant,road,,,test\n"
)


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": field '" in line]


def test_gbk_places_are_named_gbk_with_the_row_and_how_to_save(tmp_path: Path) -> None:
    f = tmp_path / "places.csv"
    f.write_bytes(PLACES.encode("gbk"))
    with pytest.raises(InputErrors) as exc:
        read_places(f)
    (e,) = exc.value.errors
    assert e.where == "row 2"  # the first line holding a Chinese character
    assert e.field == "(encoding)"
    assert "GBK" in e.problem and "CSV UTF-8" in e.problem


def test_gbk_that_happens_to_be_valid_utf8_is_caught(tmp_path: Path) -> None:
    """煤炭 in GBK is c3ba ccbf, which UTF-8 reads as 'ú̿': a silent garble without this."""
    f = tmp_path / "t.csv"
    f.write_bytes("id,name_zh\ncoal,煤炭\n".encode("gbk"))
    errors: list = []
    assert read_table(f, required=("id",), errors=errors) == []
    assert [(e.where, e.field) for e in errors] == [("row 2", "(encoding)")]
    f.write_text("id,name_en\nlv,Lüliang café\n", encoding="utf-8")  # accents are not GBK
    errors = []
    assert read_table(f, required=("id",), errors=errors)[0].cells["name_en"] == "Lüliang café"
    assert errors == []


def test_other_encodings_are_not_called_gbk() -> None:
    assert "UTF-16" in encoding_problem("id,name\n1,煤\n".encode("utf-16"))
    latin = "id,name\n1,Düsseldorf café crème\n".encode("cp1252")
    problem = encoding_problem(latin)
    assert "GBK" not in problem and "Windows-1252" in problem and "CSV UTF-8" in problem


@pytest.mark.parametrize("table", ["places.csv", "commodities.csv"])
def test_an_unreadable_table_gives_one_error_and_no_follow_on(
    tmp_path: Path, table: str, capsys
) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    path = tmp_path / table
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    problems = validate(toml)
    assert [p.field for p in problems] == ["(encoding)"], [p.line() for p in problems]
    assert problems[0].file == str(path)
    assert main(["validate", str(toml)]) == 2
    assert len(_lines(capsys.readouterr().err)) == 1


def test_a_missing_places_file_does_not_make_every_flow_unknown(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    (tmp_path / "places.csv").unlink()
    problems = validate(toml)
    assert problems and not any("unknown place id" in p.problem for p in problems)


@pytest.mark.parametrize("name", ["煤炭", "Coal", " coal "])
def test_a_commodity_given_by_its_name_is_the_commodity(tmp_path: Path, name: str) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    flows = tmp_path / "flows.csv"
    flows.write_text(
        flows.read_text(encoding="utf-8").replace(",coal,", f",{name},"), encoding="utf-8"
    )
    assert validate(toml) == []
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(s["states"]["with_rule"]["by_commodity"]) == {"coal"}
    assert s["states"]["with_rule"]["tonnes"]["rail"] == pytest.approx(1000)  # eligible: the rule


def test_the_rule_takes_commodity_names_too(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('["coal"]', '["煤炭"]'), encoding="utf-8"
    )
    assert validate(toml) == []


def test_an_unknown_commodity_suggests_the_tables_names(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    flows = tmp_path / "flows.csv"
    flows.write_text(
        flows.read_text(encoding="utf-8").replace(",coal,", ",煤 炭,"), encoding="utf-8"
    )
    (p,) = validate(toml)
    assert p.where == "row 2" and p.field == "commodity"
    assert "did you mean 'coal (煤炭)'" in p.problem


def test_swapped_lon_lat_is_named_swapped(tmp_path: Path) -> None:
    f = tmp_path / "places.csv"
    f.write_text(PLACES.replace("116.48,36.0", "36.0,116.48"), encoding="utf-8")
    with pytest.raises(InputErrors) as exc:
        read_places(f)
    (e,) = exc.value.errors
    assert (e.where, e.field) == ("row 5", "lon/lat")
    assert "swapped" in e.problem and "projected" not in e.problem


def test_swapped_is_told_from_projected() -> None:
    assert lonlat_problem(116.0, 36.0) is None
    assert "swapped" in (lonlat_problem(36.45, 115.97) or "")
    assert "swapped" in (lonlat_problem(39.9, 80.0) or "")  # in range, but in China only swapped
    assert "projected" in (lonlat_problem(500000.0, 4000000.0) or "")
    assert lonlat_problem(2.35, 48.85) is None  # Paris is a real point


def test_swapped_station_and_layer_coordinates(tmp_path: Path) -> None:
    lines = tmp_path / "rail_lines.csv"
    lines.write_text("line_id,name_zh,capacity_t,freight\nx,X线,,true\n", encoding="utf-8")
    stations = tmp_path / "rail_line_stations.csv"
    stations.write_text(
        "line_id,seq,station,lon,lat\nx,1,甲,116.0,36.0\nx,2,乙,36.1,116.1\n", encoding="utf-8"
    )
    with pytest.raises(InputErrors) as exc:
        read_rail_lines(lines, stations)
    assert any(e.where == "row 3" and "swapped" in e.problem for e in exc.value.errors)
    layer = tmp_path / "rail.geojson"
    layer.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[36.0, 116.0], [36.1, 116.1]],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputErrors) as exc:
        read_line_layer(layer, mode="rail")
    (e,) = exc.value.errors
    assert e.where == "feature 1" and "swapped" in e.problem


def test_one_boolean_parser_for_every_table_and_layer(tmp_path: Path) -> None:
    # the layers' properties (networks.io) and the scenario's tables (freight.tables)
    # read a yes/no cell the same way: the same words, the same error
    from freight.tables import read_commodities
    from networks.io import FALSE_WORDS, TRUE_WORDS, parse_bool

    words = sorted(TRUE_WORDS | FALSE_WORDS) + ["YES", "No", ""]
    head = "id,name_zh,name_en,rail_tariff_class,pipeline_ok,source"
    lines = [head] + [f"c{i},货{i},,,{w},test" for i, w in enumerate(words)]
    lines.append("bad,坏,,,maybe,test")
    path = tmp_path / "commodities.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors: list = []
    got = read_commodities(path, errors=errors)
    for i, w in enumerate(words):
        assert got[f"c{i}"].pipeline_ok is parse_bool(w, default=False)
    assert [e.field for e in errors] == ["pipeline_ok"]
    with pytest.raises(ValueError) as exc:
        parse_bool("maybe", default=False)
    assert str(exc.value) in str(errors[0])
