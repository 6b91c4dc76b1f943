"""LP names are unique for any Unicode id: a stable ASCII key per id, and a label table
beside an exported LP (issue 15: places 甲站 and 乙站 both became ``terminal___``)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freight.cli import main
from freight.network_view import MultimodalGraph, lp_key
from freight.problem import Flow
from freight.solve import solve
from tests import tinynet as tn
from tests.scenario_kit import DEFAULT_PLACES, write_scenario
from tests.test_optimiser_hand import costs, policy


def test_keys_are_ascii_stable_and_readable_where_they_can_be() -> None:
    assert lp_key("mine_01") == "mine_01"
    assert lp_key("甲站") != lp_key("乙站")
    # stable across processes and versions: a warm start's basis is keyed by these
    assert lp_key("甲站") == "u103377fc13"
    assert lp_key("Xinfa 1") == "Xinfa_1_" + lp_key("Xinfa 1")[-10:]
    assert lp_key("a b") != lp_key("a_b") != lp_key("a-b")


@given(st.lists(st.text(min_size=1, max_size=30), min_size=2, max_size=30, unique=True))
def test_distinct_ids_get_distinct_ascii_keys(ids: list[str]) -> None:
    keys = [lp_key(i) for i in ids]
    assert len(set(keys)) == len(keys)
    for k in keys:
        assert re.fullmatch(r"[A-Za-z0-9_]+", k) and len(k) <= 40


def test_terminal_rows_of_unicode_ids_are_unique() -> None:
    ids = ["甲站", "乙站", "a b", "a_b", "a-b", "u103377fc13"]  # the last: 甲站's key itself
    places = [tn.place("O", {"road": (1, 0.0)}), tn.place("D", {"road": (2, 0.0)})]
    places += [tn.place(pid, {"road": (1, 1.0), "rail": (11, 0.0)}, kind="station",
                        capacity=1000.0) for pid in ids]  # fmt: skip
    net = tn.network(road=[(1, 2, 401.0)], rail=[(11, 12, 500.0)], places=places)
    graph = MultimodalGraph(net, costs(0.3))
    names = [r.name for r in graph.rows if r.kind == "terminal"]
    assert len(names) == len(ids) == len(set(names))


def test_basis_and_bindings_keep_each_terminal_apart() -> None:
    """With HiGHS the names did not fail but keyed bottlenecks and the warm-start basis
    ambiguously: two capacitated terminals 甲站 and 乙站 now keep two rows in the basis."""
    places = [
        tn.place("O", {"road": (1, 0.0)}),
        tn.place("D", {"road": (2, 0.0)}),
        tn.place("甲站", {"road": (1, 10.0), "rail": (11, 0.0)}, kind="station", handling=5.0,
                 capacity=600.0),
        tn.place("乙站", {"road": (2, 10.0), "rail": (12, 0.0)}, kind="station", handling=5.0,
                 capacity=800.0),
    ]  # fmt: skip
    net = tn.network(road=[(1, 2, 300.0)], rail=[(11, 12, 500.0)], places=places)
    prob = tn.problem(net, [Flow("f1", "steel", "O", "D", 1000.0)], cost=costs(0.1),
                      policy=policy())  # fmt: skip
    sol = solve(prob, settle=False)
    assert sol.basis is not None
    caps = [n for n in sol.basis["cap"] if n.startswith("terminal_")]
    assert len(caps) == 2
    (b,) = sol.bindings
    assert b.ref == ("甲站",) and "甲站" in b.label


CASES = [["--solver", "cbc"], ["--export-lp", "{tmp}/final.lp"],
         ["--export-lp", "{tmp}/final.mps", "--solver", "cbc"]]  # fmt: skip


@pytest.mark.parametrize("args", CASES)
def test_cbc_and_export_lp_with_places_jia_and_yi(args: list[str], tmp_path: Path) -> None:
    """The issue's reproduction: with --solver cbc or --export-lp PuLP raised
    "overlapping constraint names: terminal___"."""
    places = [dict(p) for p in DEFAULT_PLACES]
    places[0].update(id="甲站", capacity_t=600)
    places[1].update(id="乙站", capacity_t=700)
    toml = write_scenario(tmp_path / "s", places=places, enforcement="soft")
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["run", str(toml), "--no-maps", "--out", str(tmp_path / "out"), *args]) == 0
    if "--export-lp" in args:
        lp = Path(args[args.index("--export-lp") + 1])
        text = lp.read_text(encoding="ascii")  # names are ASCII
        jia, yi = f"terminal_{lp_key('甲站')}", f"terminal_{lp_key('乙站')}"
        assert jia in text and yi in text
        with open(f"{lp}.names.csv", encoding="utf-8-sig", newline="") as fh:
            table = {r["name"]: r for r in csv.DictReader(fh)}
        assert table[jia]["id"] == "甲站" and table[yi]["id"] == "乙站"
        assert "西站" in table[jia]["label"]
        assert {r["kind"] for r in table.values()} >= {"demand", "terminal", "chain"}
