"""The printable report, rendered from the fixture result folder: totals, tables, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maps import render_report
from maps._style import fmt_num
from maps.assets import external_resources
from maps.report import flatten_parameters, modal_split_svg, truck_payload_t
from tests.fixtures_results import make_network, write_result_folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = write_result_folder(tmp_path_factory.mktemp("reprun") / "run", make_network())
    path = render_report(run)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return {"run": run, "path": path, "html": path.read_text(encoding="utf-8"), "s": summary}


def _cells(html: str, row_id: str) -> list[str]:
    m = re.search(rf'<tr[^>]*id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, row_id
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]


def test_self_contained_printable_utf8(report: dict) -> None:
    html = report["html"]
    assert report["path"].name == "report.html"
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert "@media print" in html and "size: A4" in html
    assert external_resources(html) == [] and "<script" not in html
    for text in ("聊城 2019 测试情景", "信发集团", "瓦日铁路", "Before", "优化后"):
        assert text in html


def test_overall_table_equals_summary(report: dict) -> None:
    html, s = report["html"], report["s"]
    for key in ("tonnes", "tkm"):
        for mode in ("road", "rail", "pipeline"):
            cells = _cells(html, f"overall-{key}-{mode}")
            assert cells[1] == fmt_num(s[key]["before"][mode])
            assert cells[2] == fmt_num(s[key]["after"][mode])
        cells = _cells(html, f"overall-{key}-total")
        assert cells[1] == fmt_num(sum(s[key]["before"].values()))
        assert cells[2] == fmt_num(sum(s[key]["after"].values()))
    for key in ("co2_t", "cost_cny"):
        cells = _cells(html, f"overall-{key}")
        assert cells[1:3] == [fmt_num(s[key]["before"]), fmt_num(s[key]["after"])]
    trucks = _cells(html, "overall-trucks")
    avoided = float(trucks[1].replace(",", "")) - float(trucks[2].replace(",", ""))
    assert abs(avoided - s["truck_trips_avoided"]) <= 1
    assert _cells(html, "policy-cost")[1] == fmt_num(s["policy_cost_cny"])
    assert _cells(html, "abatement")[1] == fmt_num(s["co2_abatement_cny_per_t"], digits=1)
    assert fmt_num(s["road_tonnage_reduction_t"]) in html


def test_commodity_and_shipper_totals(report: dict) -> None:
    html, s = report["html"], report["s"]
    tot = _cells(html, "commodity-total")
    modes = ("road", "rail", "pipeline")
    assert tot[1:4] == [fmt_num(s["tonnes"]["before"][m]) for m in modes]
    assert tot[4:7] == [fmt_num(s["tonnes"]["after"][m]) for m in modes]
    for c, d in s["by_commodity"].items():
        assert _cells(html, f"commodity-{c}")[4:7] == [fmt_num(d["after"][m]) for m in modes]
    sh = _cells(html, "shipper-total")
    assert sh[1] == fmt_num(sum(s["tonnes"]["after"].values()))
    assert sh[2] == fmt_num(s["tonnes"]["before"]["road"])
    assert sh[3] == fmt_num(s["tonnes"]["after"]["road"])
    assert sh[6] == fmt_num(s["road_tonnage_reduction_t"])
    assert sh[7] == fmt_num(s["cost_cny"]["after"])


def test_road_left_reasons_and_bottlenecks(report: dict) -> None:
    html, s = report["html"], report["s"]
    assert _cells(html, "road-left-total")[4] == fmt_num(s["tonnes"]["after"]["road"])
    assert "能力不足 Capacity" in html and "运距不足 Below threshold" in html
    assert "瓦日铁路能力已满" in html
    i1, i2 = (
        html.index("瓦日铁路 武乡—聊城 Wari railway"),
        html.index("日照港站 Rizhao port station"),
    )
    assert i1 < i2  # ranked by shadow price
    assert ">12.50<" in html and ">3.20<" in html


def test_rule_and_parameters(report: dict) -> None:
    html, s = report["html"], report["s"]
    assert "400 km" in html and "soft" in html and "煤炭 Coal" in html
    rows = flatten_parameters(s["parameters"])
    assert ("road.cny_per_tkm", "0.4", "交通运输部 2019") in rows
    assert truck_payload_t(s) == 33.0
    assert "JT/T 1178 &lt;33 t&gt;" in html  # escaped, not markup


def test_modal_split_svg_proportional(report: dict) -> None:
    svg = modal_split_svg(report["s"]["tonnes"], width=690)
    rects = re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="30" fill="[^"]+" '
                       r'data-mode="(\w+)" data-period="(\w+)" data-t="(\d+)"', svg)  # fmt: skip
    after = {m: (float(w), float(t)) for w, m, p, t in rects if p == "after"}
    total = sum(t for _, t in after.values())
    for w, t in after.values():
        assert abs(w - 500 * t / total) < 0.01
    assert sum(w for w, _ in after.values()) == pytest.approx(500, abs=0.05)
    assert modal_split_svg(report["s"]["tonnes"]) in report["html"]


def test_text_is_escaped(tmp_path: Path) -> None:
    run = write_result_folder(tmp_path / "run", make_network())
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    s["title"] = "<script>alert(1)</script> & 聊城"
    (run / "summary.json").write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    html = render_report(run).read_text(encoding="utf-8")
    assert (
        "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 聊城" in html
    )
