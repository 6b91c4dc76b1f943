"""A hand-sized scenario on files for the sweep tests: two coal flows whose hauls differ.

::

    O1 ──── 300 km ──── D ──── 500 km ──── O2      (a road and a railway, both the same)

O1 and O2 are mines with a loading track, D a plant with its own siding (rail lifts at
both ends, 2.5 CNY/t each, no road legs). F1: 1,000 t O1 → D; F2: 2,000 t O2 → D; both
by road today.

- Road: 0.28 CNY/t·km, 60 g CO2/t·km. F1 84 CNY/t, F2 140 CNY/t.
- Rail (coal): 20 CNY/t + 0.25 CNY/t·km + 2 × 2.5 handling, 10 g CO2/t·km. F1 100, F2 150.

Road is the cheaper for both, so without the rule both stay on the road (no voluntary
shift) and the rule moves a flow exactly when its haul reaches the threshold:

==================  ==========  =================  ===============  ============
threshold (km)      moved (t)   policy cost (CNY)  CO2 abated (t)   CNY / t CO2
==================  ==========  =================  ===============  ============
≤ 300               3,000       36,000             65               553.85
300 < … ≤ 500       2,000       20,000             50               400
> 500               0           0                  0                —
==================  ==========  =================  ===============  ============

F1 saves 1,000 × 300 × 50 g = 15 t CO2 at 16 CNY/t × 1,000 = 16,000 CNY (1,066.67 CNY/t
CO2); F2 saves 2,000 × 500 × 50 g = 50 t at 10 × 2,000 = 20,000 CNY (400 CNY/t CO2): on the
MAC curve F2 comes first, and the two bars' areas add up to the policy cost.

``rail_capacity_t`` caps the railway D–O2: below 2,000 t the hard rule cannot move F2
(infeasible at a threshold ≤ 500 km).
"""

from __future__ import annotations

import json
from pathlib import Path

F1_KM, F2_KM = 300.0, 500.0
F1_T, F2_T = 1000.0, 2000.0


def write_two_flows(folder: Path, *, rail_capacity_t: float | None = None,
                    calibration: str = "") -> Path:  # fmt: skip
    """Write the scenario folder; returns the TOML's path."""
    folder.mkdir(parents=True, exist_ok=True)

    def layer(cap: float | None) -> str:
        feats = []
        for (a, b), km, c in (((115.0, 116.0), F1_KM, None), ((116.0, 117.0), F2_KM, cap)):
            props: dict = {"length_km": km, "name": f"line {km:g}"}
            if c is not None:
                props["capacity_t"] = c
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "LineString",
                                       "coordinates": [[a, 36.0], [b, 36.0]]}})  # fmt: skip
        return json.dumps({"type": "FeatureCollection", "features": feats})

    (folder / "road.geojson").write_text(layer(None), encoding="utf-8")
    (folder / "rail.geojson").write_text(layer(rail_capacity_t), encoding="utf-8")
    (folder / "places.csv").write_text(
        "id,name,lon,lat,kind,modes,handling_cny_per_t,capacity_t,source\n"
        "O1,矿一,115.0,36.0,mine,road;rail,2.5,,test\n"
        "D,厂,116.0,36.0,siding,road;rail,2.5,,test\n"
        "O2,矿二,117.0,36.0,mine,road;rail,2.5,,test\n",
        encoding="utf-8",
    )
    (folder / "flows.csv").write_text(
        "id,commodity,origin,destination,tonnes_per_year,baseline_mode,shipper,source,note\n"
        f"F1,coal,O1,D,{F1_T},road,厂,test,\nF2,coal,O2,D,{F2_T},road,厂,test,\n",
        encoding="utf-8",
    )
    (folder / "commodities.csv").write_text(
        "id,name_zh,name_en,rail_tariff_class,pipeline_ok,source\ncoal,煤炭,coal,4,false,test\n",
        encoding="utf-8",
    )
    toml = f"""name = "two-flows"
title = "两条货流 two flows"
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
cny_per_tkm = 0.28
cny_per_t = 0.0
cny_per_trip = 0.0
co2_g_per_tkm = 60.0
[costs.rail]
misc_cny_per_t = 0.0
reliability_cny_per_t = 0.0
co2_g_per_tkm = 10.0
[costs.rail.coal]
cny_per_t = 20.0
cny_per_tkm = 0.25
{calibration}
"""
    path = folder / "two.toml"
    path.write_text(toml, encoding="utf-8")
    return path
