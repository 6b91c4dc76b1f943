"""Where a run's map looks: the extent comes from the scenario, not from one city.

:func:`study_area` is the city the scenario is about: the bounds of its county polygons
(when the scenario gives them) and of the places at the flows' local end -- the end that
``flows.csv`` gives a ``county`` for -- widened by a margin, so the roads around the
city's edge are drawn too. :func:`flow_area` is the reach of the flows: every place a flow
starts or ends at, widened more, for the rail and pipeline lines that could serve them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely

from maps.results import Results
from networks import Network

BBox = tuple[float, float, float, float]
#: Margin around the study area (degrees; ~25 km): the roads just outside the city.
STUDY_MARGIN_DEG = 0.25
#: Margin around the places of the flows (degrees; ~100 km): lines that could serve them.
FLOW_MARGIN_DEG = 1.0


def _box(points: Iterable[tuple[float, float]], margin: float) -> BBox | None:
    pts = list(points)
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)


def _local_places(results: Results, network: Network) -> list[str]:
    """The flows' local ends: the end whose place has the flow's ``county`` (as
    ``flows.csv`` fills it from the origin, else the destination)."""
    out = []
    for r in results.flows:
        county = r.get("county") or ""
        if not county:
            continue
        for end in ("origin", "destination"):
            p = network.places.get(r.get(end) or "")
            if p is not None and p.county == county:
                out.append(p.id)
                break
    return out


def study_area(
    results: Results, network: Network, counties: str | Path | None = None, *,
    margin_deg: float = STUDY_MARGIN_DEG,
) -> BBox | None:
    """The city of the scenario with a margin, ``(lon0, lat0, lon1, lat1)``; when neither
    counties nor flows with a county say where it is, every place a flow touches."""
    points = [(network.places[p].lon, network.places[p].lat)
              for p in _local_places(results, network)]
    if counties is not None:
        data: dict[str, Any] = json.loads(Path(counties).read_text(encoding="utf-8"))
        geoms = [shapely.geometry.shape(f["geometry"]) for f in data.get("features", [])
                 if f.get("geometry")]
        if geoms:
            x0, y0, x1, y1 = shapely.total_bounds(geoms).tolist()
            points += [(x0, y0), (x1, y1)]
    if not points:
        return flow_area(results, network, margin_deg=margin_deg)
    return _box(points, margin_deg)


def flow_area(
    results: Results, network: Network, *, margin_deg: float = FLOW_MARGIN_DEG,
) -> BBox | None:
    """Every place a flow starts or ends at, with a margin (None without flows)."""
    ids = {r.get(end) or "" for r in results.flows for end in ("origin", "destination")}
    return _box(((network.places[p].lon, network.places[p].lat) for p in sorted(ids)
                 if p in network.places), margin_deg)
