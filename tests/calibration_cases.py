"""Hand-sized scenarios on files for the calibration and three-state tests.

One origin O (a mine with a loading track) and one destination D (a plant with its own
siding), joined by a road and a railway of the same stated length (``length_km``): the
road-only chain costs ``road_rate × km``, the rail chain ``rail_per_t + rail_rate × km +
handling(O) + handling(D)``, so the gap between them is worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

COMMODITIES = """id,name_zh,name_en,rail_tariff_class,pipeline_ok,source
coal,煤炭,coal,4,false,test
alumina,氧化铝,alumina,5,false,test
"""


def write_case(
    folder: Path,
    *,
    flows: list[tuple[str, float, str]] | list[tuple[str, float, str, str]],
    km: float = 500.0,
    road_rate: float = 0.30,
    rail_per_t: float = 10.0,
    rail_rate: float = 0.25,
    handling: float = 2.5,
    rail_capacity_t: float | None = None,
    calibration: str = "",
    extra: str = "",
) -> Path:
    """Write a scenario folder; ``flows`` are ``(id, tonnes, baseline_mode[, commodity])``
    from O to D (coal unless said; the rule covers coal only).

    Returns the scenario TOML's path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    line = [[115.0, 36.0], [116.0, 36.0]]

    def layer(props: dict) -> str:
        feat = {
            "type": "Feature",
            "properties": {"length_km": km, **props},
            "geometry": {"type": "LineString", "coordinates": line},
        }
        return json.dumps({"type": "FeatureCollection", "features": [feat]})

    (folder / "road.geojson").write_text(layer({"name": "G0"}), encoding="utf-8")
    rail_props: dict = {"name": "test railway"}
    if rail_capacity_t is not None:
        rail_props["capacity_t"] = rail_capacity_t
    (folder / "rail.geojson").write_text(layer(rail_props), encoding="utf-8")
    (folder / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        f"O,矿,115.0,36.0,mine,road;rail,{handling},,test\n"
        f"D,厂,116.0,36.0,siding,road;rail,{handling},,test\n",
        encoding="utf-8",
    )
    rows = "\n".join(
        f"{f[0]},{f[3] if len(f) > 3 else 'coal'},O,D,{f[1]},{f[2]},厂,test," for f in flows
    )
    (folder / "flows.csv").write_text(
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,shipper,source,note\n"
        + rows
        + "\n",
        encoding="utf-8",
    )
    (folder / "commodities.csv").write_text(COMMODITIES, encoding="utf-8")
    toml = f"""name = "case"
title = "hand case"
[network]
road = "road.geojson"
rail = "rail.geojson"
places = "places.csv"
[flows]
file = "flows.csv"
[commodities]
file = "commodities.csv"
[policy]
commodities = ["coal"]
[costs]
truck_payload_t = 33.0
[costs.road]
cny_per_tkm = {road_rate}
cny_per_t = 0.0
cny_per_trip = 0.0
[costs.rail]
misc_cny_per_t = 0.0
reliability_cny_per_t = 0.0
[costs.rail.coal]
cny_per_t = {rail_per_t}
cny_per_tkm = {rail_rate}
{extra}
{calibration}
"""
    path = folder / "case.toml"
    path.write_text(toml, encoding="utf-8")
    return path


RELIABILITY = """[calibration.parameters."costs.rail.reliability_cny_per_t"]
lower = 0.0
upper = {upper}
source = "test bounds"
"""
