"""The modal-split map of one run: networks, flows in the three states (today, least cost
without the rule, least cost with it), 短驳 access legs, shippers, terminals, bottlenecks
and counties, under a headline panel, as one self-contained (offline) folium HTML file.

The drawing data (widths, colours, tooltips, shading classes) is computed by plain functions
(:func:`flow_layer_features`, :func:`access_layer_features`, :func:`access_station_markers`,
:func:`network_layer_features`, :func:`shipper_markers`, :func:`terminal_markers`,
:func:`bottleneck_features`, :func:`county_shading`, :func:`headline_panel`) that tests can
check without a browser; :func:`build_map` only hands their output to folium. Every string
from data is escaped where it is put into HTML (:func:`maps._style.esc`).
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
from maps._legend import Attribution, Headline, HtmlPopup, Legend, legend_html
from maps.assets import external_resources, make_offline, stable_ids
from maps.extent import flow_area, study_area
from maps.results import STATES, Results, by_place, county_reduction, finite, read_results
from networks import Network

# Road edges are drawn inside the scenario's study area, rail and pipeline edges inside the
# reach of its flows (maps/extent.py), plus any edge carrying flow.
SHIPPER_KINDS: frozenset[str] = frozenset({"shipper", "plant"})
MAX_WIDTH_PX: float = 14.0

LAYER_NAMES: dict[str, str] = {
    "counties": "区县：规则转出的公路货量 Counties: road tonnes moved by the rule",
    "road": "公路 Road network",
    "rail": "铁路 Rail network",
    "pipeline": "管道 Pipeline network",
    "baseline": "现状货流 Flows today",
    "without_rule": "无规则最低成本货流 Flows, least cost without the rule",
    "with_rule": "有规则最低成本货流 Flows, least cost with the rule",
    "access": "短驳（有规则）Access legs 短驳, with the rule",
    "bottlenecks": "瓶颈 Bottlenecks",
    "terminals": "场站 Terminals",
    "shippers": "货主 Shippers",
}
#: Layers off when the map opens (the with-rule flows are on).
HIDDEN_LAYERS: frozenset[str] = frozenset({"baseline", "without_rule"})
#: Dash pattern of the flows of each state (None: solid).
STATE_DASH: dict[str, str | None] = {"baseline": "8 6", "without_rule": "2 5", "with_rule": None}


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
    """Tonnes per pixel of line width, shared by the layers of the three states and 短驳.

    A round number so that the busiest link (in any state) is about 12 px wide.
    """
    top = max(
        (max(f["properties"].get(f"tonnes_{s}") or 0.0 for s in STATES)
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
    state: str,
    *,
    unit_t: float | None = None,
    tolerance_deg: float = 0.0005,
) -> list[dict[str, Any]]:
    """GeoJSON features of the flows of one state, styled.

    Parameters
    ----------
    links : dict
        ``links.geojson`` (FeatureCollection).
    state : {"baseline", "without_rule", "with_rule"}
        Which tonnes to draw (``tonnes_<state>``).
    unit_t : float, optional
        Tonnes per px of width (default :func:`width_unit_t`).
    tolerance_deg : float
        Geometry simplification (degrees); coordinates are rounded to 1e-4°.

    Returns
    -------
    list of dict
        One feature per link carrying tonnes in ``state``; properties ``mode``, ``u``,
        ``v``, ``tonnes``, ``colour`` (by mode), ``weight`` (px), ``dash``
        (:data:`STATE_DASH`) and ``tip`` (escaped HTML tooltip: name, the state, tonnes and
        tonnes by commodity, the link's tonnes in the three states, its capacity).
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, not {state!r}")
    unit = unit_t or width_unit_t(links)
    out = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        t = float(p.get(f"tonnes_{state}") or 0.0)
        if t <= 0:
            continue
        mode = p.get("mode", "road")
        by_c = p.get(f"by_commodity_{state}") or {}
        name = p.get("name") or "/".join(p.get("lines") or []) or "—"
        rows = "".join(
            f"<br>{st.esc(st.commodity_label(c))}: {st.fmt_num(v)} t"
            for c, v in sorted(by_c.items(), key=lambda kv: -kv[1])
        )
        states = "".join(
            f"<br>{st.esc(st.STATE_LABELS[x][0])}: {st.fmt_num(p.get(f'tonnes_{x}'))} t"
            for x in STATES
        )
        cap = (f"<br>能力 Capacity: {st.esc(st.capacity_text(p.get('capacity_t')))}"
               if mode != "road" else "")  # fmt: skip
        acc = p.get(f"access_t_{state}") or 0.0
        acc_txt = f"<br>其中短驳 of which 短驳: {st.fmt_num(acc)} t" if acc > 0 else ""
        tip = (
            f"<b>{st.esc(name)}</b> · {st.esc(st.mode_label(mode))}<br>"
            f"{st.esc(st.state_label(state))}: <b>{st.fmt_num(t)} t/年 t/yr</b>{acc_txt}{rows}"
            f"<br><i>三种状态 three states</i>{states}{cap}"
        )
        props = {"mode": mode, "u": p.get("u"), "v": p.get("v"), "tonnes": t,
                 "colour": st.MODE_COLOURS.get(mode, "#000000"),
                 "weight": line_width(t, unit), "tip": tip}  # fmt: skip
        if STATE_DASH[state]:
            props["dash"] = STATE_DASH[state]
        out.append({"type": "Feature", "id": f"{state}{i}",
                    "geometry": _simplified(f["geometry"]["coordinates"], tolerance_deg),
                    "properties": props})  # fmt: skip
    return out


def access_layer_features(
    links: dict[str, Any], *, state: str = "with_rule", unit_t: float | None = None,
    tolerance_deg: float = 0.0005,
) -> list[dict[str, Any]]:  # fmt: skip
    """The road links carrying 短驳 (access legs of rail and pipeline chains) in ``state``,
    sized by those tonnes (``access_t_<state>`` of ``links.geojson``), in
    :data:`maps._style.ACCESS_COLOUR`; properties ``tonnes``, ``weight``, ``colour``,
    ``tip``."""
    unit = unit_t or width_unit_t(links)
    out = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        t = float(p.get(f"access_t_{state}") or 0.0)
        if t <= 0:
            continue
        name = p.get("name") or "—"
        tip = (
            f"<b>短驳 Access leg</b> · {st.esc(name)}<br>{st.esc(st.state_label(state))}: "
            f"<b>{st.fmt_num(t)} t/年 t/yr</b>"
            + "".join(f"<br>{st.esc(st.STATE_LABELS[x][0])}: {st.fmt_num(p.get(f'access_t_{x}'))} t"
                      for x in STATES)
        )  # fmt: skip
        out.append({"type": "Feature", "id": f"access{i}",
                    "geometry": _simplified(f["geometry"]["coordinates"], tolerance_deg),
                    "properties": {"mode": "road", "u": p.get("u"), "v": p.get("v"), "tonnes": t,
                                   "colour": st.ACCESS_COLOUR, "weight": line_width(t, unit),
                                   "tip": tip}})  # fmt: skip
    return out


def access_station_markers(
    summary: dict[str, Any], terminals: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One marker per station with 短驳 in any state (``access_by_station`` of each state),
    placed from ``terminals.csv``, sized by the with-rule tonnes (area ∝ tonnes), with a
    tooltip of its tonnes, trips and t·km in the three states."""
    where = {t.get("id"): t for t in terminals}
    states = summary.get("states") or {}
    ids: list[str] = []
    for x in STATES:
        for k in (states.get(x) or {}).get("access_by_station") or {}:
            if k not in ids:
                ids.append(k)

    def rec(x: str, k: str) -> dict[str, Any] | None:
        s = states.get(x)
        return None if s is None else ((s.get("access_by_station") or {}).get(k) or {})

    top = max((float((rec("with_rule", k) or {}).get("tonnes") or 0.0) for k in ids), default=0.0)
    out = []
    for k in ids:
        t = where.get(k)
        if t is None or t.get("lon") is None or t.get("lat") is None:
            continue
        first = next(r for x in STATES if (r := rec(x, k)))
        on = float((rec("with_rule", k) or {}).get("tonnes") or 0.0)
        rows = "".join(
            f"<tr><td>{st.esc(st.STATE_LABELS[x][0])}</td>"
            + "".join(f"<td style='text-align:right;padding-left:8px'>"
                      f"{st.fmt_num((rec(x, k) or {}).get(f))}</td>"
                      if rec(x, k) is not None else "<td>—</td>" for f in ("tonnes", "trips", "tkm"))
            + "</tr>"
            for x in STATES
        )  # fmt: skip
        county = first.get("county") or ""
        tip = (
            f"<b>短驳 Access · {st.esc(first.get('name') or k)}</b>"
            f"{' (' + st.esc(county) + ')' if county else ''}"
            "<table style='border-collapse:collapse'><tr><th></th>"
            "<th style='padding-left:8px'>t/年</th><th style='padding-left:8px'>趟次 trips</th>"
            f"<th style='padding-left:8px'>t·km</th></tr>{rows}</table>"
        )
        radius = 5.0 + (14.0 * math.sqrt(on / top) if top > 0 else 0.0)
        out.append({"id": k, "name": first.get("name"), "lon": t["lon"], "lat": t["lat"],
                    "tonnes": on, "radius": round(radius, 2), "tip": tip})  # fmt: skip
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


def _state_table(rec: dict[str, Any]) -> str:
    """Road and rail-or-pipeline tonnes of a place's flows in the three states."""
    road = rec["road"]
    cells = []
    for label, fn in (
        ("公路 Road", lambda x: road.get(x)),
        ("铁路/管道 Rail or pipeline",
         lambda x: None if road.get(x) is None else rec["tonnes"] - road[x]),
    ):  # fmt: skip
        cells.append(
            f"<tr><td>{label}</td>"
            + "".join(f"<td style='text-align:right;padding-left:8px'>{st.fmt_num(fn(x))}</td>"
                      for x in STATES)
            + "</tr>"
        )
    head = "".join(f"<th>{st.esc(st.STATE_LABELS[x][0])}</th>" for x in STATES)
    return (f"<table style='border-collapse:collapse'><tr><th>(t/年)</th>{head}</tr>"
            f"{''.join(cells)}</table>")  # fmt: skip


def shipper_markers(network: Network, flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shippers and plants that start or end a flow, with a popup of their tonnes in the
    three states and the reasons for what stays on the road with the rule.

    Returns
    -------
    list of dict
        ``id, name, lon, lat, kind, road {state: t}, with_rule {mode: t}, road_t, tooltip,
        popup`` (escaped HTML).
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
            f"<p>有规则时留在公路 Left on the road with the rule: <b>{st.fmt_num(a['road_t'])} t"
            f"</b></p><ul>{reasons}</ul>"
            if a["road_t"] > 0 else "<p>有规则时全部离开公路 Nothing left on the road with the rule.</p>"
        )  # fmt: skip
        popup = (
            f"<div style='font-size:12px'><b>{st.esc(place.name)}</b> "
            f"({st.esc(place.kind)}{', ' + st.esc(place.county) if place.county else ''})"
            f"{_state_table(a)}{left}</div>"
        )
        out.append({
            "id": pid, "name": place.name, "lon": place.lon, "lat": place.lat,
            "kind": place.kind, "road": a["road"], "with_rule": a["with_rule"],
            "road_t": a["road_t"], "tooltip": st.esc(place.name), "popup": popup,
        })  # fmt: skip
    return out


def terminal_markers(terminals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Terminals sized by throughput with the rule (area ∝ tonnes) and coloured by
    utilisation (grey: capacity unknown), with their throughput in the three states."""
    top = max((t.get("throughput_with_rule_t") or 0.0 for t in terminals), default=0.0)
    out = []
    for t in terminals:
        thr = t.get("throughput_with_rule_t") or 0.0
        util = finite(t.get("utilisation"))
        radius = 4.0 + (14.0 * math.sqrt(thr / top) if top > 0 else 0.0)
        shadow = t.get("shadow_cny_per_t") or 0.0
        states = "".join(
            f"<br>{st.esc(st.STATE_LABELS[x][0])}: {st.fmt_num(t.get(f'throughput_{x}_t'))} t"
            for x in STATES
        )
        acc = t.get("access_t_with_rule") or 0.0
        tip = (
            f"<b>{st.esc(t.get('name'))}</b> ({st.esc(t.get('kind'))}; {st.esc(t.get('modes'))})"
            f"<br>吞吐 Throughput (t/年):{states}"
            + (f"<br>短驳（有规则）access with the rule: {st.fmt_num(acc)} t" if acc > 0 else "")
            + f"<br>能力 Capacity: {st.esc(st.capacity_text(t.get('capacity_t')))}"
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
                           "weight": line_width(p.get("tonnes_with_rule") or 0.0, unit) + 8},
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
    """Shade county polygons by the road line-haul tonnes the rule moves off the road
    (without − with; choropleth classes).

    Returns
    -------
    (list of dict, list of float)
        Per county feature ``name, adcode, reduction_t`` (without − with), ``total_t``
        (today − with), ``cls`` (-1 = no reduction) and ``colour``; and the class upper
        bounds.
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
        out.append({"name": name, "adcode": str(props.get("adcode", "")), "reduction_t": r,
                    "total_t": total.get(name, 0.0), "cls": cls, "colour": colour})  # fmt: skip
    return out, breaks


def headline_panel(summary: dict[str, Any]) -> str:
    """The map's headline (escaped HTML): the warnings, the three states side by side (road
    tonnes, truck trips line haul / 短驳 / total, CO2, cost), the rule's effect, the policy
    cost and the abatement cost, each saying what it subtracts or divides."""
    states = summary.get("states") or {}
    cmp = summary.get("comparisons") or {}

    def val(x: str, *path: str) -> float | None:
        d: Any = states.get(x)
        for k in path:
            d = d.get(k) if isinstance(d, dict) else None
        return float(d) if isinstance(d, int | float) else None

    rows = (
        ("公路干线 Road, line haul (万t)", ("tonnes", "road"), 1e4, 1),
        ("货车趟次·干线 Trips, line haul", ("truck_trips", "line_haul"), 1, 0),
        ("货车趟次·短驳 Trips, 短驳", ("truck_trips", "access"), 1, 0),
        ("货车趟次·合计 Trips, total", ("truck_trips", "total"), 1, 0),
        ("CO₂ (万t)", ("co2_t",), 1e4, 2),
        ("运输成本 Cost (亿元)", ("cost_cny",), 1e8, 2),
    )
    body = "".join(
        f"<tr><td>{label}</td>"
        + "".join(
            f"<td class='n'>{st.fmt_num(None if (v := val(x, *path)) is None else v / scale, digits=d)}</td>"
            for x in STATES)
        + "</tr>"
        for label, path, scale, d in rows
    )  # fmt: skip
    head = "".join(f"<th>{st.esc(st.STATE_LABELS[x][0])}<br><small>{st.esc(st.STATE_LABELS[x][1])}"
                   "</small></th>" for x in STATES)  # fmt: skip
    warnings = summary.get("warnings") or []
    flags = "".join(
        f"<div class='lc-warn'>⚠ {st.esc(w.get('title_zh') or w.get('code'))}<br>"
        f"{st.esc(w.get('title_en') or '')}</div>"
        for w in warnings
    )
    def figures(w: dict[str, Any]) -> str:  # the warning's figures, short (the map is small)
        share, limit = w.get("share"), w.get("threshold_share")
        if isinstance(share, int | float) and isinstance(limit, int | float):
            return (f"无规则最低成本比现状低 {share:.1%}（阈值 {limit:.0%}）；"
                    f"the least cost without the rule is {share:.1%} below today's "
                    f"(threshold {limit:.0%}); see the report")  # fmt: skip
        return f"{st.esc(w.get('text_zh'))}<br>{st.esc(w.get('text_en'))}"

    warn = "".join(
        f"<div class='lc-warn-text' id='lc-warning-{st.esc(w.get('code'))}'>{figures(w)}</div>"
        for w in warnings
    )
    eff = cmp.get("rule_effect") or {}
    fig = {k: (cmp.get(k) or {}).get("value")
           for k in ("policy_cost_cny", "co2_abated_by_rule_t", "co2_abatement_cny_per_t")}
    abate = fig["co2_abatement_cny_per_t"]
    lines = (
        f"<p>规则转出公路 Road tonnes moved by the rule (without − with): "
        f"<b>{st.fmt_t(eff.get('road_t'))}</b></p>"
        f"<p>政策成本 Policy cost (objective with − without): <b>{st.fmt_num(fig['policy_cost_cny'])}"
        f" 元/年</b>; 规则减少 CO₂ abated by the rule (without − with): "
        f"<b>{st.fmt_num(fig['co2_abated_by_rule_t'])} t</b>; 减排成本 abatement cost = policy "
        f"cost ÷ CO₂ abated by the rule: <b>"
        f"{'—' if abate is None else st.fmt_num(abate, digits=1) + ' 元/t'}</b></p>"
    )  # fmt: skip
    title = st.esc(summary.get("title") or summary.get("scenario") or "")
    # the warnings' titles sit in the summary line, so they show even when it is folded
    return (
        f"<details open><summary><b>{title}</b>{flags}</summary>{warn}"
        f"<table><tr><th></th>{head}</tr>{body}</table>{lines}</details>"
    )


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


def build_map(
    results: Results,
    network: Network,
    *,
    counties: str | Path | None = None,
    tiles: str | None = None,
    road_bbox: tuple[float, float, float, float] | None = None,
    context_bbox: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """Build the folium map of one run (no file is written).

    Parameters
    ----------
    results : Results
        The parsed result folder (:func:`maps.results.read_results`).
    network : Network
        The scenario's network (for drawing rail, pipeline and nearby road lines).
    counties : str or Path, optional
        GeoJSON of the scenario's counties (properties ``adcode``, ``name``).
    tiles : str, optional
        None: no background tiles; ``"OpenStreetMap"``; or a URL template.
    road_bbox : tuple, optional
        Road edges inside this box are drawn, plus the road edges that carry flow;
        default the scenario's study area (:func:`maps.extent.study_area`).
    context_bbox : tuple, optional
        The same for rail and pipeline edges; default the reach of the scenario's flows
        (:func:`maps.extent.flow_area`): the lines that could serve them.

    Returns
    -------
    folium.Map
    """
    links = results.links
    unit = width_unit_t(links)
    if road_bbox is None:
        road_bbox = study_area(results, network, counties)
    if context_bbox is None:
        context_bbox = flow_area(results, network)
    x0, y0, x1, y1 = road_bbox or (73.0, 18.0, 135.0, 54.0)
    m = folium.Map(location=((y0 + y1) / 2, (x0 + x1) / 2), zoom_start=7, tiles=None,
                   control_scale=True)
    make_offline(m, title=f"{results.summary.get('title', '')} — 货运方式地图 Modal map")
    _add_tiles(m, tiles)
    Attribution(st.DATA_ATTRIBUTION).add_to(m)
    groups = {k: folium.FeatureGroup(name=v, show=k not in HIDDEN_LAYERS)
              for k, v in LAYER_NAMES.items()}  # fmt: skip

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
                    f"<b>{st.esc(s['name'])}</b> ({st.esc(s['adcode'])})<br>规则转出公路 Road "
                    f"tonnes moved by the rule (without − with): <b>{st.fmt_num(s['reduction_t'])}"
                    f" t</b><br>相对现状 From today (today − with): {st.fmt_num(s['total_t'])} t"
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

    for state in STATES:
        feats = flow_layer_features(links, state, unit_t=unit)
        _geojson_layer(feats, groups[state], opacity=0.85 if state == "with_rule" else 0.6,
                       name=f"flows_{state}")  # fmt: skip

    _geojson_layer(access_layer_features(links, unit_t=unit), groups["access"], opacity=0.9,
                   name="access")  # fmt: skip
    for a in access_station_markers(results.summary, results.terminals):
        # a ring over the terminal's disc: hovering the ring shows the station's 短驳, the
        # disc inside it the terminal's throughput
        folium.CircleMarker(
            location=(a["lat"], a["lon"]), radius=a["radius"], color=st.ACCESS_COLOUR, weight=4,
            fill=False, tooltip=Tooltip(a["tip"]),
        ).add_to(groups["access"])  # fmt: skip

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
    order = ("counties", "road", "rail", "pipeline", "bottlenecks", "baseline", "without_rule",
             "with_rule", "terminals", "access", "shippers")  # fmt: skip
    for key in order:
        if key != "counties" or counties is not None:
            groups[key].add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.get_root().add_child(Legend(legend_html(unit, breaks, has_counties=counties is not None,
                                              capacities=results.summary.get("capacities"))))
    m.get_root().add_child(Headline(headline_panel(results.summary)))

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
