"""The line layers of the modal map as styled GeoJSON features: flows of one state, 短驳
legs, the rule's effect, the idle networks (planned lines dashed) and bottlenecks.

Plain functions of the result folder's data (and the scenario's network), so tests check
widths, colours, dashes and tooltips without a browser; :mod:`maps.modal_map` hands their
output to folium. Every string from data is escaped where it is put into a tooltip
(:func:`maps._style.esc`).

Widths: a flow is never thinner than :data:`MIN_FLOW_PX`, and every idle network line
(:data:`NETWORK_WIDTH_PX`) is thinner than that, so a flow always stands out from the
network under it. Dashes mean one thing only: planned infrastructure
(:data:`maps._style.PLANNED_DASH`), never a state (the three states are shown one at a time).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, box

from maps import _style as st
from maps.results import STATES
from networks import Network

#: The widest flow line (px) and the thinnest: a flow is always wider than the idle network.
MAX_WIDTH_PX: float = 16.0
MIN_FLOW_PX: float = 3.0
#: Idle network lines (px) by mode; all below :data:`MIN_FLOW_PX`.
NETWORK_WIDTH_PX: dict[str, float] = {"road": 1.0, "rail": 1.6, "pipeline": 1.6}
PLANNED_NETWORK_WIDTH_PX: float = 2.4
#: How many origin → destination pairs name an unnamed link before "等 N 条 more".
NAMED_PAIRS: int = 2

EdgeKey = tuple[str, Any, Any]


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
    """Tonnes per pixel of line width, shared by the three states and 短驳.

    A round number so that the busiest link (in any state) is about
    ``MIN_FLOW_PX + 12`` px wide.
    """
    top = max(
        (max(f["properties"].get(f"tonnes_{s}") or 0.0 for s in STATES)
         for f in links.get("features", [])),
        default=0.0,
    )  # fmt: skip
    return _nice_ceil(top / 12.0) if top > 0 else 1.0


def line_width(tonnes: float, unit_t: float) -> float:
    """Flow width in px: :data:`MIN_FLOW_PX` plus 1 px per ``unit_t`` tonnes/year, at most
    :data:`MAX_WIDTH_PX`."""
    return round(min(MIN_FLOW_PX + tonnes / unit_t, MAX_WIDTH_PX), 2)


def _round_coords(coords: Iterable[Sequence[float]], nd: int = 4) -> list[list[float]]:
    return [[round(c[0], nd), round(c[1], nd)] for c in coords]


def _simplified(coords: list[list[float]], tolerance_deg: float) -> dict[str, Any]:
    line = LineString(coords)
    if tolerance_deg > 0:
        line = line.simplify(tolerance_deg, preserve_topology=False)
    return {"type": "LineString", "coordinates": _round_coords(line.coords)}


def edge_key(mode: str, u: Any, v: Any) -> EdgeKey:
    """``(mode, lower node, higher node)``: one undirected edge of one mode's graph."""
    return (mode, *sorted((u, v)))  # type: ignore[return-value]


def planned_edges(network: Network, *, added: str = "added") -> set[EdgeKey]:
    """The edges of added lines with ``status = planned`` (edge attribute ``added``)."""
    return {edge_key(mode, u, v) for mode, g in network.graphs.items()
            for u, v, d in g.edges(data=True) if d.get(added) == "planned"}  # fmt: skip


def planned_places(network: Network, *, added: str = "added") -> set[str]:
    """Terminals reachable only over planned lines: every rail or pipeline link of the
    place ends on a node whose edges are all planned (the gate of a planned siding)."""
    out = set()
    for pid, links in network.links.items():
        other = {m: lk for m, lk in links.items() if m != "road"}
        if not other:
            continue
        planned = True
        for mode, lk in other.items():
            g = network.graphs.get(mode)
            if g is None or lk.node not in g:
                planned = False
                break
            edges = list(g.edges(lk.node, data=True))
            if not edges or any(d.get(added) != "planned" for _, _, d in edges):
                planned = False
                break
        if planned:
            out.add(pid)
    return out


def flow_names(flows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """By flow id: ``od`` (origin → destination names) and ``tonnes`` (its yearly tonnes),
    from the rows of ``flows.csv`` (a flow's first row)."""
    out: dict[str, dict[str, Any]] = {}
    for r in flows:
        fid = r.get("flow_id") or ""
        if fid in out:
            continue
        o = r.get("origin_name") or r.get("origin") or "?"
        d = r.get("destination_name") or r.get("destination") or "?"
        t = r.get("flow_tonnes")
        out[fid] = {"od": f"{o} → {d}",
                    "tonnes": float(t) if isinstance(t, int | float) else float(r.get("tonnes") or 0.0)}  # fmt: skip
    return out


def link_label(
    props: Mapping[str, Any], state: str | None, names: Mapping[str, Mapping[str, Any]]
) -> str:
    """What a link is called (plain text): its road or line name where the data has one,
    else the origins and destinations of the flows on it (the biggest first; in ``state``,
    or in any state), else its mode and end nodes. Never "—".
    """
    name = str(props.get("name") or "").strip()
    if name:
        return name
    lines = "/".join(str(x) for x in props.get("lines") or [] if x)
    if lines:
        return lines
    states = [state] if state else list(STATES)
    ids: list[str] = []
    for s in states:
        for fid in props.get(f"flows_{s}") or []:
            if fid not in ids:
                ids.append(fid)
    pairs: dict[str, float] = {}
    for fid in ids:
        rec = names.get(fid)
        if rec is not None:
            pairs[rec["od"]] = pairs.get(rec["od"], 0.0) + rec["tonnes"]
    mode = st.mode_label(str(props.get("mode") or "road")).split(" ")[0]
    if not pairs:
        return f"{mode}区段 {props.get('u')}–{props.get('v')}"
    top = sorted(pairs, key=lambda k: (-pairs[k], k))
    more = len(top) - NAMED_PAIRS
    tail = f" 等 {more} 对起讫 (+{more} more)" if more > 0 else ""
    return f"{mode}: " + "；".join(top[:NAMED_PAIRS]) + tail


def flow_layer_features(
    links: dict[str, Any],
    state: str,
    *,
    unit_t: float | None = None,
    tolerance_deg: float = 0.0005,
    names: Mapping[str, Mapping[str, Any]] | None = None,
    flow_index: Mapping[str, int] | None = None,
    planned: set[EdgeKey] | None = None,
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
    names : dict, optional
        :func:`flow_names` of the run: an unnamed link is named by its flows.
    flow_index : dict, optional
        Flow id -> its index in the map's flow table; each feature then lists the
        flows on it (``fl``), for the click-to-highlight.
    planned : set, optional
        :func:`planned_edges`: flows on a planned line are dashed and say 规划.

    Returns
    -------
    list of dict
        One feature per link carrying tonnes in ``state``; properties ``mode``, ``u``,
        ``v``, ``tonnes``, ``label`` (plain text: :func:`link_label`), ``colour`` (by
        mode), ``weight`` (px), ``dash`` (planned only), ``fl`` (when ``flow_index`` is
        given) and ``tip`` (escaped HTML tooltip: name, the state, tonnes and tonnes by
        commodity, the link's tonnes in the three states, its capacity).
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
        label = link_label(p, state, names or {})
        is_planned = planned is not None and edge_key(mode, p.get("u"), p.get("v")) in planned
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
        plan = f" · <b>{st.esc(st.PLANNED_LABEL)}</b>" if is_planned else ""
        n_flows = len(p.get(f"flows_{state}") or [])
        click = (f"<br><i>点击查看这 {n_flows} 条货流的路线 click: the routes of its {n_flows} "
                 "flows</i>" if n_flows and flow_index is not None else "")  # fmt: skip
        tip = (
            f"<b>{st.esc(label)}</b> · {st.esc(st.mode_label(mode))}{plan}<br>"
            f"{st.esc(st.state_label(state))}: <b>{st.fmt_num(t)} t/年 t/yr</b>{acc_txt}{rows}"
            f"<br><i>三种状态 three states</i>{states}{cap}{click}"
        )
        props: dict[str, Any] = {
            "mode": mode, "u": p.get("u"), "v": p.get("v"), "tonnes": t, "label": label,
            "colour": st.MODE_COLOURS.get(mode, "#000000"), "weight": line_width(t, unit),
            "tip": tip,
        }  # fmt: skip
        if is_planned:
            props["dash"] = st.PLANNED_DASH
        if flow_index is not None:
            props["fl"] = [flow_index[x] for x in p.get(f"flows_{state}") or []
                           if x in flow_index]  # fmt: skip
        out.append({"type": "Feature", "id": f"{state}{i}",
                    "geometry": _simplified(f["geometry"]["coordinates"], tolerance_deg),
                    "properties": props})  # fmt: skip
    return out


def effect_layer_features(
    links: dict[str, Any],
    *,
    before: str = "without_rule",
    after: str = "with_rule",
    unit_t: float | None = None,
    tolerance_deg: float = 0.0005,
    names: Mapping[str, Mapping[str, Any]] | None = None,
    flow_index: Mapping[str, int] | None = None,
    min_t: float = 0.5,
) -> list[dict[str, Any]]:
    """The difference between two states on each link (default the rule's effect: with −
    without), sized by the change on the flows' width scale, coloured by mode: a link that
    carries more in ``after`` is a solid line, one that carries less a hollow one (a white
    core, ``core`` true, drawn over the coloured line).

    Returns
    -------
    list of dict
        Features with properties ``mode``, ``u``, ``v``, ``delta`` (t, signed), ``label``,
        ``colour``, ``weight``, ``tip``, ``fl`` (flows on the link in either state, when
        ``flow_index`` is given); a decrease has a second feature, its core (``core``,
        ``colour`` white, ``weight``, ``fl``; not interactive).
    """
    unit = unit_t or width_unit_t(links)
    out = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        a, b = p.get(f"tonnes_{before}"), p.get(f"tonnes_{after}")
        if a is None or b is None or abs(b - a) < min_t:
            continue
        delta = float(b) - float(a)
        mode = p.get("mode", "road")
        label = link_label(p, None, names or {})
        word = "增加 more" if delta > 0 else "减少 less"
        tip = (
            f"<b>{st.esc(label)}</b> · {st.esc(st.mode_label(mode))}<br>"
            f"{st.esc(st.STATE_LABELS[after][0])} − {st.esc(st.STATE_LABELS[before][0])}: "
            f"<b>{'+' if delta > 0 else '−'}{st.fmt_num(abs(delta))} t/年</b> ({word})<br>"
            f"{st.esc(st.STATE_LABELS[before][0])}: {st.fmt_num(a)} t · "
            f"{st.esc(st.STATE_LABELS[after][0])}: {st.fmt_num(b)} t"
        )
        weight = line_width(abs(delta), unit)
        geom = _simplified(f["geometry"]["coordinates"], tolerance_deg)
        props: dict[str, Any] = {"mode": mode, "u": p.get("u"), "v": p.get("v"), "delta": delta,
                                 "label": label, "colour": st.MODE_COLOURS.get(mode, "#000000"),
                                 "weight": weight, "tip": tip}  # fmt: skip
        if flow_index is not None:
            ids = list(dict.fromkeys([*(p.get(f"flows_{before}") or []),
                                      *(p.get(f"flows_{after}") or [])]))  # fmt: skip
            props["fl"] = [flow_index[x] for x in ids if x in flow_index]
        out.append({"type": "Feature", "id": f"effect{i}", "geometry": geom, "properties": props})
        if delta < 0:  # the core lets the mouse through to the line under it (no tip)
            core = {"colour": "#ffffff", "weight": round(max(weight - 3.0, 1.2), 2),
                    "core": True, **({"fl": props["fl"]} if "fl" in props else {})}
            out.append({"type": "Feature", "id": f"effect{i}core", "geometry": geom,
                        "properties": core})  # fmt: skip
    return out


def access_layer_features(
    links: dict[str, Any], *, state: str = "with_rule", unit_t: float | None = None,
    tolerance_deg: float = 0.0005, names: Mapping[str, Mapping[str, Any]] | None = None,
    flow_index: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The road links carrying 短驳 (access legs of rail and pipeline chains) in ``state``,
    sized by those tonnes (``access_t_<state>`` of ``links.geojson``), in
    :data:`maps._style.ACCESS_COLOUR`; properties ``tonnes``, ``weight``, ``colour``,
    ``label``, ``tip`` (and ``fl`` as :func:`flow_layer_features`)."""
    unit = unit_t or width_unit_t(links)
    out = []
    for i, f in enumerate(links.get("features", [])):
        p = f["properties"]
        t = float(p.get(f"access_t_{state}") or 0.0)
        if t <= 0:
            continue
        label = link_label(p, state, names or {})
        tip = (
            f"<b>短驳 Access leg</b> · {st.esc(label)}<br>{st.esc(st.state_label(state))}: "
            f"<b>{st.fmt_num(t)} t/年 t/yr</b>"
            + "".join(f"<br>{st.esc(st.STATE_LABELS[x][0])}: {st.fmt_num(p.get(f'access_t_{x}'))} t"
                      for x in STATES)
        )  # fmt: skip
        props: dict[str, Any] = {
            "mode": "road", "u": p.get("u"), "v": p.get("v"), "tonnes": t, "label": label,
            "colour": st.ACCESS_COLOUR, "weight": line_width(t, unit), "tip": tip,
        }  # fmt: skip
        if flow_index is not None:
            props["fl"] = [flow_index[x] for x in p.get(f"flows_{state}") or []
                           if x in flow_index]  # fmt: skip
        out.append({"type": "Feature", "id": f"access_{state}{i}",
                    "geometry": _simplified(f["geometry"]["coordinates"], tolerance_deg),
                    "properties": props})  # fmt: skip
    return out


def _edge_key(u: Any, v: Any) -> frozenset[Any]:
    return frozenset((u, v))


def network_layer_features(  # noqa: PLR0913 -- keyword-only drawing options of one layer
    graph: nx.Graph,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    keep: set[frozenset[Any]] | None = None,
    tolerance_deg: float = 0.001,
    geometry: str = "geometry",
    name: str = "name",
    lines: str = "lines",
    freight: str = "freight",
    added: str = "added",
) -> list[dict[str, Any]]:
    """The edges of one mode's graph as a few styled MultiLineString features.

    Edges are drawn when they touch ``bbox`` (all edges when None) or are in ``keep``
    (``frozenset({u, v})`` of edges that carry flow); geometry is simplified by
    ``tolerance_deg`` and edges with the same label, freight flag and planned status are
    merged into one feature, so a national road graph stays small. Planned edges (``added``
    = ``"planned"``) are always drawn, dashed in the mode's strong colour.

    Returns
    -------
    list of dict
        Properties ``label`` (line names or edge name), ``freight``, ``planned``,
        ``colour``, ``dash``, ``weight``, ``edges`` (count) and ``tip``.
    """
    mode = graph.graph.get("mode", "road")
    groups: dict[tuple[str, bool, bool], list[list[list[float]]]] = {}
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
    sel = [i for i, (u, v, d) in enumerate(edges)
           if wanted[i] or (keep and _edge_key(u, v) in keep) or d.get(added) == "planned"]
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
        key = (label, bool(d.get(freight, True)), d.get(added) == "planned")
        groups.setdefault(key, []).append(_round_coords(xy[begin:stop]))
        begin = stop
    out = []
    for i, ((label, is_freight, is_planned), parts) in enumerate(sorted(groups.items())):
        if is_planned:
            colour, dash, weight = (st.MODE_COLOURS.get(mode, "#000000"), st.PLANNED_DASH,
                                    PLANNED_NETWORK_WIDTH_PX)  # fmt: skip
        elif is_freight:
            colour, dash, weight = (st.NETWORK_COLOURS.get(mode, "#999999"), None,
                                    NETWORK_WIDTH_PX.get(mode, 1.0))  # fmt: skip
        else:
            colour, dash, weight = (st.NO_FREIGHT_COLOUR, st.NO_FREIGHT_DASH,
                                    NETWORK_WIDTH_PX.get(mode, 1.0))  # fmt: skip
        note = "" if is_freight else " (不运货 no freight)"
        plan = f" · <b>{st.esc(st.PLANNED_LABEL)}</b>" if is_planned else ""
        shown = label or ("公路（数据中无路名）road, no name in the data" if mode == "road"
                          else "未命名 unnamed")  # fmt: skip
        out.append({
            "type": "Feature", "id": f"{mode}{i}",
            "geometry": {"type": "MultiLineString", "coordinates": parts},
            "properties": {
                "label": label, "freight": is_freight, "planned": is_planned, "colour": colour,
                "dash": dash, "weight": weight, "edges": len(parts),
                "tip": f"{st.esc(shown)}{st.esc(note)} · {st.esc(st.mode_label(mode))}{plan}",
            },
        })  # fmt: skip
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
        name = p.get("name") or "/".join(p.get("lines") or []) or link_label(p, None, {})
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
                           "colour": st.BOTTLENECK_COLOUR,
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
