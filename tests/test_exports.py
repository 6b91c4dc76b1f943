"""results.gpkg and the workbooks, opened as a planner's programs open them: GDAL's own
``ogrinfo`` (the engine under QGIS; Debian gdal-bin, installed by .ci/run) and openpyxl.

``ogrinfo`` missing: skipped locally, a failure when ``CI`` is set (as the browser test).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import shapely

from freight.cli import main
from tests.test_cli import _write


def ogrinfo(*args: str) -> str:
    exe = shutil.which("ogrinfo")
    if exe is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI is set but ogrinfo (Debian gdal-bin) is not installed")
        pytest.skip("ogrinfo not installed (apt-get install gdal-bin)")
    done = subprocess.run(
        [exe, "-ro", *args], capture_output=True, text=True, check=True, timeout=60
    )
    assert "ERROR" not in done.stderr, done.stderr
    return done.stdout


def sql_sums(gpkg: Path, sql: str) -> dict[str, float]:
    """``SELECT key, SUM(x) AS t ... GROUP BY key`` through ogrinfo, as {key: t}."""
    out = ogrinfo("-q", str(gpkg), "-sql", sql)
    keys = re.findall(r"^\s+\w+ \(String\) = (.*)$", out, flags=re.M)
    sums = re.findall(r"^\s+t \(Real\) = (.*)$", out, flags=re.M)
    assert len(keys) == len(sums), out
    return {k: float(v) for k, v in zip(keys, sums, strict=True)}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    toml = _write(folder, rail_capacity_t=None, enforcement="hard")
    with open(folder / "flows.csv", "a", encoding="utf-8") as fh:
        # shippers whose names start like a formula: data must never run as one
        fh.write(
            'F2,coal,s_mine,s_plant,50,road,"=HYPERLINK(""http://x"",""点我"")",test,\n'
            "F3,coal,s_plant,s_mine,20,road,@SUM(A1),test,-1+2\n"
        )
    out = folder / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    return out


def test_the_files_are_written_beside_the_csvs(tiny: Path) -> None:
    for name in ("results.gpkg", "flows.xlsx", "terminals.xlsx", "bottlenecks.xlsx"):
        assert (tiny / name).stat().st_size > 0, name
    from freight.resultdir import MARKER

    left = [p for p in tiny.glob(".*") if p.name != MARKER]  # the result folder's marker
    assert not left, "no temporary file left behind"


def test_ogrinfo_sums_coal_tonnes_after_by_mode_as_summary_json(tiny: Path) -> None:
    s = json.loads((tiny / "summary.json").read_text(encoding="utf-8"))
    sums = sql_sums(
        tiny / "results.gpkg",
        "SELECT line_haul_mode, SUM(tonnes) AS t FROM flows "
        "WHERE commodity = 'coal' GROUP BY line_haul_mode",
    )
    after = {m: t for m, t in s["states"]["with_rule"]["by_commodity"]["coal"].items() if t > 0}
    assert sums == pytest.approx(after)


def test_links_have_flat_numeric_columns_and_plain_text_lines(tiny: Path) -> None:
    info = ogrinfo("-so", str(tiny / "results.gpkg"), "links")
    for field in (
        "coal_baseline_t",
        "coal_without_rule_t",
        "coal_with_rule_t",
        "coal_change_t",
        "tonnes_change",
        "tonnes_rule_effect",
        "km",
        "drawn_km",
    ):
        assert f"{field}: Real" in info, field
    assert "lines: String" in info and "by_commodity" not in info
    links = json.loads((tiny / "links.geojson").read_text(encoding="utf-8"))
    want = sum(
        f["properties"]["by_commodity_with_rule"].get("coal", 0.0) for f in links["features"]
    )
    got = sql_sums(
        tiny / "results.gpkg", "SELECT mode, SUM(coal_with_rule_t) AS t FROM links GROUP BY mode"
    )
    assert sum(got.values()) == pytest.approx(want)


def test_every_layer_opens_with_points_lines_and_1e6_degree_coordinates(tiny: Path) -> None:
    import pyogrio

    listing = ogrinfo(str(tiny / "results.gpkg"))
    for layer, kind in (
        ("links", "Line String"),
        ("flows", "Line String"),
        ("terminals", "Point"),
        ("shippers", "Point"),
    ):
        assert f"{layer} ({kind})" in listing
    for layer in ("links", "flows", "terminals", "shippers"):
        gdf = pyogrio.read_dataframe(tiny / "results.gpkg", layer=layer)
        assert gdf.crs.to_epsg() == 4326
        xy = shapely.get_coordinates(gdf.geometry.values)
        assert np.abs(xy - np.round(xy, 6)).max() < 1e-9, layer
    shippers = pyogrio.read_dataframe(tiny / "results.gpkg", layer="shippers")
    plant = shippers.set_index("id").loc["s_plant"]
    assert plant["name"] == "电厂" and plant["tonnes"] == pytest.approx(1070.0)


def test_flows_xlsx_reads_back_with_chinese_numbers_and_no_formulas(tiny: Path) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    with open(tiny / "flows.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    ws = load_workbook(tiny / "flows.xlsx").active
    got = [[c.value for c in r] for r in ws.iter_rows()]
    assert got[0] == rows[0]
    col = {h: i for i, h in enumerate(rows[0])}
    by_id = {r[col["flow_id"]]: r for r in got[1:]}
    f1 = by_id["F1"]
    assert f1[col["origin_name"]] == "煤矿" and f1[col["destination_name"]] == "电厂"
    assert isinstance(f1[col["tonnes"]], int | float) and f1[col["tonnes"]] == 1000
    assert isinstance(f1[col["rail_km"]], float)
    cells = {c.value: c for c in ws[get_column_letter(col["shipper"] + 1)]}
    hyper = '=HYPERLINK("http://x","点我")'
    for text in (hyper, "@SUM(A1)"):
        assert text in cells, text
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["A"].width >= len("flow_id")


def test_terminals_xlsx_formats_numbers(tiny: Path) -> None:
    from openpyxl import load_workbook

    ws = load_workbook(tiny / "terminals.xlsx").active
    header = [c.value for c in ws[1]]
    row = [c for c in ws[2]]
    lon = row[header.index("lon")]
    assert isinstance(lon.value, float) and lon.number_format == "0.000000"
    assert row[header.index("throughput_with_rule_t")].number_format == "#,##0"
    assert row[header.index("name")].value in ("西站", "东站")
