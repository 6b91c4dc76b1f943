"""Scenario loading, tables and defaults (freight.scenario, freight.tables, freight.defaults)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freight.defaults import DEFAULTS, default_costs, default_policy
from freight.problem import Policy
from freight.scenario import (
    build_problem,
    load_scenario,
    scenario_parameters,
    scenario_to_dict,
    validate,
)
from freight.tables import read_commodities, read_flows, read_table
from networks import InputError, InputErrors, Network, Place

DATA = Path(__file__).parent / "data" / "scenario"
BASE = DATA / "base" / "base.toml"
CHILD = DATA / "child" / "child.toml"


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def extending(tmp_path: Path, body: str, *, name: str = "s.toml") -> Path:
    """A scenario file in tmp_path that extends the base fixture and adds ``body``."""
    return write(tmp_path / name, f'extends = "{BASE.as_posix()}"\n{body}')


def problems(exc: pytest.ExceptionInfo[InputErrors]) -> list[str]:
    return [e.line() for e in exc.value.errors]


# --- unknown keys -------------------------------------------------------------------------


def test_unknown_key_names_file_section_key_and_allowed(tmp_path: Path) -> None:
    path = extending(tmp_path, "[policy]\nthreshhold_km = 300\n")
    with pytest.raises(InputErrors) as exc:
        load_scenario(path)
    (line,) = problems(exc)
    assert str(path) in line
    assert "[policy]" in line and "'threshhold_km'" in line
    assert "allowed:" in line and "threshold_km" in line and "enforcement" in line


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ("colour = 1\n", "colour", "extends"),
        ("[costs.ship]\ncny_per_tkm = 1.0\n", "ship", "pipeline"),
        ("[costs.rail]\ncny_per_km = 1.0\n", "cny_per_km", "co2_g_per_tkm"),
        ("[costs.rail.coal]\nbase1 = 1.0\n", "base1", "cny_per_t"),
        ("[network]\nlink_tolerance_km = { road = 1.0, air = 2.0 }\n", "air", "rail"),
        ("[solver]\nthreads = 2\n", "threads", "name"),
    ],
)
def test_unknown_keys_anywhere(tmp_path: Path, body: str, key: str, allowed: str) -> None:
    with pytest.raises(InputErrors) as exc:
        load_scenario(extending(tmp_path, body))
    (line,) = problems(exc)
    assert f"'{key}'" in line and "unknown key" in line and allowed in line


def test_unknown_key_in_base_names_the_base_file(tmp_path: Path) -> None:
    base = write(tmp_path / "b.toml", "[flows]\nsheet = 1\n")
    child = write(tmp_path / "c.toml", 'extends = "b.toml"\n')
    with pytest.raises(InputErrors) as exc:
        load_scenario(child)
    lines = [x for x in problems(exc) if "'sheet'" in x]
    assert len(lines) == 1 and lines[0].startswith(f"{base}: [flows]: ")


# --- extends and paths ----------------------------------------------------------------------


def test_extends_merges_and_resolves_paths_relative_to_stating_file() -> None:
    s = load_scenario(CHILD)
    # Stated by the child: relative to child/.
    assert s.flows_file == str(DATA / "child" / "flows.csv")
    assert s.network.places == (
        str(DATA / "net" / "places.csv"),
        str(DATA / "child" / "places_extra.csv"),
    )
    # Stated by the base only: relative to base/.
    assert s.network.road == str(DATA / "net" / "road.geojson")
    assert s.commodities_file == str(DATA / "commodities.csv")
    # Tables merge: threshold from the base, enforcement from the child.
    assert s.policy.threshold_km == 400.0
    assert s.policy.enforcement == "soft" and s.policy.penalty_cny_per_t == 20.0
    assert s.name == "child" and s.title == "聊城 测试 基准"
    # Cost precedence: scenario commodity > scenario mode > tariff class > mode default.
    assert s.costs.of("road", "coal").cny_per_tkm == 0.40  # base's [costs.road]
    coal = s.costs.of("rail", "coal")
    # child's [costs.rail.coal] base, plus the default miscellaneous charges per rail leg
    assert s.parameters["costs.rail.coal.cny_per_t"].value == 15.0
    assert coal.cny_per_t == 15.0 + DEFAULTS["costs.rail.misc_cny_per_t"].value
    assert coal.cny_per_tkm == pytest.approx(0.098 + 0.033)  # class 4 + construction fund
    assert coal.co2_g_per_tkm == 8.0  # child's [costs.rail]
    misc = DEFAULTS["costs.rail.misc_cny_per_t"].value
    assert s.costs.of("rail", "coke").cny_per_t == 18.6 + misc
    assert s.costs.of("rail", "oil") == s.costs.by_mode["rail"]  # no class: mode default
    assert s.parameters["costs.rail.coal.cny_per_t"].source == "scenario child.toml"
    assert s.parameters["costs.road.cny_per_tkm"].source == "scenario base.toml"


def test_path_stated_in_base_stays_relative_to_base(tmp_path: Path) -> None:
    s = load_scenario(extending(tmp_path, 'name = "x"\n'))
    assert s.flows_file == str(DATA / "base" / "flows.csv")
    assert s.network.places == (str(DATA / "net" / "places.csv"),)


def test_extends_cycle_is_an_input_error() -> None:
    with pytest.raises(InputErrors) as exc:
        load_scenario(DATA / "cycle_a.toml")
    assert any("cycle" in x and "'extends'" in x for x in problems(exc))


def test_missing_referenced_files_name_their_keys(tmp_path: Path) -> None:
    path = extending(
        tmp_path,
        '[network]\nrail = "nowhere.gpkg"\nplaces = ["nowhere.csv"]\n[flows]\nfile = "x.csv"\n',
    )
    with pytest.raises(InputErrors) as exc:
        load_scenario(path)
    lines = problems(exc)
    assert len(lines) == 3
    for key in ("'rail'", "'places'", "'file'"):
        assert any(key in x and "file not found" in x for x in lines)


def test_all_scenario_problems_reported_at_once(tmp_path: Path) -> None:
    body = (
        '[policy]\nthreshold_km = -1\nenforcement = "strict"\ndistance = "crow"\n'
        'commodities = ["coal", "gold"]\n'
        '[costs]\ntruck_payload_t = 0\ncarbon_price_cny_per_t = "high"\n'
        "[costs.road]\ncny_per_tkm = -0.4\n"
        "[costs.rail.silver]\ncny_per_t = 1.0\n"
        '[solver]\nname = "gurobi"\n'
    )
    with pytest.raises(InputErrors) as exc:
        load_scenario(extending(tmp_path, body))
    lines = problems(exc)
    expected = [
        "'threshold_km'",
        "'enforcement'",
        "'distance'",
        "'commodities'",
        "'truck_payload_t'",
        "'carbon_price_cny_per_t'",
        "'cny_per_tkm'",
        "'silver'",
        "'name'",
    ]
    assert len(lines) == len(expected)
    for key in expected:
        assert sum(key in x for x in lines) == 1, key
    assert any("gurobi" in x and "highs, cbc" in x for x in lines)
    assert any("'gold'" in x for x in lines)


def test_unknown_tariff_class_needs_an_override(tmp_path: Path) -> None:
    write(
        tmp_path / "commodities.csv",
        "id,name_zh,name_en,rail_tariff_class,pipeline_ok,source\n"
        "coal,煤炭,coal,4,no,x\nore,矿石,ore,3,no,x\ncoke,焦炭,coke,5,no,x\n"
        "oil,原油,oil,7,yes,x\n",
    )
    body = f'[commodities]\nfile = "{(tmp_path / "commodities.csv").as_posix()}"\n'
    with pytest.raises(InputErrors) as exc:
        load_scenario(extending(tmp_path, body))
    (line,) = problems(exc)
    assert "class 7" in line and "[costs.rail.oil]" in line
    fixed = body + "[costs.rail.oil]\ncny_per_t = 20.0\ncny_per_tkm = 0.15\n"
    s = load_scenario(extending(tmp_path, fixed, name="t.toml"))
    assert s.costs.of("rail", "oil").cny_per_tkm == 0.15


def test_bad_toml_is_one_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputErrors) as exc:
        load_scenario(write(tmp_path / "bad.toml", "name = \n"))
    (line,) = problems(exc)
    assert "not valid TOML" in line


# --- tables ---------------------------------------------------------------------------------


def test_three_bad_flow_rows_give_three_lines() -> None:
    path = DATA / "bad_flows.csv"
    with pytest.raises(InputErrors) as exc:
        read_flows(path)
    lines = str(exc.value).splitlines()
    assert len(lines) == 3
    # Header is row 1, the comment row 2, the good flow row 3.
    assert lines[0] == (f"{path}: row 4: field 'tonnes_per_year': expected a number > 0, got 'abc'")
    assert "row 5" in lines[1] and "'baseline_mode'" in lines[1] and "'ship'" in lines[1]
    assert "row 6" in lines[2] and "'-5'" in lines[2]


def test_missing_column_is_one_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "id,commodity,origin,destination,baseline_mode,source\n")
    errors: list[InputError] = []
    assert read_flows(path, errors=errors) == ()
    assert len(errors) == 1
    assert errors[0].field == "tonnes_per_year" and errors[0].where == "row 1"


def test_bom_and_chinese_text(tmp_path: Path) -> None:
    commodities = read_commodities(DATA / "commodities.csv")  # has a BOM and a comment
    assert list(commodities)[:3] == ["coal", "ore", "coke"]
    assert commodities["ore"].name_zh == "矿石（铝土矿）"
    assert commodities["coal"].rail_tariff_class == 4
    assert commodities["oil"].rail_tariff_class is None and commodities["oil"].pipeline_ok
    path = write(
        tmp_path / "flows.csv",
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,shipper,source,note\n"
        '煤1,coal,聊城,信发,"1,000,000",,信发集团,[M] 估计,长治 → 茌平\n',
        bom=True,
    )
    (flow,) = read_flows(path)
    assert flow.id == "煤1" and flow.shipper == "信发集团" and flow.note == "长治 → 茌平"
    assert flow.tonnes == 1e6 and flow.baseline_mode == "road"


def test_row_numbers_count_comments_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "# note\nid,x\n\na,1\n# more\nb,2\n")
    errors: list[InputError] = []
    rows = read_table(path, required=("id", "x"), errors=errors)
    assert errors == []
    assert [(r.number, r.cells["id"]) for r in rows] == [(4, "a"), (6, "b")]


def test_duplicate_flow_ids_name_the_first_row(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.csv",
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,source\n"
        "f,coal,a,b,1,road,x\nf,coal,a,b,1,road,x\n",
    )
    with pytest.raises(InputErrors) as exc:
        read_flows(path)
    (line,) = problems(exc)
    assert "row 3" in line and "first at row 2" in line


# --- build_problem and validate -----------------------------------------------------------


def _network(*, handling: float = math.nan) -> Network:
    places = {
        pid: Place(pid, pid, 116.0, 36.5, "county", handling_cny_per_t=handling)
        for pid in ("liaocheng", "chiping", "xinfa")
    }
    return Network(graphs={}, places=places, links={})


def test_build_problem() -> None:
    s = load_scenario(BASE)
    problem = build_problem(s, _network())
    assert [f.id for f in problem.flows] == ["f1", "f2"]
    assert problem.flows[0].shipper == "信发集团" and problem.flows[1].baseline_mode == "rail"
    assert problem.policy == s.policy and problem.costs is s.costs
    assert problem.truck_payload_t == 33.0 and problem.solver == "highs"
    assert problem.name == "base"
    # Blank (NaN) handling gets the default; a stated one is kept.
    assert problem.network.places["xinfa"].handling_cny_per_t == 10.0
    kept = build_problem(s, _network(handling=7.0))
    assert kept.network.places["xinfa"].handling_cny_per_t == 7.0


def test_build_problem_reports_unknown_places_and_commodities(tmp_path: Path) -> None:
    flows = write(
        tmp_path / "flows.csv",
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,source\n"
        "a,coal,liaochen,xinfa,1,road,x\n"
        "b,gold,chiping,xinfa,1,road,x\n"
        "c,coal,chiping,xinfa,1,pipeline,x\n",
    )
    s = load_scenario(extending(tmp_path, f'[flows]\nfile = "{flows.as_posix()}"\n'))
    with pytest.raises(InputErrors) as exc:
        build_problem(s, _network())
    lines = problems(exc)
    assert len(lines) == 3
    assert "row 2" in lines[0] and "'origin'" in lines[0] and "'liaocheng'" in lines[0]
    assert "row 3" in lines[1] and "'gold'" in lines[1]
    assert "row 4" in lines[2] and "pipeline_ok" in lines[2]


def test_validate_sound_and_faulty(tmp_path: Path) -> None:
    assert validate(CHILD) == []
    assert validate(BASE) == []
    flows = write(
        tmp_path / "flows.csv",
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,source\n"
        "a,coal,nowhere,xinfa,1,road,x\nb,coal,chiping,xinfa,0,road,x\n",
    )
    body = f'[flows]\nfile = "{flows.as_posix()}"\n[policy]\nenforcement = "maybe"\n'
    errors = validate(extending(tmp_path, body))
    fields = sorted(e.field for e in errors)
    assert fields == ["enforcement", "origin", "tonnes_per_year"]


# --- defaults ---------------------------------------------------------------------------------


def test_every_default_has_unit_and_tagged_source() -> None:
    for key, param in DEFAULTS.items():
        assert param.source.strip(), key
        assert param.unit.strip(), key
        assert any(tag in param.source for tag in ("[S", "[D", "[M")), key


def test_every_effective_parameter_has_a_source() -> None:
    s = load_scenario(CHILD)
    d = scenario_to_dict(s)
    assert d["parameters"]
    for key, entry in d["parameters"].items():
        assert entry["source"], key
    assert d["policy"]["enforcement"] == "soft"
    assert d["title"] == "聊城 测试 基准"
    assert scenario_parameters(s) == d["parameters"]
    text = json.dumps(d, ensure_ascii=False)
    assert "聊城 测试 基准" in text and "construction fund" in text


def test_defaults_match_domain_facts() -> None:
    policy = default_policy()
    assert policy.commodities == frozenset({"coal", "ore", "coke", "oil"})
    assert policy.threshold_km == 400.0 and policy.enforcement == "hard"
    costs = default_costs()
    assert costs.by_mode["road"].co2_g_per_tkm == 60.0
    assert costs.by_mode["rail"].co2_g_per_tkm == 10.0
    assert costs.by_mode["rail"].cny_per_tkm == pytest.approx(0.131)
    assert costs.by_mode["pipeline"].cny_per_tkm == 0.15


def test_policy_off_keeps_everything_else() -> None:
    policy = load_scenario(CHILD).policy
    off = policy.off()
    assert off.enforcement == "off"
    assert (off.commodities, off.threshold_km, off.distance, off.max_access_km) == (
        policy.commodities,
        policy.threshold_km,
        policy.distance,
        policy.max_access_km,
    )
    assert off.penalty_cny_per_t == policy.penalty_cny_per_t


# --- round trip ---------------------------------------------------------------------------

_finite = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    commodities=st.lists(
        st.sampled_from(["coal", "ore", "coke", "oil", "alumina"]), unique=True, max_size=5
    ),
    threshold=_finite,
    access=_finite,
    penalty=_finite,
    distance=st.sampled_from(["road", "great_circle"]),
    enforcement=st.sampled_from(["hard", "soft", "off"]),
)
def test_policy_round_trips_through_toml(
    commodities: list[str],
    threshold: float,
    access: float,
    penalty: float,
    distance: str,
    enforcement: str,
) -> None:
    listed = ", ".join(f'"{c}"' for c in commodities)
    body = (
        "[policy]\n"
        f"commodities = [{listed}]\n"
        f"threshold_km = {threshold!r}\n"
        f"max_access_km = {access!r}\n"
        f"penalty_cny_per_t = {penalty!r}\n"
        f'distance = "{distance}"\n'
        f'enforcement = "{enforcement}"\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        policy = load_scenario(extending(Path(tmp), body)).policy
    assert policy == Policy(
        commodities=frozenset(commodities),
        threshold_km=threshold,
        distance=distance,  # type: ignore[arg-type]
        max_access_km=access,
        enforcement=enforcement,  # type: ignore[arg-type]
        penalty_cny_per_t=penalty,
    )
