"""A small scenario written from scratch, every name and number changeable, for the tests of
issue 15 (bad input, hostile names, result folders, interruptions).

The network (as in ``tests/test_cli.py``): a straight road and a parallel railway along
36N from 112.0E to 116.5E (about 405 km, nine features each), a terminal at each end
linking road and rail, a mine beside the western terminal and a plant beside the eastern
one, and one coal flow between them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

PLACE_COLUMNS = ("id", "name", "name_en", "lon", "lat", "kind", "modes",
                 "handling_cny_per_t", "capacity_t", "county", "source")  # fmt: skip
FLOW_COLUMNS = ("id", "commodity", "origin", "destination", "tonnes_per_year",
                "baseline_mode", "shipper", "source", "note")  # fmt: skip

DEFAULT_PLACES: tuple[dict[str, object], ...] = (
    {"id": "t_west", "name": "西站", "lon": 112.01, "lat": 36.01, "kind": "station",
     "modes": "road;rail", "handling_cny_per_t": 10},
    {"id": "t_east", "name": "东站", "lon": 116.49, "lat": 36.01, "kind": "station",
     "modes": "road;rail", "handling_cny_per_t": 10},
    {"id": "s_mine", "name": "煤矿", "lon": 112.02, "lat": 36.0, "kind": "mine"},
    {"id": "s_plant", "name": "电厂", "lon": 116.48, "lat": 36.0, "kind": "plant",
     "county": "东昌府区"},
)  # fmt: skip
DEFAULT_FLOWS: tuple[dict[str, object], ...] = (
    {"id": "F1", "commodity": "coal", "origin": "s_mine", "destination": "s_plant",
     "tonnes_per_year": 1000, "shipper": "电厂"},
)  # fmt: skip


def line(coords: Sequence[tuple[float, float]], **props: object) -> dict:
    """A GeoJSON LineString feature."""
    geometry = {"type": "LineString", "coordinates": [list(c) for c in coords]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, object]]) -> str:
    """A CSV table with ``columns`` (missing cells blank; ``source`` defaults to "test")."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["test" if c == "source" and c not in r else r.get(c, "") for c in columns])
    return buf.getvalue()


def write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")  # fmt: skip
    return path


def write_scenario(
    folder: Path,
    *,
    name: str = "tiny",
    title: str = "tiny",
    places: Sequence[dict[str, object]] = DEFAULT_PLACES,
    flows: Sequence[dict[str, object]] = DEFAULT_FLOWS,
    rail_capacity_t: float | None = None,
    rail_name: str | None = None,
    enforcement: str = "hard",
    road: list[dict] | None = None,
    rail: list[dict] | None = None,
    pipeline: list[dict] | None = None,
    commodities: str = "id,name_zh,name_en,rail_tariff_class,pipeline_ok,source\n"
    "coal,煤炭,coal,4,no,test\noil,原油,crude oil,,yes,test\n",
    extra_toml: str = "",
) -> Path:
    """Write the scenario into ``folder`` (created) and return its TOML file."""
    folder.mkdir(parents=True, exist_ok=True)
    xs = [112.0 + 0.5 * i for i in range(10)]  # 112.0 ... 116.5E
    if road is None:
        road = [line([(x, 36.0), (x + 0.5, 36.0)]) for x in xs[:-1]]
    if rail is None:
        props: dict[str, object] = {}
        if rail_capacity_t is not None:
            props["capacity_t"] = rail_capacity_t
        if rail_name is not None:
            props["name"] = rail_name
        rail = [line([(x, 36.02), (x + 0.5, 36.02)], **props) for x in xs[:-1]]
    write_geojson(folder / "road.geojson", road)
    write_geojson(folder / "rail.geojson", rail)
    net = 'road = "road.geojson"\nrail = "rail.geojson"\nplaces = "places.csv"\n'
    if pipeline is not None:
        write_geojson(folder / "pipeline.geojson", pipeline)
        net += 'pipeline = "pipeline.geojson"\n'
    (folder / "places.csv").write_text(csv_text(PLACE_COLUMNS, places), encoding="utf-8")
    (folder / "flows.csv").write_text(csv_text(FLOW_COLUMNS, flows), encoding="utf-8")
    (folder / "commodities.csv").write_text(commodities, encoding="utf-8")
    toml = folder / "s.toml"
    toml.write_text(
        f"name = {json.dumps(name, ensure_ascii=False)}\n"
        f"title = {json.dumps(title, ensure_ascii=False)}\n"
        f"[network]\n{net}[flows]\nfile = \"flows.csv\"\n[commodities]\n"
        f'file = "commodities.csv"\n[policy]\nenforcement = "{enforcement}"\n'
        f'threshold_km = 400\ncommodities = ["coal", "oil"]\n{extra_toml}',
        encoding="utf-8",
    )
    return toml
