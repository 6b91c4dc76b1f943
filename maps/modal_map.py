"""The modal-split map of one run, as one self-contained (offline) HTML file a planner
reads at a glance: a title and headline panel, the flows of one state at a time (today,
least cost without the rule, least cost with it; with the rule first) with their 短驳
access legs, or the rule's effect (the change on each link), the networks under them (road off at first; planned lines dashed), shippers,
terminals, bottlenecks, counties shaded by the road tonnes the rule moves, place labels by
zoom, a legend above a km scale bar, and a click on a shipper, station or flow link that
highlights and lists the flows concerned.

The drawing data is computed by plain functions -- :mod:`maps.layers` (lines),
:mod:`maps.markers` (points), :mod:`maps.labels`, :mod:`maps.interaction`,
:mod:`maps.panels` (headline and legend) -- that tests check without a browser;
:func:`build_map` hands their output to folium and :mod:`maps.controls`. Every string from
data is escaped where it is put into the page (:mod:`maps._escape`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import folium
from folium.map import CustomPane

from maps import _style as st
from maps import controls as ct
from maps._escape import GeoJsonLayer, Tooltip  # folium's: a JS template literal, tojson
from maps.assets import external_resources, make_offline, stable_ids
from maps.counties import county_shading
from maps.extent import flow_area, study_area
from maps.interaction import Selection, flow_table, place_flows
from maps.labels import Labels, place_labels
from maps.layers import (
    _edge_key,
    access_layer_features,
    bottleneck_features,
    effect_layer_features,
    flow_layer_features,
    flow_names,
    line_width,
    network_layer_features,
    planned_edges,
    planned_places,
    width_unit_t,
)
from maps.markers import (
    SHIPPER_KINDS,
    access_station_markers,
    shipper_markers,
    terminal_markers,
)
from maps.panels import headline_panel, legend_html
from maps.results import STATES, Results, read_results
from networks import Network

__all__ = [
    "BASE_LAYERS", "HIDDEN_LAYERS", "LAYER_NAMES", "SHIPPER_KINDS", "STATE_LAYERS",
    "access_layer_features", "access_station_markers", "bottleneck_features", "build_map",
    "county_shading", "effect_layer_features", "flow_layer_features", "headline_panel",
    "line_width", "network_layer_features", "render_map", "shipper_markers",
    "terminal_markers", "width_unit_t",
]  # fmt: skip

#: Every layer of the map and its name in the layer switch, in the switch's order.
LAYER_NAMES: dict[str, str] = {
    "baseline": "现状 Today (baseline)",
    "without_rule": "无规则最低成本 Least cost without the rule",
    "with_rule": "有规则最低成本 Least cost with the rule",
    "effect": "规则的效果 Rule effect: with − without",
    "counties": "区县：规则转出的公路货量 Counties: road tonnes moved by the rule",
    "road": "公路网 Road network",
    "rail": "铁路网 Rail network",
    "pipeline": "管道网 Pipeline network",
    "bottlenecks": "瓶颈 Bottlenecks",
    "terminals": "场站 Terminals",
    "shippers": "货主 Shippers",
    "labels": "地名 Place labels",
}
#: The states' layers: the flows and 短驳 of each state (the headline's columns).
STATE_LAYERS: tuple[str, ...] = STATES
#: The layers shown one at a time (radio buttons): the states and the rule's effect.
BASE_LAYERS: tuple[str, ...] = (*STATES, "effect")
#: Layers off when the map opens: the other states, the effect, the dense road network.
HIDDEN_LAYERS: frozenset[str] = frozenset({"baseline", "without_rule", "effect", "road"})
#: Map panes (z-index), so a layer switched on later still draws at its own depth:
#: counties under networks under bottleneck halos under flows (Leaflet's overlay pane,
#: 400) under the click's highlight (410) under points (420) under labels (600).
PANES: dict[str, int] = {"lcCounties": 380, "lcNet": 390, "lcBind": 395, "lcPoints": 420}


def _geojson_layer(features: list[dict[str, Any]], group: folium.FeatureGroup, *,
                   opacity: float = 0.85, pane: str | None = None) -> GeoJsonLayer | None:  # fmt: skip
    if not features:
        return None
    layer = GeoJsonLayer(features, opacity=opacity, pane=pane)
    layer.add_to(group)
    return layer


def _add_tiles(m: folium.Map, tiles: str | None) -> None:
    if tiles is None or tiles.strip().lower() in ("", "none"):
        return  # no background: every layer of ours is vector data in the page
    if tiles == "OpenStreetMap":
        folium.TileLayer("OpenStreetMap", name="底图 Basemap", control=False).add_to(m)
    else:
        folium.TileLayer(tiles=tiles, attr=f"底图 tiles: {tiles}", name="底图 Basemap",
                         control=False).add_to(m)  # fmt: skip


def _counties_layer(data: dict[str, Any], flows: list[dict[str, Any]],
                    group: folium.FeatureGroup) -> list[float]:  # fmt: skip
    shading, breaks = county_shading(data, flows)
    by_name = {s["name"]: s for s in shading}
    feats = []
    for i, f in enumerate(data.get("features", [])):
        s = by_name.get(str((f.get("properties") or {}).get("name", "")))
        if s is None or not f.get("geometry"):
            continue
        tip = (
            f"<b>{st.esc(s['name'])}</b> ({st.esc(s['adcode'])})<br>规则转出公路 Road "
            f"tonnes moved by the rule (without − with): <b>{st.fmt_num(s['reduction_t'])}"
            f" t</b><br>相对现状 From today (today − with): {st.fmt_num(s['total_t'])} t"
        )
        feats.append({"type": "Feature", "id": s["adcode"] or f"county{i}",
                      "geometry": f["geometry"],
                      "properties": {"name": s["name"], "adcode": s["adcode"],
                                     "colour": "#636363", "weight": 1, "fill": s["colour"],
                                     "fill_opacity": s["opacity"], "tip": tip}})  # fmt: skip
    _geojson_layer(feats, group, opacity=1.0, pane="lcCounties")
    return breaks


def build_map(  # noqa: C901, PLR0912, PLR0915 -- the map's layers added in the order they stack
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
        The scenario's network (for drawing rail, pipeline and nearby road lines, planned
        lines and terminals, and place labels).
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
                   control_scale=False, zoom_control=False, zoom_snap=0.25)  # fmt: skip
    make_offline(m, title=f"{results.summary.get('title', '')} — 货运方式地图 Modal map")
    m.add_child(ct.PageAssets())
    _add_tiles(m, tiles)
    ct.Attribution(st.DATA_ATTRIBUTION).add_to(m)
    for pane, z in PANES.items():
        CustomPane(pane, z_index=z, pointer_events=True).add_to(m)
    groups = {k: folium.FeatureGroup(name=v, show=k not in HIDDEN_LAYERS, control=False)
              for k, v in LAYER_NAMES.items()}  # fmt: skip

    breaks: list[float] = []
    if counties is not None:
        data = json.loads(Path(counties).read_text(encoding="utf-8"))
        breaks = _counties_layer(data, results.flows, groups["counties"])

    planned = planned_edges(network)
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
        # idle lines faint under the flows; planned ones (dashed) in full
        _geojson_layer([f for f in feats if not f["properties"]["planned"]], groups[mode],
                       opacity=0.6, pane="lcNet")  # fmt: skip
        _geojson_layer([f for f in feats if f["properties"]["planned"]], groups[mode],
                       opacity=0.95, pane="lcNet")  # fmt: skip

    names = flow_names(results.flows)
    table, index = flow_table(results)
    link_layers: list[tuple[Any, str]] = []
    station_layers: list[tuple[Any, str]] = []
    for state in STATES:
        flows = flow_layer_features(links, state, unit_t=unit, names=names, flow_index=index,
                                    planned=planned)  # fmt: skip
        layer = _geojson_layer(flows, groups[state], opacity=0.85)
        access = access_layer_features(links, state=state, unit_t=unit, names=names,
                                       flow_index=index)  # fmt: skip
        acc_layer = _geojson_layer(access, groups[state], opacity=0.95)
        link_layers += [(x, state) for x in (layer, acc_layer) if x is not None]
        for a in access_station_markers(results.summary, results.terminals, state=state):
            # a ring over the terminal's disc: hovering the ring shows the station's 短驳
            ring = folium.CircleMarker(
                location=(a["lat"], a["lon"]), radius=a["radius"], color=st.ACCESS_COLOUR,
                weight=4, fill=False, tooltip=Tooltip(a["tip"]), pane="lcPoints",
            ).add_to(groups[state])  # fmt: skip
            station_layers.append((ring, a["id"]))

    effect = effect_layer_features(links, unit_t=unit, names=names, flow_index=index)
    layer = _geojson_layer(effect, groups["effect"], opacity=0.9)
    if layer is not None:
        link_layers.append((layer, "with_rule"))

    bind_lines, bind_points = bottleneck_features(links, results.bottlenecks, unit_t=unit)
    _geojson_layer(bind_lines, groups["bottlenecks"], opacity=0.45, pane="lcBind")
    for b in bind_points:
        folium.CircleMarker(
            location=(b["lat"], b["lon"]), radius=10, color=st.BOTTLENECK_COLOUR, weight=3,
            fill=True, fill_color="#ffffff", fill_opacity=0.3, tooltip=Tooltip(b["tip"]),
            pane="lcPoints",
        ).add_to(groups["bottlenecks"])  # fmt: skip

    gates = planned_places(network)
    for t in terminal_markers(results.terminals, planned=gates):
        marker = folium.CircleMarker(
            location=(t["lat"], t["lon"]), radius=t["radius"],
            color="#000000" if t["planned"] else "#404040", weight=2 if t["planned"] else 1,
            dash_array=t["dash"], fill=True, fill_color=t["colour"], fill_opacity=0.85,
            tooltip=Tooltip(t["tip"]), pane="lcPoints",
        ).add_to(groups["terminals"])  # fmt: skip
        station_layers.append((marker, str(t["id"])))

    summaries: dict[str, list[list[str]]] = {}
    for s in shipper_markers(network, results.flows):
        marker = folium.CircleMarker(
            location=(s["lat"], s["lon"]), radius=6, color="#000000", weight=2, fill=True,
            fill_color="#ffffff", fill_opacity=1.0, tooltip=Tooltip(s["tooltip"]),
            pane="lcPoints",
        ).add_to(groups["shippers"])  # fmt: skip
        station_layers.append((marker, s["id"]))
        summaries[s["id"]] = s["summary"]

    for group in groups.values():
        if group is not groups["counties"] or counties is not None:
            group.add_to(m)
    m.add_child(Labels(groups["labels"], place_labels(network, results, counties)))

    # controls: the scale bar first, so the legend stacks above it in the same corner
    ct.ScaleBar().add_to(m)
    has_planned = bool(planned or gates)
    ct.legend(legend_html(unit, breaks, has_counties=counties is not None,
                          capacities=results.summary.get("capacities"),
                          has_planned=has_planned)).add_to(m)  # fmt: skip
    ct.headline(headline_panel(results.summary)).add_to(m)
    overlays = [(LAYER_NAMES[k], groups[k]) for k in LAYER_NAMES
                if k not in BASE_LAYERS and (k != "counties" or counties is not None)]
    ct.LayerSwitch([(LAYER_NAMES[x], groups[x]) for x in BASE_LAYERS], overlays,
                   states={x: groups[x] for x in STATE_LAYERS}).add_to(m)  # fmt: skip
    ct.selection_panel().add_to(m)
    ct.ZoomButtons().add_to(m)
    places = place_flows(results, network, index)
    for pid, rows in summaries.items():
        if pid in places:
            places[pid]["s"] = rows
    Selection(table, places, place_layers=station_layers, link_layers=link_layers).add_to(m)
    # the view: every flow link, clear of the panels (the page measures them)
    pts = [c for f in links.get("features", []) for c in f["geometry"]["coordinates"]]
    bounds = None
    if pts:
        lons, lats = [p[0] for p in pts], [p[1] for p in pts]
        bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    ct.Layout(bounds).add_to(m)
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
