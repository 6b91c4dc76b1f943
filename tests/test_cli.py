"""The ``freight`` command on a small scenario written from scratch: exit codes and files.

The network: a straight road and a parallel railway 4.5 degrees of longitude long at
36N (about 405 km), a terminal at each end linking road and rail, and one coal flow
between two shippers beside the terminals.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from freight.cli import main


def _line(coords: list[tuple[float, float]], **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def _write(folder: Path, *, rail_capacity_t: float | None, enforcement: str) -> Path:
    xs = [112.0 + 0.5 * i for i in range(10)]  # 112.0 … 116.5E
    road = [_line([(x, 36.0), (x + 0.5, 36.0)]) for x in xs[:-1]]
    rail_props = {} if rail_capacity_t is None else {"capacity_t": rail_capacity_t}
    rail = [_line([(x, 36.02), (x + 0.5, 36.02)], **rail_props) for x in xs[:-1]]
    for name, feats in (("road", road), ("rail", rail)):
        (folder / f"{name}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8"
        )
    (folder / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        "t_west,西站,112.01,36.01,station,road;rail,10,,test\n"
        "t_east,东站,116.49,36.01,station,road;rail,10,,test\n"
        "s_mine,煤矿,112.02,36.0,mine,road,,,test\n"
        "s_plant,电厂,116.48,36.0,plant,road,,,test\n",
        encoding="utf-8",
    )
    (folder / "flows.csv").write_text(
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,shipper,source,note\n"
        "F1,coal,s_mine,s_plant,1000,road,电厂,test,\n",
        encoding="utf-8",
    )
    (folder / "commodities.csv").write_text(
        "id,name_zh,name_en,rail_tariff_class,pipeline_ok,source\ncoal,煤炭,coal,4,no,test\n",
        encoding="utf-8",
    )
    toml = folder / "s.toml"
    toml.write_text(
        'name = "tiny"\n[network]\nroad = "road.geojson"\nrail = "rail.geojson"\n'
        'places = "places.csv"\n[flows]\nfile = "flows.csv"\n[commodities]\n'
        f'file = "commodities.csv"\n[policy]\nenforcement = "{enforcement}"\n'
        'threshold_km = 400\ncommodities = ["coal"]\n',
        encoding="utf-8",
    )
    return toml


def test_run_writes_the_result_folder(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "optimal"
    assert s["states"]["with_rule"]["tonnes"]["rail"] == pytest.approx(1000)
    assert s["policy"]["eligible_flows"] == 1


def test_hard_rule_beyond_capacity_exits_3_naming_flow_and_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _write(tmp_path, rail_capacity_t=10, enforcement="hard")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "F1" in err and "cap_rail" in err
    assert not out.exists()  # nothing half-written


def test_soft_rule_pays_the_penalty_instead(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=10, enforcement="soft")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["policy"]["shortfall_t"] == pytest.approx(990)
    bottlenecks = (out / "bottlenecks.csv").read_text(encoding="utf-8-sig")
    assert "cap_rail" in bottlenecks


def test_export_lp_writes_mps(tmp_path: Path) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    mps = tmp_path / "final.mps"
    assert (
        main(["run", str(toml), "--out", str(tmp_path / "o"), "--no-maps", "--export-lp", str(mps)])
        == 0
    )
    text = mps.read_text()
    assert "ROWS" in text and "demand_F1" in text


def test_networks_and_route_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    assert main(["networks", str(toml), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"road", "rail", "pipeline"} <= set(summary)
    assert summary["rail"]["components"] == 1
    assert main(["route", "t_west", "t_east", str(toml), "--mode", "rail", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["mode"] == "rail" and 390 < r["km"] < 420


def test_missing_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_bottleneck_values_one_more_daily_train(tmp_path: Path) -> None:
    """A line rated in trains a day: the shadow price times train load times 365."""
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="soft")
    (tmp_path / "lines.csv").write_text(
        "line_id,name_zh,capacity_t,trains_per_day,train_net_t,freight\n"
        "t,测试线,,0.0001,5000,true\n",
        encoding="utf-8",
    )
    (tmp_path / "stations.csv").write_text(
        "line_id,seq,station,lon,lat\nt,1,西,112.0,36.02\nt,2,东,116.5,36.02\n", encoding="utf-8"
    )
    text = toml.read_text(encoding="utf-8").replace(
        'places = "places.csv"\n',
        'places = "places.csv"\nrail_lines = "lines.csv"\nrail_line_stations = "stations.csv"\n',
    )
    toml.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    import csv

    with open(out / "bottlenecks.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rail = [r for r in rows if r["constraint"].startswith("cap_rail")]
    assert rail
    for r in rail:
        assert float(r["capacity_t"]) == pytest.approx(365 * 0.0001 * 5000)
        assert float(r["shadow_cny_per_daily_train_year"]) == pytest.approx(
            float(r["shadow_cny_per_t"]) * 5000 * 365, rel=1e-6
        )
    from maps import render_report

    html = render_report(out).read_text(encoding="utf-8")
    assert "One more daily train" in html
    top = max(rail, key=lambda r: float(r["shadow_cny_per_t"]))
    assert f"{float(top['shadow_cny_per_daily_train_year']):,.0f}" in html


def test_networks_check_lists_the_topology_of_the_scenario_layers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    road = json.loads((tmp_path / "road.geojson").read_text(encoding="utf-8"))
    # feature 10: a road from the north stopping ~50 m short of the main road (a near
    # miss); feature 11: one crossing the main road without a vertex
    road["features"] += [
        _line([(113.2, 36.3), (113.2, 36.00045)]),
        _line([(114.2, 35.9), (114.2, 36.1)]),
    ]
    (tmp_path / "road.geojson").write_text(json.dumps(road), encoding="utf-8")
    assert main(["networks", str(toml), "--check"]) == 0
    out = capsys.readouterr().out
    assert f"[road] ({tmp_path / 'road.geojson'}): 11 features, 6 dead ends" in out
    assert "feature 10 end (113.20000, 36.00045) is 50 m from feature 3" in out
    assert "features 5 and 11 cross at (114.20000, 36.00000) without a junction" in out
    assert "[rail]" in out
    assert main(["networks", str(toml), "--check", "--json", "--near-m", "40"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["road"]["counts"]["near_miss_dead_ends"] == 0  # 50 m > 40 m
    assert d["road"]["counts"]["crossings"] == 1
    assert d["rail"]["counts"]["dead_ends"] == 2


def test_networks_check_bad_layer_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _write(tmp_path, rail_capacity_t=None, enforcement="hard")
    road = json.loads((tmp_path / "road.geojson").read_text(encoding="utf-8"))
    road["features"].append(
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Point", "coordinates": [113, 36]},
        }
    )
    (tmp_path / "road.geojson").write_text(json.dumps(road), encoding="utf-8")
    assert main(["networks", str(toml), "--check"]) == 2
    assert "feature 10: field 'geometry'" in capsys.readouterr().err
