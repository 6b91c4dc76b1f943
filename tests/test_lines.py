"""Named-line matching on a toy pair of parallel lines: high-speed vs conventional."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from networks import InputErrors, NetworkConfig
from networks.graph import build_graph
from networks.io import read_line_layer
from networks.lines import match_lines, read_rail_lines
from networks.simplification import simplify_graph

DATA = Path(__file__).parent / "data"


@pytest.fixture
def toy():
    G = simplify_graph(build_graph(read_line_layer(DATA / "toy_rail.geojson"), mode="rail"))
    lines = read_rail_lines(DATA / "toy_rail_lines.csv", DATA / "toy_rail_line_stations.csv")
    return G, lines


def test_hsr_and_conventional_are_told_apart(toy) -> None:
    G, lines = toy
    report = {m.line_id: m for m in match_lines(G, lines)}
    for _u, _v, d in G.edges(data=True):
        mid_lat = d["geometry"].interpolate(0.5, normalized=True).y
        if "toy_hsr" in d["lines"]:
            assert mid_lat > 36.02 and d["freight"] is False and d["name"] == "高铁线"
        if "toy_conv" in d["lines"]:
            assert mid_lat == pytest.approx(36.0, abs=0.001) and d["freight"] is True
            assert d["capacity_t"] == 40e6
    assert report["toy_conv"].ratio == pytest.approx(1.0, abs=0.01)
    assert report["toy_hsr"].ratio == pytest.approx(1.0, abs=0.01)
    assert report["toy_hsr"].matched_km == pytest.approx(27.0, abs=0.2)  # 0.3 deg at 36N
    assert not report["toy_conv"].gaps and not report["toy_conv"].unmatched_stations


def test_untagged_edges_default_to_freight_uncapped(toy) -> None:
    G, lines = toy
    match_lines(G, lines)
    untagged = [d for _, _, d in G.edges(data=True) if not d["lines"]]
    assert untagged  # the HSR ends outside its two stations
    assert all(d["freight"] and math.isinf(d["capacity_t"]) and d["name"] == "" for d in untagged)


def test_far_station_is_reported_not_raised(toy, tmp_path: Path) -> None:
    G, _ = toy
    st = tmp_path / "s.csv"
    st.write_text(
        (DATA / "toy_rail_line_stations.csv").read_text(encoding="utf-8")
        + "toy_conv,4,远方,116.5,36.5,test\n",
        encoding="utf-8",
    )
    lines = read_rail_lines(DATA / "toy_rail_lines.csv", st)
    report = {m.line_id: m for m in match_lines(G, lines, tolerance_km=5.0)}
    assert report["toy_conv"].unmatched_stations[0].startswith("远方")
    assert G.graph["line_matches"][0]["line_id"] == "toy_conv"


def test_line_table_errors(tmp_path: Path) -> None:
    lf = tmp_path / "l.csv"
    lf.write_text(
        "line_id,name_zh,name_en,capacity_t,freight,kind,source,note\na,甲,A,many,maybe,x,y,\n",
        encoding="utf-8",
    )
    sf = tmp_path / "s.csv"
    sf.write_text(
        "line_id,seq,station,lon,lat,source\na,1,x,116,36,s\nb,1,y,116,36,s\n", encoding="utf-8"
    )
    with pytest.raises(InputErrors) as exc:
        read_rail_lines(lf, sf)
    got = str(exc.value).splitlines()
    assert got[0].startswith(f"{lf}: row 2: field 'capacity_t': ")
    assert got[1].startswith(f"{lf}: row 2: field 'freight': ")
    assert got[2].startswith(f"{sf}: row 3: field 'line_id': ")


def test_config_without_lines_loads(tmp_path: Path) -> None:
    from networks.loading import build_network

    net = build_network(
        NetworkConfig(
            road=str(DATA / "toy_road.geojson"),
            rail=str(DATA / "toy_rail.geojson"),
            places=str(DATA / "toy_places.csv"),
        )
    )
    assert all(not d["lines"] for _, _, d in net.graphs["rail"].edges(data=True))


def _lines_table(tmp_path: Path, row: str) -> Path:
    p = tmp_path / "lines.csv"
    p.write_text(
        "line_id,name_zh,capacity_t,trains_per_day,train_net_t,freight\n" + row + "\n",
        encoding="utf-8",
    )
    return p


def _stations(tmp_path: Path, line_id: str) -> Path:
    """The toy conventional line's stations, under ``line_id``."""
    rows = (DATA / "toy_rail_line_stations.csv").read_text(encoding="utf-8").splitlines()
    keep = [rows[0]] + [
        r.replace("toy_conv", line_id, 1) for r in rows[1:] if r.startswith("toy_conv,")
    ]
    p = tmp_path / "stations.csv"
    p.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return p


def test_capacity_from_trains_per_day(tmp_path: Path) -> None:
    """DOMAIN.md: Mt/yr = 365 × trains/day × net train load / 1e6."""
    lines = read_rail_lines(
        _lines_table(tmp_path, "a,甲线,,36,3750,true"), _stations(tmp_path, "a")
    )
    assert lines["a"].capacity_t == pytest.approx(365 * 36 * 3750)
    assert lines["a"].train_net_t == 3750


def test_capacity_disagreeing_with_trains_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputErrors, match=r"row 2: field 'capacity_t': .*disagrees"):
        read_rail_lines(
            _lines_table(tmp_path, "a,甲线,10000000,36,3750,true"), _stations(tmp_path, "a")
        )


def test_matched_edges_carry_the_train_load(toy, tmp_path: Path) -> None:
    G, _ = toy
    lines = read_rail_lines(
        _lines_table(tmp_path, "toy_conv,普速线,,20,5000,true"), _stations(tmp_path, "toy_conv")
    )
    match_lines(G, lines)
    conv = [d for _u, _v, d in G.edges(data=True) if "toy_conv" in d["lines"]]
    assert conv and all(d["train_net_t"] == 5000 for d in conv)
    assert all(d["capacity_t"] == pytest.approx(365 * 20 * 5000) for d in conv)
