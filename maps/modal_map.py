"""The modal-split map of one run: networks, flows before/after, shippers, terminals,
bottlenecks and counties, as one self-contained (offline) folium HTML file.

The drawing data (widths, colours, tooltips, shading classes) is computed by plain functions
(:func:`flow_layer_features`, :func:`network_layer_features`, :func:`shipper_markers`,
:func:`terminal_markers`, :func:`bottleneck_features`, :func:`county_shading`) that tests can
check without a browser; :func:`build_map` only hands their output to folium.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import folium
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, box

from maps import _style as st
from maps._escape import Tooltip  # folium's puts its text in a JS template literal
from maps._legend import Attribution, HtmlPopup, Legend, legend_html
from maps.assets import external_resources, make_offline, stable_ids
from maps.results import Results, by_place, county_reduction, finite, read_results
from networks import Network

#: Box around Liaocheng (lon0, lat0, lon1, lat1) inside which all road edges are drawn.
LIAOCHENG_BBOX: tuple[float, float, float, float] = (114.8, 35.7, 117.2, 37.3)
#: Rail and pipeline edges are drawn inside this wider North China box (plus any carrying flow).
CONTEXT_BBOX: tuple[float, float, float, float] = (110.0, 33.0, 123.5, 42.5)
LIAOCHENG_CENTRE: tuple[float, float] = (36.45, 115.98)  # lat, lon
SHIPPER_KINDS: frozenset[str] = frozenset({"shipper", "plant"})
MAX_WIDTH_PX: float = 14.0

LAYER_NAMES: dict[str, str] = {
    "counties": "区县公路减量 County road reduction",
    "road": "公路 Road network",
    "rail": "铁路 Rail network",
    "pipeline": "管道 Pipeline network",
    "before": "现状货流 Flows before",
    "after": "优化后货流 Flows after",
    "bottlenecks": "瓶颈 Bottlenecks",
    "terminals": "场站 Terminals",
    "shippers": "货主 Shippers",
}


def _nice_ceil(x: float) -> float:
    """Smallest 1, 2, 2.5 or 5 × 10^k that is ≥ ``x``."""
    if x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10**k >= x * (1 - 1e-12):
            return m * 10**k
    return 10.0 ** (k + 1)


def width_unit_t(links: dict[str, Any]) -> float:
    """Tonnes per pixel of line width, shared by the before and after layers.

    A round number so that the busiest link (before or after) is about 12 px wide.
    """
    top = max(
        (max(f["properties"].get("tonnes_before") or 0.0, f["properties"].get("tonnes_after") or 0.0)
         for f in links.get("features", [])),
        default=0.0,
    )  # fmt: skip
    return _nice_ceil(top / 12.0) if top > 0 else 1.0


def line_width(tonnes: float, unit_t: float) -> float:
    """Line width in px: 1 px plus 1 px per ``unit_t`` tonnes/year, at most 14 px."""
    return round(min(1.0 + tonnes / unit_t, MAX_WIDTH_PX), 2)


def _round_coords(coords: Iterable[Sequence[float]], nd: int = 4) -> list[list[float]]:
    return [[round(c[0], nd), round(c[1], nd)] for c in coords]


def _simplified(coords: list[list[float]], tolerance_deg: float) -> dict[str, Any]:
    line = LineString(coords)
    if tolerance_deg > 0:
        line = line.simplify(tolerance_deg, preserve_topology=False)
    return {"type": "LineString", "coordinates": _round_coords(line.coords)}


def flow_layer_features(
    links: dict[str, Any],
    period: str,
    *,
    unit_t: float | None = None,
    tolerance_deg: float = 0.0005,
) -> list[dict[str, Any]]:
    """GeoJSON features of the flows of one period, styled.

    Parameters
    ----------
    links : dict
        ``links.geojson`` (FeatureCollection).
    period : {"before", "after"}
        Which tonnes to draw (``tonnes_before`` / ``tonnes_after``).
    unit_t : float, optional
        Tonnes per px of width (default :func:`width_unit_t`).
    tolerance_deg : float
        Geometry simplification (degrees); coordinates are rounded to 1e-4°.

    Returns
    -------
    list of dict
        One feature per link carrying tonnes in ``period``; properties ``mode``, ``u``,
        ``v``, ``tonnes``, ``colour`` (by mode), ``weight`` (px), ``dash`` (before only:
        dashed) and ``tip`` (escaped HTML tooltip: name, tonnes, tonnes by commodity).
    """
    if period not in ("before", "after"):
        raise ValueError(f"period must be 'before' or 'after', not {period!r}")
    unit = unit_t or width_unit_t(links)
    title = "现状 Before" if period == "before" else "优化后 After"
    out = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        t = float(p.get(f"tonnes_{period}") or 0.0)
        if t <= 0:
            continue
        mode = p.get("mode", "road")
        by_c = p.get(f"by_commodity_{period}") or {}
        name = p.get("name") or "/".join(p.get("lines") or []) or "—"
        rows = "".join(
            f"<br>{st.esc(st.commodity_label(c))}: {st.fmt_num(v)} t"
            for c, v in sorted(by_c.items(), key=lambda kv: -kv[1])
        )
        tip = (
            f"<b>{st.esc(name)}</b> · {st.esc(st.mode_label(mode))}<br>"
            f"{title}: <b>{st.fmt_num(t)} t/年 t/yr</b>{rows}"
        )
        props = {"mode": mode, "u": p.get("u"), "v": p.get("v"), "tonnes": t,
                 "colour": st.MODE_COLOURS.get(mode, "#000000"),
                 "weight": line_width(t, unit), "tip": tip}  # fmt: skip
        if period == "before":
            props["dash"] = "8 6"
        out.append({"type": "Feature", "id": f"{period}{i}",
                    "geometry": _simplified(f["geometry"]["coordinates"], tolerance_deg),
                    "properties": props})  # fmt: skip
    return out


def _edge_key(u: Any, v: Any) -> frozenset[Any]:
    return frozenset((u, v))


def network_layer_features(
    graph: nx.Graph,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    keep: set[frozenset[Any]] | None = None,
    tolerance_deg: float = 0.001,
    geometry: str = "geometry",
    name: str = "name",
    lines: str = "lines",
    freight: str = "freight",
) -> list[dict[str, Any]]:
    """The edges of one mode's graph as a few styled MultiLineString features.

    Edges are drawn when they touch ``bbox`` (all edges when None) or are in ``keep``
    (``frozenset({u, v})`` of edges that carry flow); geometry is simplified by
    ``tolerance_deg`` and edges with the same label and freight flag are merged into one
    feature, so a national road graph stays small.

    Returns
    -------
    list of dict
        Properties ``label`` (line names or edge name), ``freight``, ``colour``, ``dash``,
        ``weight``, ``edges`` (count) and ``tip``.
    """
    mode = graph.graph.get("mode", "road")
    groups: dict[tuple[str, bool], list[list[list[float]]]] = {}
    edges = list(graph.edges(data=True))
    geoms = np.empty(len(edges), dtype=object)
    for i, (u, v, d) in enumerate(edges):
        g: LineString | None = d.get(geometry)
        if g is None:
            g = LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                            (graph.nodes[v]["x"], graph.nodes[v]["y"])])  # fmt: skip
        geoms[i] = g
    # which edges touch bbox, in shapely's C loops: envelopes first, then the exact test
    wanted = np.ones(len(edges), dtype=bool)
    if bbox is not None and len(edges):
        b = shapely.bounds(geoms)
        wanted = ~((b[:, 2] < bbox[0]) | (b[:, 0] > bbox[2])
                   | (b[:, 3] < bbox[1]) | (b[:, 1] > bbox[3]))
        near = np.flatnonzero(wanted)
        wanted[near] = shapely.intersects(geoms[near], box(*bbox))
    sel = [i for i, (u, v, _) in enumerate(edges)
           if wanted[i] or (keep and _edge_key(u, v) in keep)]
    shown_geoms = geoms[sel]
    if tolerance_deg > 0 and len(sel):
        shown_geoms = shapely.simplify(shown_geoms, tolerance_deg, preserve_topology=False)
    coords, which = shapely.get_coordinates(shown_geoms, return_index=True)
    stops = np.cumsum(np.bincount(which, minlength=len(sel))).tolist()
    xy = coords.tolist()
    begin = 0
    for i, stop in zip(sel, stops, strict=True):
        d = edges[i][2]
        label = "、".join(d.get(lines) or ()) or d.get(name) or ""
        key = (label, bool(d.get(freight, True)))
        groups.setdefault(key, []).append(_round_coords(xy[begin:stop]))
        begin = stop
    out = []
    for i, ((label, is_freight), parts) in enumerate(sorted(groups.items())):
        colour = st.NETWORK_COLOURS.get(mode, "#999999") if is_freight else st.NO_FREIGHT_COLOUR
        note = "" if is_freight else " (不运货 no freight)"
        shown = label or "未命名 unnamed"
        out.append({
            "type": "Feature", "id": f"{mode}{i}",
            "geometry": {"type": "MultiLineString", "coordinates": parts},
            "properties": {
                "label": label, "freight": is_freight, "colour": colour,
                "dash": None if is_freight else st.NO_FREIGHT_DASH,
                "weight": {"rail": 2.5, "pipeline": 2.5}.get(mode, 1.5), "edges": len(parts),
                "tip": f"{st.esc(shown)}{st.esc(note)} · {st.esc(st.mode_label(mode))}",
            },
        })  # fmt: skip
    return out


def _mode_table(before: dict[str, float], after: dict[str, float]) -> str:
    rows = "".join(
        f"<tr><td>{st.esc(st.mode_label(m))}</td><td style='text-align:right'>"
        f"{st.fmt_num(before.get(m, 0.0))}</td><td style='text-align:right'>"
        f"{st.fmt_num(after.get(m, 0.0))}</td></tr>"
        for m in st.MODE_ORDER
    )
    return (
        "<table style='border-collapse:collapse'><tr><th></th><th>现状 Before (t)</th>"
        f"<th>优化后 After (t)</th></tr>{rows}</table>"
    )


def shipper_markers(network: Network, flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shippers and plants that start or end a flow, with their before/after popup.

    Returns
    -------
    list of dict
        ``id, name, lon, lat, kind, before, after, road_t, tooltip, popup`` (escaped HTML).
    """
    agg = by_place(flows)
    out = []
    for pid, a in sorted(agg.items()):
        place = network.places.get(pid)
        if place is None or place.kind not in SHIPPER_KINDS:
            continue
        reasons = "".join(
            f"<li>{st.esc(fid)}: {st.fmt_num(t)} t — {st.esc(text or st.REASON_LABELS.get(code, code))}</li>"
            for fid, code, text, t in a["reasons"]
        )  # fmt: skip
        left = (
            f"<p>留在公路 Left on road: <b>{st.fmt_num(a['road_t'])} t</b></p><ul>{reasons}</ul>"
            if a["road_t"] > 0 else "<p>全部转出公路 Nothing left on the road.</p>"
        )  # fmt: skip
        popup = (
            f"<div style='font-size:12px'><b>{st.esc(place.name)}</b> "
            f"({st.esc(place.kind)}{', ' + st.esc(place.county) if place.county else ''})"
            f"{_mode_table(a['before'], a['after'])}{left}</div>"
        )
        out.append({
            "id": pid, "name": place.name, "lon": place.lon, "lat": place.lat,
            "kind": place.kind, "before": a["before"], "after": a["after"],
            "road_t": a["road_t"], "tooltip": st.esc(place.name), "popup": popup,
        })  # fmt: skip
    return out


def terminal_markers(terminals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Terminals sized by throughput (area ∝ tonnes) and coloured by utilisation."""
    top = max((t.get("throughput_t") or 0.0 for t in terminals), default=0.0)
    out = []
    for t in terminals:
        thr = t.get("throughput_t") or 0.0
        util = finite(t.get("utilisation"))
        cap = finite(t.get("capacity_t"))
        radius = 4.0 + (14.0 * math.sqrt(thr / top) if top > 0 else 0.0)
        shadow = t.get("shadow_cny_per_t") or 0.0
        tip = (
            f"<b>{st.esc(t.get('name'))}</b> ({st.esc(t.get('kind'))}; {st.esc(t.get('modes'))})"
            f"<br>吞吐 Throughput: {st.fmt_num(t.get('throughput_before_t'))} → "
            f"<b>{st.fmt_num(thr)} t</b><br>能力 Capacity: "
            f"{st.fmt_num(cap) + ' t' if cap is not None else '不限 unlimited'}"
            f"<br>利用率 Utilisation: {'—' if util is None else f'{util:.0%}'}"
            + (f"<br>影子价格 Shadow price: {st.fmt_num(shadow, digits=2)} 元/t" if shadow else "")
        )  # fmt: skip
        out.append({"id": t.get("id"), "name": t.get("name"), "lon": t["lon"], "lat": t["lat"],
                    "radius": round(radius, 2), "colour": st.utilisation_colour(util),
                    "utilisation": util, "tip": tip})  # fmt: skip
    return out


def bottleneck_features(
    links: dict[str, Any], bottlenecks: list[dict[str, Any]], *, unit_t: float | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Binding links (``binding`` true in ``links.geojson``) and ranked bottleneck points.

    Returns
    -------
    (list of dict, list of dict)
        Line features (properties ``shadow_cny_per_t``, ``weight``, ``tip``) and point
        markers (``rank, label, lon, lat, shadow_cny_per_t, tip``) ordered by rank.
    """
    unit = unit_t or width_unit_t(links)
    lines = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        if not p.get("binding"):
            continue
        name = p.get("name") or "/".join(p.get("lines") or [])
        shadow = p.get("shadow_cny_per_t") or 0.0
        tip = (
            f"<b>瓶颈 Bottleneck: {st.esc(name)}</b><br>能力 Capacity: "
            f"{st.fmt_num(p.get('capacity_t'))} t · 利用率 Utilisation "
            f"{(p.get('utilisation') or 0):.0%}<br>影子价格 Shadow price: "
            f"<b>{st.fmt_num(shadow, digits=2)} 元/t CNY/t</b>"
        )
        lines.append({
            "type": "Feature", "id": f"bind{i}",
            "geometry": {"type": "LineString",
                         "coordinates": _round_coords(f["geometry"]["coordinates"])},
            "properties": {"name": name, "shadow_cny_per_t": shadow, "tip": tip,
                           "weight": line_width(p.get("tonnes_after") or 0.0, unit) + 8},
        })  # fmt: skip
    points = []
    for b in sorted(bottlenecks, key=lambda r: r.get("rank") or math.inf):
        if b.get("lon") is None or b.get("lat") is None:
            continue
        shadow = b.get("shadow_cny_per_t") or 0.0
        tip = (
            f"<b>#{st.fmt_num(b.get('rank'))} {st.esc(b.get('label'))}</b><br>"
            f"{st.esc(b.get('kind'))} · {st.esc(st.mode_label(b.get('mode') or ''))}<br>"
            f"能力 Capacity: {st.fmt_num(b.get('capacity_t'))} t · 已用 Used: "
            f"{st.fmt_num(b.get('used_t'))} t<br>影子价格 Shadow price: "
            f"<b>{st.fmt_num(shadow, digits=2)} 元/t CNY/t</b>"
        )
        per_train = b.get("shadow_cny_per_daily_train_year")
        if per_train:
            tip += (f"<br>每日加开一列 One more daily train: <b>{st.fmt_num(per_train)}"
                    " 元/年 CNY/yr</b>")
        points.append({"rank": b.get("rank"), "label": b.get("label"), "lon": b["lon"],
                       "lat": b["lat"], "shadow_cny_per_t": shadow, "tip": tip})  # fmt: skip
    return lines, points


def county_breaks(values: Iterable[float], n: int = len(st.COUNTY_COLOURS)) -> list[float]:
    """Upper bounds of ``n`` equal-interval classes over the positive reductions."""
    top = max((v for v in values if v > 0), default=0.0)
    if top <= 0:
        return []
    return [top * (k + 1) / n for k in range(n)]


def county_shading(
    counties: dict[str, Any], flows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[float]]:
    """Shade county polygons by road-tonnage reduction (choropleth classes).

    Returns
    -------
    (list of dict, list of float)
        Per county feature ``name, adcode, reduction_t, cls`` (-1 = no reduction) and
        ``colour``; and the class upper bounds.
    """
    red = county_reduction(flows)
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
        out.append({"name": name, "adcode": str(props.get("adcode", "")), "reduction_t": r,
                    "cls": cls, "colour": colour})  # fmt: skip
    return out, breaks


def _geojson_layer(features: list[dict[str, Any]], group: folium.FeatureGroup, *,
                   opacity: float = 0.85, name: str) -> None:  # fmt: skip
    if not features:
        return
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": f["properties"]["weight"],
            "opacity": opacity,
            "dashArray": f["properties"].get("dash"),
            "lineCap": "round",
        },  # fmt: skip
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        control=False,
    ).add_to(group)


def _add_tiles(m: folium.Map, tiles: str | None) -> None:
    if tiles is None or tiles.strip().lower() in ("", "none"):
        return  # no background: every layer of ours is vector data in the page
    if tiles == "OpenStreetMap":
        folium.TileLayer("OpenStreetMap", name="底图 Basemap", control=False).add_to(m)
    else:
        folium.TileLayer(tiles=tiles, attr=f"底图 tiles: {tiles}", name="底图 Basemap",
                         control=False).add_to(m)  # fmt: skip


DATA_ATTRIBUTION = (
    "路网 networks © OpenStreetMap contributors (ODbL, via scgraph-data); "
    "矿/厂/管道 mines, plants, pipelines: Global Energy Monitor (CC BY 4.0)"
)


def build_map(
    results: Results,
    network: Network,
    *,
    counties: str | Path | None = None,
    tiles: str | None = None,
    road_bbox: tuple[float, float, float, float] = LIAOCHENG_BBOX,
    context_bbox: tuple[float, float, float, float] = CONTEXT_BBOX,
) -> folium.Map:
    """Build the folium map of one run (no file is written).

    Parameters
    ----------
    results : Results
        The parsed result folder (:func:`maps.results.read_results`).
    network : Network
        The scenario's network (for drawing rail, pipeline and nearby road lines).
    counties : str or Path, optional
        GeoJSON of Liaocheng's counties (properties ``adcode``, ``name``).
    tiles : str, optional
        None: no background tiles; ``"OpenStreetMap"``; or a URL template.
    road_bbox : tuple
        Road edges inside this box are drawn, plus the road edges that carry flow.
    context_bbox : tuple
        The same for rail and pipeline edges (a wider box: the lines that could serve
        Liaocheng's flows).

    Returns
    -------
    folium.Map
    """
    links = results.links
    unit = width_unit_t(links)
    m = folium.Map(location=LIAOCHENG_CENTRE, zoom_start=7, tiles=None, control_scale=True)
    make_offline(m, title=f"{results.summary.get('title', '')} — 货运方式地图 Modal map")
    _add_tiles(m, tiles)
    Attribution(DATA_ATTRIBUTION).add_to(m)
    groups = {k: folium.FeatureGroup(name=v, show=(k != "before")) for k, v in LAYER_NAMES.items()}

    shading: list[dict[str, Any]] = []
    breaks: list[float] = []
    if counties is not None:
        data = json.loads(Path(counties).read_text(encoding="utf-8"))
        shading, breaks = county_shading(data, results.flows)
        by_name = {s["name"]: s for s in shading}
        for f in data.get("features", []):
            s = by_name.get(str((f.get("properties") or {}).get("name", "")))
            if s is not None:
                f["properties"]["colour"] = s["colour"]
                f["properties"]["tip"] = (
                    f"<b>{st.esc(s['name'])}</b> ({st.esc(s['adcode'])})<br>公路减量 Road "
                    f"reduction: <b>{st.fmt_num(s['reduction_t'])} t</b>"
                )
        folium.GeoJson(
            data, name="counties", control=False,
            style_function=lambda f: {"fillColor": f["properties"].get("colour", "#ffffff"),
                                      "fillOpacity": 0.55, "color": "#636363", "weight": 1},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        ).add_to(groups["counties"])  # fmt: skip

    for mode in ("road", "rail", "pipeline"):
        g = network.graphs.get(mode)
        if g is None or g.number_of_edges() == 0:
            continue
        keep = {
            _edge_key(f["properties"]["u"], f["properties"]["v"])
            for f in links.get("features", []) if f["properties"].get("mode") == mode
        }  # fmt: skip
        feats = network_layer_features(
            g, bbox=road_bbox if mode == "road" else context_bbox, keep=keep,
            tolerance_deg=0.001 if mode == "road" else 0.003,
        )  # fmt: skip
        _geojson_layer(feats, groups[mode], opacity=0.9, name=f"{mode}_net")

    for period in ("before", "after"):
        feats = flow_layer_features(links, period, unit_t=unit)
        _geojson_layer(feats, groups[period], opacity=0.6 if period == "before" else 0.85,
                       name=f"flows_{period}")  # fmt: skip

    bind_lines, bind_points = bottleneck_features(links, results.bottlenecks, unit_t=unit)
    for f in bind_lines:
        f["properties"]["colour"] = st.BOTTLENECK_COLOUR
    _geojson_layer(bind_lines, groups["bottlenecks"], opacity=0.45, name="binding")
    for b in bind_points:
        folium.CircleMarker(
            location=(b["lat"], b["lon"]), radius=10, color=st.BOTTLENECK_COLOUR, weight=3,
            fill=True, fill_color="#ffffff", fill_opacity=0.3, tooltip=Tooltip(b["tip"]),
        ).add_to(groups["bottlenecks"])  # fmt: skip

    for t in terminal_markers(results.terminals):
        folium.CircleMarker(
            location=(t["lat"], t["lon"]), radius=t["radius"], color="#404040", weight=1,
            fill=True, fill_color=t["colour"], fill_opacity=0.85, tooltip=Tooltip(t["tip"]),
        ).add_to(groups["terminals"])  # fmt: skip

    for s in shipper_markers(network, results.flows):
        marker = folium.CircleMarker(
            location=(s["lat"], s["lon"]), radius=6, color="#000000", weight=2, fill=True,
            fill_color="#ffffff", fill_opacity=1.0, tooltip=Tooltip(s["tooltip"]),
        ).add_to(groups["shippers"])  # fmt: skip
        marker.add_child(HtmlPopup(s["popup"], max_width=420))

    # bottleneck halos go under the flows, so a binding rail edge still reads as rail blue
    order = ("counties", "road", "rail", "pipeline", "bottlenecks", "before", "after",
             "terminals", "shippers")  # fmt: skip
    for key in order:
        if key != "counties" or counties is not None:
            groups[key].add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.get_root().add_child(Legend(legend_html(unit, breaks, has_counties=counties is not None)))

    pts = [c for f in links.get("features", []) for c in f["geometry"]["coordinates"]]
    if pts:
        lons, lats = [p[0] for p in pts], [p[1] for p in pts]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return m


def render_map(
    result_dir: str | Path,
    network: Network,
    *,
    counties: str | Path | None = None,
    tiles: str | None = None,
    out: str | Path | None = None,
) -> Path:
    """Render ``map.html`` for a result folder: one self-contained, offline HTML file.

    Parameters
    ----------
    result_dir : str or Path
        The run's result folder.
    network : Network
        The scenario's network.
    counties : str or Path, optional
        GeoJSON of the counties to shade by road-tonnage reduction.
    tiles : str, optional
        None (no background), ``"OpenStreetMap"`` or a tile URL template.
    out : str or Path, optional
        Output file (default ``result_dir/map.html``).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    RuntimeError
        If the page would load any script or stylesheet from the internet.
    """
    results = read_results(result_dir)
    m = build_map(results, network, counties=counties, tiles=tiles)
    # the same page for the same scenario: element ids from the scenario, not at random
    stable_ids(m.get_root(), seed=f"map.html {results.summary.get('scenario', '')}")
    html = m.get_root().render()
    remote = external_resources(html)
    if remote:
        raise RuntimeError(f"map would load remote resources: {remote[:3]}")
    path = Path(out) if out is not None else Path(result_dir) / "map.html"
    path.write_text(html, encoding="utf-8")
    return path
