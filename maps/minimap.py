"""Static map pictures for the printable report: the flows of a state drawn from
``links.geojson`` as inline SVG (no browser, no network, no image library).

Each panel shows one state's flows (colour = mode, width ∝ tonnes on one scale for every
panel), the terminals that handle tonnes in that state (``terminals.csv``), the scenario's
counties as a grey outline when given, and a km scale bar. The projection is
equirectangular around the extent's middle latitude (north up) -- plain and exact enough
for a picture of a few hundred km.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, shape

from maps import _style as st
from maps.results import STATES

#: How many of the busiest terminals are named on a panel.
LABELS: int = 5
#: Widest flow line in the picture (px) and the thinnest.
MAX_PX: float = 6.0
MIN_PX: float = 0.8
_KM_PER_DEG = 111.32


def extent(links: dict[str, Any], *, margin: float = 0.04) -> tuple[float, float, float, float]:
    """``(lon0, lat0, lon1, lat1)`` of every link carrying flow in any state, widened by
    ``margin`` of its size (a small box around the middle when there is none)."""
    xs: list[float] = []
    ys: list[float] = []
    for f in links.get("features", []):
        p = f["properties"]
        if not any((p.get(f"tonnes_{s}") or 0.0) > 0 for s in STATES):
            continue
        for x, y in f["geometry"]["coordinates"]:
            xs.append(x)
            ys.append(y)
    if not xs:
        return (115.5, 36.0, 116.5, 37.0)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx, dy = max(x1 - x0, 0.05) * margin, max(y1 - y0, 0.05) * margin
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


class _Frame:
    """Lon/lat -> px inside ``width`` × ``height``, equirectangular at the box's middle
    latitude, centred, north up."""

    def __init__(self, box: tuple[float, float, float, float], width: float, height: float):
        x0, y0, x1, y1 = box
        self.k = math.cos(math.radians((y0 + y1) / 2))
        span_x, span_y = (x1 - x0) * self.k, (y1 - y0)
        self.s = min(width / span_x, height / span_y)  # px per degree of latitude
        self.ox = (width - span_x * self.s) / 2 - x0 * self.k * self.s
        self.oy = (height - span_y * self.s) / 2 + y1 * self.s
        self.km_per_px = _KM_PER_DEG / self.s

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel position, to half a pixel."""
        return (round((lon * self.k * self.s + self.ox) * 2) / 2,
                round((self.oy - lat * self.s) * 2) / 2)  # fmt: skip

    def path(self, coords: Sequence[Sequence[float]]) -> str:
        pts: list[tuple[float, float]] = []
        for x, y in coords:
            p = self.xy(x, y)
            if not pts or p != pts[-1]:
                pts.append(p)
        if len(pts) == 1:
            pts.append(pts[0])
        return "M" + "L".join(f"{x:g} {y:g}" for x, y in pts)


def _nice_km(km: float) -> float:
    """The largest 1, 2 or 5 × 10^k at most ``km``."""
    k = 10 ** math.floor(math.log10(km))
    return max(m * k for m in (1, 2, 5) if m * k <= km)


def _county_paths(counties: dict[str, Any], frame: _Frame, tol_deg: float) -> str:
    geoms = [shape(f["geometry"]) for f in counties.get("features", []) if f.get("geometry")]
    if not geoms:
        return ""
    outline = shapely.union_all(geoms).simplify(tol_deg)
    parts = []
    for poly in getattr(outline, "geoms", [outline]):
        rings = [poly.exterior, *poly.interiors] if hasattr(poly, "exterior") else []
        parts.append(" ".join(frame.path(list(r.coords)) + "Z" for r in rings))
    return (f'<path d="{" ".join(parts)}" fill="#e8e8e8" stroke="#636363" stroke-width="0.8" '
            'fill-rule="evenodd"/>')  # fmt: skip


def state_svg(  # noqa: PLR0913 -- keyword-only drawing options of one panel
    links: dict[str, Any],
    terminals: list[dict[str, Any]],
    state: str,
    *,
    box: tuple[float, float, float, float],
    top_t: float,
    width: int = 340,
    height: int = 250,
    title: str = "",
    counties: dict[str, Any] | None = None,
) -> str:
    """One state's flows as an ``<svg>`` (escaped text).

    Parameters
    ----------
    links : dict
        ``links.geojson``.
    terminals : list of dict
        ``terminals.csv`` rows (``lon``, ``lat``, ``throughput_<state>_t``).
    state : str
        Which tonnes to draw.
    box : tuple
        ``(lon0, lat0, lon1, lat1)``: the same for every panel (:func:`extent`).
    top_t : float
        The tonnes drawn :data:`MAX_PX` wide: the same for every panel.
    width, height : int
        Size in px.
    title : str
        Drawn at the top left (plain text; escaped here).
    counties : dict, optional
        County polygons (GeoJSON) drawn as a grey area under the flows.

    Returns
    -------
    str
        ``<svg data-state=...>``: the links with tonnes in ``state`` as ``<path
        data-mode data-links>`` elements, one per mode and width step, heaviest on top;
        terminals as circles; a km scale bar.
    """
    frame = _Frame(box, width, height - 18)
    tol = frame.km_per_px / _KM_PER_DEG * 0.7  # under a pixel
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" data-state="{st.esc(state)}" '
        f'aria-label="{st.esc(title)}" font-family="sans-serif" font-size="11" '
        'class="minimap"><rect width="100%" height="100%" fill="#fbfbfb" stroke="#bbb"/>'
    ]
    if counties:
        parts.append(_county_paths(counties, frame, tol))
    labels: list[str] = []
    # one <path> per mode and width step (a quarter px): a few dozen elements, not a
    # thousand, heaviest on top
    groups: dict[tuple[str, float], list[str]] = {}
    for f in links.get("features", []):
        p = f["properties"]
        t = float(p.get(f"tonnes_{state}") or 0.0)
        if t <= 0:
            continue
        w = MIN_PX + (MAX_PX - MIN_PX) * min(t / top_t, 1.0) if top_t > 0 else MIN_PX
        line = LineString(f["geometry"]["coordinates"]).simplify(tol, preserve_topology=False)
        key = (str(p.get("mode") or "road"), round(w * 4) / 4)
        groups.setdefault(key, []).append(frame.path(list(line.coords)))
    order = {m: i for i, m in enumerate(st.MODE_ORDER)}
    for (mode, w), paths in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 9),
                                                                   kv[0][1])):  # fmt: skip
        parts.append(f'<path d="{"".join(paths)}" stroke="{st.MODE_COLOURS.get(mode, "#000")}" '
                     f'stroke-width="{w:g}" fill="none" stroke-linecap="round" '
                     f'stroke-linejoin="round" opacity="0.9" data-mode="{st.esc(mode)}" '
                     f'data-links="{len(paths)}"/>')  # fmt: skip
    used = [tm for tm in terminals if (tm.get(f"throughput_{state}_t") or 0.0) > 0
            and tm.get("lon") is not None and tm.get("lat") is not None]  # fmt: skip
    used.sort(key=lambda tm: (-(tm.get(f"throughput_{state}_t") or 0.0), str(tm.get("id"))))
    placed: list[tuple[float, float, float, float]] = []
    for rank, tm in enumerate(used):
        thr = tm.get(f"throughput_{state}_t") or 0.0
        x, y = frame.xy(tm["lon"], tm["lat"])
        r = 1.5 + 3.5 * math.sqrt(min(thr / top_t, 1.0)) if top_t > 0 else 1.5
        parts.append(f'<circle cx="{x:g}" cy="{y:g}" r="{r:.1f}" fill="#fff" stroke="#333" '
                     f'stroke-width="1"><title>{st.esc(tm.get("name"))}: {st.fmt_num(thr)} t'
                     "</title></circle>")  # fmt: skip
        if rank >= LABELS:
            continue
        # the busiest terminals named, short, where the name does not run into another
        name = str(tm.get("name") or "").split(" (")[0].split("（")[0]
        box = (x + r + 2, y - 5, x + r + 2 + 9.5 * len(name), y + 5)
        if box[2] > width or box[1] < 22 or any(box[0] < b[2] and box[2] > b[0] and box[1] < b[3]
                                 and box[3] > b[1] for b in placed):  # fmt: skip
            continue
        placed.append(box)
        labels.append(f'<text x="{box[0]:g}" y="{y + 3.5:g}" font-size="9.5" fill="#111" '
                      'stroke="#fff" stroke-width="2.5" paint-order="stroke">'
                      f"{st.esc(name)}</text>")  # fmt: skip
    parts += labels
    km = _nice_km(width * 0.25 * frame.km_per_px)
    bar = km / frame.km_per_px
    y = height - 7
    parts.append(
        f'<path d="M8 {y - 4}V{y}H{8 + bar:.1f}V{y - 4}" stroke="#333" fill="none" '
        f'stroke-width="1.2"/><text x="{12 + bar:.1f}" y="{y}" fill="#333">'
        f"{st.fmt_num(km)} km</text>"
    )
    if title:
        parts.append(f'<text x="8" y="16" font-size="12.5" font-weight="bold" fill="#222">'
                     f"{st.esc(title)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def same_flows(links: dict[str, Any], a: str, b: str, *, tol_t: float = 0.5) -> bool:
    """Whether states ``a`` and ``b`` put the same tonnes on every link."""
    return all(abs((f["properties"].get(f"tonnes_{a}") or 0.0)
                   - (f["properties"].get(f"tonnes_{b}") or 0.0)) <= tol_t
               for f in links.get("features", []))  # fmt: skip


def read_counties(counties: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """County polygons (GeoJSON) from a path, as they are, or None."""
    if counties is None or isinstance(counties, dict):
        return counties
    return json.loads(Path(counties).read_text(encoding="utf-8"))


def same_split(summary: dict[str, Any], a: str, b: str, *, rel: float = 0.005) -> bool:
    """Whether states ``a`` and ``b`` carry the same line-haul tonnes by mode (within
    ``rel`` of the total), from ``summary.json``."""
    ta = ((summary.get("states") or {}).get(a) or {}).get("tonnes")
    tb_ = ((summary.get("states") or {}).get(b) or {}).get("tonnes")
    if not ta or not tb_:
        return False
    total = sum(ta.values()) or 1.0
    return all(abs(ta.get(m, 0.0) - tb_.get(m, 0.0)) <= rel * total for m in set(ta) | set(tb_))


def flow_maps(
    links: dict[str, Any],
    terminals: list[dict[str, Any]],
    *,
    summary: dict[str, Any] | None = None,
    counties: str | Path | dict[str, Any] | None = None,
    width: int = 340,
    height: int = 230,
) -> str:
    """The report's map picture: side by side, the flows without the rule and with it (today
    too, when its modal split differs from without the rule's: :func:`same_split` on
    ``summary``, else :func:`same_flows`; when it does not, the legend says so), on one
    extent and one width scale, with a shared legend.

    Returns
    -------
    str
        A ``<div class="maps">`` of ``<svg>`` panels and the legend line (escaped HTML).
    """
    box = extent(links)
    top = max((f["properties"].get(f"tonnes_{s}") or 0.0
               for f in links.get("features", []) for s in STATES), default=0.0)  # fmt: skip
    shapes = read_counties(counties)
    today_same = same_split(summary, "baseline", "without_rule") if summary else \
        same_flows(links, "baseline", "without_rule")
    panels = [("without_rule", "无规则最低成本 Without the rule")] if today_same \
        else [("baseline", "现状 Today"), ("without_rule", "无规则最低成本 Without the rule")]
    panels.append(("with_rule", "有规则最低成本 With the rule"))
    w = width if len(panels) == 2 else int(width * 2 / 3)
    h = height if len(panels) == 2 else int(height * 2 / 3) + 12
    svgs = "".join(state_svg(links, terminals, x, box=box, top_t=top, width=w, height=h,
                             title=title, counties=shapes) for x, title in panels)  # fmt: skip
    legend = " ".join(
        f'<span><i style="border-top:3px solid {st.MODE_COLOURS[m]}"></i>'
        f"{st.esc(st.mode_label(m))}</span>" for m in st.MODE_ORDER
    )
    return (
        f'<div class="maps" id="flow-maps">{svgs}</div><p class="note maplegend">{legend} '
        f"线宽 ∝ 货量 width ∝ tonnes (最宽 widest = {st.fmt_num(top / 1e4, digits=0)} 万t) · "
        "圆 = 场站吞吐 circles = terminal throughput"
        + (" · 灰色 = 情景区县 grey = the scenario's counties" if shapes else "")
        + " · 北向上 north up"
        + ("<br>现状的方式分担与无规则最低成本相同（路线可有不同），故不另画。Today's modal split is "
           "the same as without the rule (routes may differ), so it is not drawn apart."
           if today_same else "")
        + "</p>"
    )
