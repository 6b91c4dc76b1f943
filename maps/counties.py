"""The county layer of the modal map: counties shaded by the road line-haul tonnes the
rule moves off the road (without − with), in equal-interval classes; a county with none is
not filled at all, so it never reads as the lowest class."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maps import _style as st
from maps.results import county_reduction


def county_breaks(values: Iterable[float], n: int = len(st.COUNTY_COLOURS)) -> list[float]:
    """Upper bounds of ``n`` equal-interval classes over the positive reductions."""
    top = max((v for v in values if v > 0), default=0.0)
    if top <= 0:
        return []
    return [top * (k + 1) / n for k in range(n)]


def county_shading(
    counties: dict[str, Any], flows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[float]]:
    """Shade county polygons by the road line-haul tonnes the rule moves off the road
    (without − with; choropleth classes). A county with none is not filled at all
    (:data:`maps._style.COUNTY_NONE_FILL_OPACITY`), so it never reads as the lowest class.

    Returns
    -------
    (list of dict, list of float)
        Per county feature ``name, adcode, reduction_t`` (without − with), ``total_t``
        (today − with), ``cls`` (-1 = no reduction), ``colour`` and ``opacity`` (fill);
        and the class upper bounds.
    """
    red = county_reduction(flows)
    total = county_reduction(flows, a="baseline", b="with_rule")
    breaks = county_breaks(red.values())
    out = []
    for f in counties.get("features", []):
        props = f.get("properties") or {}
        name = str(props.get("name", ""))
        r = red.get(name, 0.0)
        cls = -1
        if r > 0:
            cls = next((k for k, b in enumerate(breaks) if r <= b * (1 + 1e-12)), len(breaks) - 1)
        colour = st.COUNTY_COLOURS[cls] if cls >= 0 else st.COUNTY_NONE_COLOUR
        opacity = st.COUNTY_FILL_OPACITY if cls >= 0 else st.COUNTY_NONE_FILL_OPACITY
        out.append({"name": name, "adcode": str(props.get("adcode", "")), "reduction_t": r,
                    "total_t": total.get(name, 0.0), "cls": cls, "colour": colour,
                    "opacity": opacity})  # fmt: skip
    return out, breaks
