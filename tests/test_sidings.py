"""Sidings that do what a planner means (networks/sidings.py and the LP's reserved arcs).

The scenario, by hand: a road along 36.0N and a freight railway along 36.02N from 112E to
116.5E, with road-rail terminals at both ends (t_west, t_east); a mine at the west end; a
road spur north from 116.0E to two plants at 116.0E 36.10N, 9 km off the railway. A steel
works (shipper 钢厂) and a power plant (shipper 电厂) each take 1,000 t of coal from the
mine. Without a siding neither has rail access within 50 km (t_east is 44 km east and 11
km south: 58 km of road), so neither is eligible under the 300 km rule; both go by rail
to t_east and 58 km of road after it. The siding runs from the plants (its gate) south to
the railway at 116.0E.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from freight.cli import main
from freight.progress import Progress
from freight.run import run
from tests.test_cli import _line, _write

GATE = (116.0, 36.10)


def _feature(coords: list[tuple[float, float]], **props: Any) -> dict:
    return _line(coords, **props)


def _scenario(
    folder: Path, siding: dict | None = None, *, more_rail: list[dict] = (), extra_flows: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    toml = _write(folder, rail_capacity_t=None, enforcement="hard")
    road = json.loads((folder / "road.geojson").read_text(encoding="utf-8"))
    road["features"].append(_feature([(116.0, 36.0), GATE]))
    (folder / "road.geojson").write_text(json.dumps(road), encoding="utf-8")
    if more_rail:
        rail = json.loads((folder / "rail.geojson").read_text(encoding="utf-8"))
        rail["features"].extend(more_rail)
        (folder / "rail.geojson").write_text(json.dumps(rail), encoding="utf-8")
    with open(folder / "places.csv", "a", encoding="utf-8") as fh:
        fh.write(
            "p_steel,钢厂,116.0,36.1,plant,road,,,test\n"
            "p_power,电厂,116.002,36.1,plant,road,,,test\n"
        )
    with open(folder / "flows.csv", "a", encoding="utf-8") as fh:
        fh.write(
            "F2,coal,s_mine,p_steel,1000,road,钢厂,test,\n"
            "F3,coal,s_mine,p_power,1000,road,电厂,test,\n" + extra_flows
        )
    text = toml.read_text(encoding="utf-8").replace("threshold_km = 400", "threshold_km = 300")
    if siding is not None:
        (folder / "sidings.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": [siding]}, ensure_ascii=False),
            encoding="utf-8",
        )
        text = text.replace(
            'places = "places.csv"\n', 'places = "places.csv"\nextra_lines = ["sidings.geojson"]\n'
        )
    toml.write_text(text, encoding="utf-8")
    return toml


def _siding(**props: Any) -> dict:
    return _feature([GATE, (116.0, 36.02)], mode="rail", name="钢厂专用线", **props)


def _run(toml: Path, out: Path) -> tuple[dict, dict[str, dict[str, str]]]:
    run(toml, out, progress=Progress(None), maps=False)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with open(out / "flows.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["flow_id"]: r for r in csv.DictReader(fh)}
    return s, rows


def test_a_siding_without_a_gate_is_an_error_not_silently_unused(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, _siding())
    assert main(["validate", str(toml)]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "sidings.geojson" in x]
    assert "feature 1" in line and "one point only" in line and "needs `gate`" in line


def test_a_siding_with_a_gate_makes_the_terminal_and_carries_the_coal(
    tmp_path: Path, capsys
) -> None:
    toml = _scenario(tmp_path, _siding(gate="g_steel", gate_handling_cny_per_t=5))
    assert main(["validate", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "feature 1 (钢厂专用线) end: joins" in out and "drawn onto the line, 0 m" in out
    assert "terminal 'g_steel'" in out and "116.000000,36.100000" in out
    s, rows = _run(toml, tmp_path / "out")
    for fid in ("F2", "F3"):  # open to all: both plants load at the gate
        assert rows[fid]["lifts"].split(";")[-1] == "g_steel", rows[fid]
        assert rows[fid]["line_haul_mode"] == "rail" and rows[fid]["eligible"] == "yes"


def test_a_private_siding_is_used_only_by_its_users(tmp_path: Path) -> None:
    s_res, res = _run(
        _scenario(tmp_path / "a", _siding(gate="g_steel", users="钢厂")), tmp_path / "a" / "out"
    )
    _, none = _run(_scenario(tmp_path / "b"), tmp_path / "b" / "out")
    assert res["F2"]["lifts"].split(";")[-1] == "g_steel" and res["F2"]["eligible"] == "yes"
    # the power plant's coal may not pass the steel works' siding: it goes as it would
    # with no siding at all (rail to t_east, then 58 km of road: not a compliant chain, so
    # not eligible; still cheaper than road all the way at 0.49 CNY/t·km)
    assert res["F3"]["lifts"] == "t_west;t_east" and res["F3"]["eligible"] == "no"
    for col in ("modes", "road_km", "rail_km", "cost_cny", "lifts", "eligible"):
        assert res["F3"][col] == none["F3"][col], col
    assert s_res["status"] == "optimal"


def test_users_are_matched_case_blind_and_listed_with_semicolons(tmp_path: Path) -> None:
    toml = _scenario(tmp_path, _siding(gate="g_steel", users=" 钢厂 ；电厂 "))
    _, rows = _run(toml, tmp_path / "out")
    assert all(rows[f]["lifts"].split(";")[-1] == "g_steel" for f in ("F2", "F3"))


def test_planned_lines_leave_the_before_picture_alone(tmp_path: Path) -> None:
    rail_flow = "F4,coal,s_mine,p_steel,500,rail,钢厂,test,\n"
    s_none, _ = _run(_scenario(tmp_path / "a", extra_flows=rail_flow), tmp_path / "a" / "out")
    s_plan, _ = _run(
        _scenario(tmp_path / "b", _siding(gate="g_steel"), extra_flows=rail_flow),
        tmp_path / "b" / "out",
    )
    s_have, _ = _run(
        _scenario(
            tmp_path / "c", _siding(gate="g_steel", status="existing"), extra_flows=rail_flow
        ),
        tmp_path / "c" / "out",
    )
    base_plan, base_none = s_plan["states"]["baseline"], s_none["states"]["baseline"]
    for key in ("tonnes", "tkm", "co2_t", "cost_cny"):
        assert base_plan[key] == pytest.approx(base_none[key]), key
    # an existing siding is part of "before": F4 reaches the works by rail to its gate
    # instead of 55 km of road from t_east, which the test above would catch
    have = s_have["states"]["baseline"]["tkm"]["road"]
    assert have < base_none["tkm"]["road"] - 500 * 40
    with_plan = s_plan["states"]["with_rule"]["cost_cny"]
    assert with_plan < s_none["states"]["with_rule"]["cost_cny"] - 1000 * 50 * 0.4


HSR = _feature([(115.5, 36.05), (116.5, 36.05)], freight=False, name="某高铁")


def test_an_end_beside_a_high_speed_line_is_not_joined_to_it(tmp_path: Path, capsys) -> None:
    siding = _feature(
        [(116.2, 36.08), (116.2, 36.0502)], mode="rail", name="专用线", gate="g_x"
    )  # 22 m from the passenger line, 3.35 km from freight track
    toml = _scenario(tmp_path, siding, more_rail=[HSR])
    assert main(["validate", str(toml)]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "sidings.geojson" in x]
    assert "field 'gate'" in line and "joins the network nowhere" in line
    assert "3.35 km" in line and "116.200000,36.020000" in line and "某高铁" not in line


def test_a_named_end_joins_the_freight_line_not_the_high_speed_one(tmp_path: Path, capsys) -> None:
    siding = _feature(
        [(116.2, 36.08), (116.2, 36.0502)], mode="rail", name="专用线", gate="g_x", join="end"
    )
    toml = _scenario(tmp_path, siding, more_rail=[HSR])
    assert main(["validate", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "end: joins an unnamed line at 116.200000,36.020000 (named in join, 3.35 km)" in out


def test_an_end_drawn_to_a_station_joins_the_track_there(tmp_path: Path, capsys) -> None:
    siding = _feature(
        [(116.45, 36.06), (116.4901, 36.0101)], mode="rail", name="专用线", gate="g_y"
    )  # 14 m from t_east's point, 1.1 km from the track
    toml = _scenario(tmp_path, siding)
    assert main(["validate", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "end: joins an unnamed line at 116.490100,36.020000 (drawn to station 东站" in out


def test_a_line_that_joins_nothing_is_an_error(tmp_path: Path, capsys) -> None:
    lone = _feature([(114.0, 37.0), (114.5, 37.0)], mode="rail", name="孤线")
    toml = _scenario(tmp_path, lone)
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err
    assert "孤线 joins the network nowhere" in err


def test_a_gate_that_is_already_a_place_is_an_error(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, _siding(gate="p_steel"))
    assert main(["validate", str(toml)]) == 2
    assert "id 'p_steel' is already a place" in capsys.readouterr().err


def test_a_user_who_ships_nothing_is_warned_about(tmp_path: Path, capsys) -> None:
    toml = _scenario(tmp_path, _siding(gate="g_steel", users="钢铁厂"))  # a typo of 钢厂
    assert main(["validate", str(toml)]) == 0
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning: line")]
    assert "reserved for '钢铁厂', which is no flow's shipper" in line and "钢厂" in line
