"""The worked example for a second city (examples/your-city/, 德州 Dezhou) builds and runs
on the shipped layers, as docs/YOUR-CITY.md tells a planner to: validate, then run; its
private siding serves its owner only; its map draws the networks over Dezhou."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

from freight.cli import main
from freight.progress import Progress
from freight.run import run
from tests.test_maps import _layer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "your-city"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dezhou(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("dezhou") / "dezhou-example"
    result = run(EXAMPLE / "dezhou.toml", out, progress=Progress(None))
    with open(out / "flows.csv", encoding="utf-8-sig", newline="") as fh:
        flows = list(csv.DictReader(fh))
    return {
        "out": out,
        "summary": result.summary,
        "flows": flows,
        "html": (out / "map.html").read_text(encoding="utf-8"),
    }


def test_the_example_validates(capsys) -> None:
    assert main(["validate", str(EXAMPLE / "dezhou.toml")]) == 0
    out = capsys.readouterr().out
    assert "terminal 'dz_gate_hualu'" in out and "reserved for 华鲁恒升" in out


def test_the_example_runs_and_the_rule_holds(dezhou: dict) -> None:
    s = dezhou["summary"]
    assert s["status"] == "optimal" and s["policy"]["shortfall_t"] == 0
    assert s["policy"]["eligible_flows"] >= 4
    assert s["states"]["with_rule"]["tonnes"]["road"] < s["states"]["baseline"]["tonnes"]["road"]
    for r in dezhou["flows"]:
        if r["eligible"] == "yes":
            assert r["compliant"] == "yes" and r["line_haul_mode"] == "rail", r


def test_the_private_siding_serves_its_owner_only(dezhou: dict) -> None:
    rows = dezhou["flows"]
    owner = [r for r in rows if r["shipper"] == "华鲁恒升" and r["eligible"] == "yes"]
    assert owner and all(r["lifts"].split(";")[-1] == "dz_gate_hualu" for r in owner)
    others = [r for r in rows if r["shipper"] != "华鲁恒升"]
    assert others and not any("dz_gate_hualu" in r["lifts"] for r in others)
    assert any(r["lifts"].split(";")[-1] == "dz_station" for r in others)


def test_the_maps_network_layers_cover_dezhou(dezhou: dict) -> None:
    """Every one of Dezhou's 11 counties has road lines drawn across it, not only the
    roads that carry flow; and rail lines run through the city."""
    html = dezhou["html"]
    counties = json.loads((EXAMPLE / "counties.geojson").read_text(encoding="utf-8"))
    polys = {f["properties"]["name"]: shape(f["geometry"]) for f in counties["features"]}
    assert len(polys) == 11
    for mode in ("road", "rail"):
        _, fc, _ = _layer(html, mode)
        lines = shapely.union_all([shape(f["geometry"]) for f in fc["features"]])
        crossed = {n for n, p in polys.items() if lines.intersects(p)}
        if mode == "road":
            assert crossed == set(polys), set(polys) - crossed
        else:
            assert {"德城区", "禹城市"} <= crossed, crossed
    assert '"name":"德城区"' in html  # the county layer is Dezhou's
