"""End to end on the embedded Liaocheng scenarios: run() writes a folder whose files agree
with each other, with the rule, and with what the map and the report show."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from freight.cli import default_scenario, main
from freight.progress import Progress
from freight.run import run

DATA = Path(__file__).resolve().parents[1] / "data" / "liaocheng"
pytestmark = pytest.mark.slow


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def base_run(default_run: dict) -> dict:
    out, result = default_run["out"], default_run["result"]  # tests/conftest.py: run once
    return {
        "out": out,
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
        "flows": _rows(out / "flows.csv"),
        "flow_table": _rows(DATA / "flows-2019.csv"),
        "links": json.loads((out / "links.geojson").read_text(encoding="utf-8")),
        "result": result,
    }


def test_every_output_is_written(base_run: dict) -> None:
    names = {p.name for p in base_run["out"].iterdir()}
    assert {
        "summary.json",
        "flows.csv",
        "links.geojson",
        "bottlenecks.csv",
        "terminals.csv",
        "map.html",
        "report.html",
        "results.gpkg",
        "flows.xlsx",
        "terminals.xlsx",
    } <= names


def test_qgis_engine_totals_coal_as_the_summary(base_run: dict) -> None:
    """GDAL (ogrinfo) opens results.gpkg; coal tonnes after, summed by line-haul mode from
    a field of the flows layer, are summary.json's; the counties layer holds the 8 units."""
    from tests.test_exports import ogrinfo, sql_sums

    gpkg = base_run["out"] / "results.gpkg"
    sums = sql_sums(
        gpkg,
        "SELECT line_haul_mode, SUM(tonnes) AS t FROM flows "
        "WHERE commodity = 'coal' GROUP BY line_haul_mode",
    )
    after = base_run["summary"]["states"]["with_rule"]["by_commodity"]["coal"]
    assert sums == pytest.approx({m: t for m, t in after.items() if t > 0})
    assert "Feature Count: 8" in ogrinfo("-so", str(gpkg), "counties")


def test_tonnes_are_conserved(base_run: dict) -> None:
    s, flows = base_run["summary"], base_run["flows"]
    total = sum(float(r["tonnes_per_year"]) for r in base_run["flow_table"])
    assert sum(float(r["tonnes"]) for r in flows) == pytest.approx(total)
    for st in s["states"].values():
        assert sum(st["tonnes"].values()) == pytest.approx(total)
        trips = st["truck_trips"]
        assert trips["line_haul"] == pytest.approx(st["tonnes"]["road"] / s["truck_payload_t"])
        assert trips["total"] == pytest.approx(trips["line_haul"] + trips["access"])
    eff = s["comparisons"]["rule_effect"]
    on, off = s["states"]["with_rule"], s["states"]["without_rule"]
    assert eff["road_t"] == pytest.approx(off["tonnes"]["road"] - on["tonnes"]["road"])
    # flows.csv agrees with the summary, state by state
    per_flow = {r["flow_id"]: r for r in flows}
    for x in ("baseline", "without_rule", "with_rule"):
        assert sum(float(r[f"road_t_{x}"]) for r in per_flow.values()) == pytest.approx(
            s["states"][x]["tonnes"]["road"]
        )
    assert sum(float(r["access_t"]) for r in flows) == pytest.approx(on["access"]["tonnes"])


def test_the_hard_rule_holds_and_the_threshold_visibly_matters(base_run: dict) -> None:
    s, flows = base_run["summary"], base_run["flows"]
    assert s["status"] == "optimal"
    assert s["policy"]["enforcement"] == "hard" and s["policy"]["shortfall_t"] == 0
    eligible = [r for r in flows if r["eligible"] == "yes"]
    assert eligible, "the default must have flows over 400 km"
    for r in eligible:  # hard rule: every eligible tonne on a compliant rail/pipeline chain
        assert r["compliant"] == "yes" and r["line_haul_mode"] in ("rail", "pipeline"), r
        assert float(r["haul_km"]) >= 400
    below = [r for r in flows if r["reason_code"] == "below_threshold"]
    assert below, "some flows stay on road because they are under 400 km"
    for r in below:
        assert float(r["haul_km"]) < 400 and r["eligible"] == "no"


def test_every_road_tonne_has_a_reason(base_run: dict) -> None:
    for r in base_run["flows"]:
        if float(r["road_t"]) > 0:
            assert r["reason_code"] in {
                "below_threshold",
                "commodity_not_covered",
                "no_access",
                "capacity",
                "cheaper_not_eligible",
            }, r
            assert r["reason"], r


def test_policy_cost_is_the_difference_of_two_optima(base_run: dict) -> None:
    s = base_run["summary"]
    c = s["comparisons"]
    on, off = s["states"]["with_rule"], s["states"]["without_rule"]
    cost = c["policy_cost_cny"]["value"]
    assert cost == pytest.approx(on["objective_cny"] - off["objective_cny"])
    assert cost >= -1e-6 * abs(on["objective_cny"])  # the rule cannot save money
    abated = c["co2_abated_by_rule_t"]["value"]
    assert abated == pytest.approx(off["co2_t"] - on["co2_t"])
    abate = c["co2_abatement_cny_per_t"]["value"]
    if abate is not None:  # the bug: it must divide by CO2(without − with)
        assert abate > 0 and abate * abated == pytest.approx(cost)
    per_flow = {r["flow_id"]: r for r in base_run["flows"]}
    assert sum(float(r["rule_cost_cny"]) for r in per_flow.values()) == pytest.approx(
        cost, abs=0.01 * len(per_flow)
    )


def test_links_carry_the_tonnes_of_the_flows(base_run: dict) -> None:
    """Every tonne of a rail line haul appears on at least one rail link after."""
    feats = base_run["links"]["features"]
    rail_after = max(
        (f["properties"]["tonnes_with_rule"] for f in feats if f["properties"]["mode"] == "rail"),
        default=0.0,
    )
    biggest = max(
        (float(r["tonnes"]) for r in base_run["flows"] if r["line_haul_mode"] == "rail"),
        default=0.0,
    )
    assert rail_after >= biggest - 1e-6
    for f in feats:
        p = f["properties"]
        for x in ("baseline", "without_rule", "with_rule"):
            assert math.isclose(
                sum(p[f"by_commodity_{x}"].values()), p[f"tonnes_{x}"], rel_tol=1e-9, abs_tol=1e-6
            )


def test_map_and_report_show_the_runs_numbers(base_run: dict) -> None:
    from maps.modal_map import LAYER_NAMES

    html = (base_run["out"] / "map.html").read_text(encoding="utf-8")
    for name in LAYER_NAMES.values():  # in the layer switch's script, as JSON strings
        assert json.dumps(name, ensure_ascii=False) in html, name
    # the heaviest rail link with the rule appears in a flow tooltip with its tonnes
    top = max(
        (
            f["properties"]
            for f in base_run["links"]["features"]
            if f["properties"]["mode"] == "rail"
        ),
        key=lambda p: p["tonnes_with_rule"],
    )
    assert f"{top['tonnes_with_rule']:,.0f}" in html
    assert "OpenStreetMap contributors" in html
    assert "http://" not in html.split("<body", 1)[0].replace("http://www.w3.org", "")
    assert 'id="lc-headline"' in html and "不限 unlimited" not in html
    report = (base_run["out"] / "report.html").read_text(encoding="utf-8")
    s = base_run["summary"]
    body = report.split("<body>", 1)[1]
    # the report leads with the three states (after the warning, when there is one)
    assert body.index('id="states"') < body.index('id="sec-1"')
    for w in s["warnings"]:
        assert body.index(f'id="warning-{w["code"]}"') < body.index('id="states"')
    for x in ("baseline", "without_rule", "with_rule"):
        assert f"{s['states'][x]['tonnes']['road']:,.0f}" in report
        assert f"{s['states'][x]['truck_trips']['total']:,.0f}" in report
    assert f"{s['comparisons']['rule_effect']['road_t']:,.0f}" in report
    caps = s["capacities"]
    rail = f"<b>{caps['rail_links_unknown']}</b> of {caps['rail_links_with_flow']} rail links"
    assert rail in report


@pytest.fixture(scope="module")
def other_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The after-exits and planned scenarios, run once for the tests below."""
    out = {}
    for name in ("liaocheng-after-exits", "liaocheng-planned"):
        folder = tmp_path_factory.mktemp(name) / name
        result = run(DATA / f"{name}.toml", folder, progress=Progress(None), maps=False)
        out[name] = {"summary": result.summary, "flows": _rows(folder / "flows.csv")}
    return out


@pytest.mark.parametrize("name", ["liaocheng-after-exits", "liaocheng-planned"])
def test_other_embedded_scenarios_solve(name: str, other_runs: dict[str, dict]) -> None:
    assert other_runs[name]["summary"]["status"] == "optimal"
    ids = {r["flow_id"] for r in other_runs[name]["flows"]}
    exited = {"F22", "F23", "F24", "F25", "F26"}  # 鑫华 ore/coke and 东昌焦化 coal
    assert not ids & exited


def test_planned_siding_serves_luxi(other_runs: dict[str, dict]) -> None:
    """With the planned siding, 鲁西's long-haul coal arrives by rail at its own gate; the
    siding is 鲁西's own (``users``), so no other shipper's coal passes it."""
    flows = other_runs["liaocheng-planned"]["flows"]
    rows = [r for r in flows if r["destination"] == "shp_luxi" and r["eligible"] == "yes"]
    assert rows
    assert all("sdg_luxi" in r["lifts"].split(";") for r in rows), rows
    others = [r for r in flows if r["shipper"] != "鲁西集团"]
    assert others and not any("sdg_luxi" in r["lifts"].split(";") for r in others)


def test_planned_lines_share_the_before_of_the_scenario_they_extend(
    other_runs: dict[str, dict],
) -> None:
    """liaocheng-planned = after-exits + planned lines only: one "before" for both."""
    a, b = (other_runs[n]["summary"] for n in ("liaocheng-after-exits", "liaocheng-planned"))
    for key in ("tonnes", "tkm", "co2_t", "cost_cny"):
        got, want = b["states"]["baseline"][key], a["states"]["baseline"][key]
        assert got == pytest.approx(want, rel=1e-12), key
    # the lines are used with the rule
    assert b["states"]["with_rule"]["cost_cny"] < a["states"]["with_rule"]["cost_cny"]


def test_planned_siding_takes_luxis_trucks_off_the_city_roads(other_runs: dict) -> None:
    """鲁西's 短驳 with the rule: after the exits its rail coal is trucked from a public yard;
    with the planned siding it arrives at the gate -- fewer truck trips and t·km, on the
    same flows, and the city's 短驳 totals fall by as much."""

    def luxi(name: str) -> tuple[float, float]:  # 短驳 trips and t·km of 鲁西's flows
        rows = [r for r in other_runs[name]["flows"] if r["destination"] == "shp_luxi"]
        return (sum(float(r["access_trips"]) for r in rows),
                sum(float(r["tonnes"]) * float(r["access_km"]) for r in rows))  # fmt: skip

    (trips0, tkm0), (trips1, tkm1) = luxi("liaocheng-after-exits"), luxi("liaocheng-planned")
    assert trips0 > 0 and tkm0 > 0
    assert trips1 < trips0 and tkm1 < tkm0
    assert trips1 == pytest.approx(0, abs=1e-6)  # the siding ends at 鲁西's own gate
    before = other_runs["liaocheng-after-exits"]["summary"]["states"]["with_rule"]
    after = other_runs["liaocheng-planned"]["summary"]["states"]["with_rule"]
    assert before["truck_trips"]["access"] - after["truck_trips"]["access"] == pytest.approx(
        trips0 - trips1, rel=1e-6
    )
    assert after["access"]["tkm"] < before["access"]["tkm"]
    by_station = after["access_by_station"]
    assert "sdg_luxi" not in by_station  # in-plant, not 短驳


def test_cli_input_error_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{default_scenario()}"\nname = "bad"\n[policy]\nthreshold = 3\n',
        encoding="utf-8",
    )
    code = main(["run", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    problems = [line for line in err.splitlines() if "bad.toml" in line]
    assert len(problems) == 1 and "threshold" in problems[0]
    assert not (tmp_path / "out").exists()


def test_validate_lists_table_and_geodata_problems_together(tmp_path: Path, capsys) -> None:
    (tmp_path / "rail.geojson").write_text(
        '{"type":"FeatureCollection","features":['
        '{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116,36]}},'
        '{"type":"Feature","properties":{},"geometry":{"type":"LineString",'
        '"coordinates":[[500000,4000000],[500100,4000100]]}}]}',
        encoding="utf-8",
    )
    (tmp_path / "flows.csv").write_text(
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,shipper,source,note\n"
        "X1,coal,nowhere,shp_xinfa,100,road,a,b,\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{default_scenario()}"\nname = "bad"\n[network]\n'
        'rail = "rail.geojson"\n[flows]\nfile = "flows.csv"\n',
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "flows.csv: row 2: field 'origin'" in err
    assert "rail.geojson: feature 1: field 'geometry'" in err
    assert "rail.geojson: feature 2: field 'geometry'" in err
