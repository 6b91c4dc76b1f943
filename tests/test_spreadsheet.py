"""CSV cells that would start a spreadsheet formula are neutralised in every CSV written
(OWASP CSV injection: a quote before = + - @ tab CR), numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freight.cli import main
from freight.spreadsheet import neutralise, restore, write_csv
from maps.results import read_results
from tests.scenario_kit import DEFAULT_FLOWS, DEFAULT_PLACES, write_scenario


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-1+2", "'-1+2"),
        ("-A1", "'-A1"),
        ("-", "'-"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'quoted", "''quoted"),
        ("信发集团", "信发集团"),
        ("a=b", "a=b"),
        ("", ""),
        # genuine numbers, negative too, are not formulas: they stay numbers
        ("-12.5", "-12.5"),
        ("-1e-09", "-1e-09"),
        ("+3", "+3"),
        (-3, "-3"),
        (-0.25, "-0.25"),
        (None, ""),
    ],
)
def test_cells_that_start_a_formula_are_quoted_numbers_are_not(cell: object, written: str) -> None:
    assert neutralise(cell) == written


@given(st.text())
def test_quoting_is_undone_exactly(text: str) -> None:
    assert restore(neutralise(text)) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_stays_a_number(x: float) -> None:
    assert float(neutralise(x)) == x


def test_write_csv_quotes_header_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(path, ["a", "=b"], [{"a": "=HYPERLINK(\"x\")", "=b": -5}])
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["a", "'=b"], ["'=HYPERLINK(\"x\")", "-5"]]


def test_result_csvs_carry_no_formula_and_maps_read_the_names_back(tmp_path: Path) -> None:
    """The issue's reproduction: shippers named =1+1 and @SUM(1+1) (and a terminal named
    -2+3) open as text in Excel; the map and report still show the names."""
    places = [dict(p) for p in DEFAULT_PLACES]
    places[0]["name"] = "-2+3"
    places[3]["name"] = "=1+1"
    flows = [dict(DEFAULT_FLOWS[0], shipper="@SUM(1+1)"),
             dict(DEFAULT_FLOWS[0], id="F2", tonnes_per_year=5, shipper="=1+1")]  # fmt: skip
    toml = write_scenario(tmp_path / "s", places=places, flows=flows)
    out = tmp_path / "out"
    assert main(["run", str(toml), "--out", str(out), "--no-maps"]) == 0
    for name in ("flows.csv", "terminals.csv", "bottlenecks.csv"):
        with open(out / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(cell)  # only numbers may start so
    flows_text = (out / "flows.csv").read_text(encoding="utf-8-sig")
    assert "'@SUM(1+1)" in flows_text and "'=1+1" in flows_text
    assert "'-2+3" in (out / "terminals.csv").read_text(encoding="utf-8-sig")
    res = read_results(out)
    assert {r["shipper"] for r in res.flows} == {"@SUM(1+1)", "=1+1"}
    assert {r["destination_name"] for r in res.flows} == {"=1+1"}
    assert "-2+3" in {t["name"] for t in res.terminals}
