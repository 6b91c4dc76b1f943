"""The point markers of the modal map: shippers (with a popup of their flows in the three
states), terminals (sized by throughput, coloured by utilisation; planned ones dashed) and
the stations of 短驳 access legs. Plain functions returning escaped HTML and numbers, so
tests check them without a browser."""

from __future__ import annotations

import math
from typing import Any

from maps import _style as st
from maps.results import STATES, by_place, finite
from networks import Network

#: Place kinds drawn as shippers: the firms that send or receive the flows.
SHIPPER_KINDS: frozenset[str] = frozenset({"shipper", "plant"})


def access_station_markers(
    summary: dict[str, Any], terminals: list[dict[str, Any]], *, state: str = "with_rule"
) -> list[dict[str, Any]]:
    """One marker per station with 短驳 in ``state`` (``access_by_station``), placed from
    ``terminals.csv``, sized by its 短驳 tonnes in that state (area ∝ tonnes, on one scale
    for the three states), with a tooltip of its tonnes, trips and t·km in the three
    states."""
    where = {t.get("id"): t for t in terminals}
    states = summary.get("states") or {}
    every: list[str] = []
    for x in STATES:
        for k in (states.get(x) or {}).get("access_by_station") or {}:
            if k not in every:
                every.append(k)
    ids = [k for k in every if float(((states.get(state) or {}).get("access_by_station") or {})
                                     .get(k, {}).get("tonnes") or 0.0) > 0]  # fmt: skip

    def rec(x: str, k: str) -> dict[str, Any] | None:
        s = states.get(x)
        return None if s is None else ((s.get("access_by_station") or {}).get(k) or {})

    top = max((float((rec(x, k) or {}).get("tonnes") or 0.0) for k in every for x in STATES),
              default=0.0)  # fmt: skip
    out = []
    for k in ids:
        t = where.get(k)
        if t is None or t.get("lon") is None or t.get("lat") is None:
            continue
        first = next(r for x in STATES if (r := rec(x, k)))
        on = float((rec(state, k) or {}).get("tonnes") or 0.0)
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


def state_rows(rec: dict[str, Any]) -> list[list[str]]:
    """Road and rail-or-pipeline line-haul tonnes of a place's flows in the three states, as
    plain-text rows (a header row first) for a tooltip or the click panel."""
    road = rec["road"]
    rows = [["(t/年)", *(st.STATE_LABELS[x][0] for x in STATES)]]
    for label, fn in (
        ("公路 Road", lambda x: road.get(x)),
        ("铁路/管道 Rail or pipeline",
         lambda x: None if road.get(x) is None else rec["tonnes"] - road[x]),
    ):  # fmt: skip
        rows.append([label, *(st.fmt_num(fn(x)) for x in STATES)])
    return rows


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    cell = "<td style='text-align:right;padding-left:8px'>"
    return ("<table style='border-collapse:collapse'><tr>"
            + "".join(f"<th>{st.esc(x)}</th>" for x in head) + "</tr>"
            + "".join(f"<tr><td>{st.esc(r[0])}</td>"
                      + "".join(f"{cell}{st.esc(x)}</td>" for x in r[1:]) + "</tr>"
                      for r in body)
            + "</table>")  # fmt: skip


def shipper_markers(network: Network, flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shippers and plants that start or end a flow, with a tooltip of their line-haul
    tonnes in the three states and what stays on the road with the rule (a click lists
    their flows: :mod:`maps.interaction`).

    Returns
    -------
    list of dict
        ``id, name, lon, lat, kind, road {state: t}, with_rule {mode: t}, road_t,
        summary`` (plain-text rows: :func:`state_rows`) and ``tooltip`` (escaped HTML).
    """
    agg = by_place(flows)
    out = []
    for pid, a in sorted(agg.items()):
        place = network.places.get(pid)
        if place is None or place.kind not in SHIPPER_KINDS:
            continue
        rows = state_rows(a)
        left = (
            f"有规则时留在公路 Left on the road with the rule: <b>{st.fmt_num(a['road_t'])} t</b>"
            if a["road_t"] > 0 else "有规则时全部离开公路 Nothing left on the road with the rule"
        )  # fmt: skip
        tooltip = (
            f"<b>{st.esc(place.name)}</b> "
            f"({st.esc(place.kind)}{', ' + st.esc(place.county) if place.county else ''})"
            f"{_table(rows)}{left}<br><i>点击查看其货流路线 click: the routes of its flows</i>"
        )
        out.append({
            "id": pid, "name": place.name, "lon": place.lon, "lat": place.lat,
            "kind": place.kind, "road": a["road"], "with_rule": a["with_rule"],
            "road_t": a["road_t"], "summary": rows, "tooltip": tooltip,
        })  # fmt: skip
    return out


def terminal_markers(
    terminals: list[dict[str, Any]], *, planned: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Terminals sized by throughput with the rule (area ∝ tonnes) and coloured by
    utilisation (grey: capacity unknown), with their throughput in the three states.

    Terminals whose id is in ``planned`` (:func:`maps.layers.planned_places`: the gates of
    planned lines) get ``planned`` true, a dashed outline (``dash``) and 规划 in the tooltip.
    """
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
        is_planned = t.get("id") in planned
        plan = f" · <b>{st.esc(st.PLANNED_LABEL)}</b>" if is_planned else ""
        tip = (
            f"<b>{st.esc(t.get('name'))}</b> ({st.esc(t.get('kind'))}; {st.esc(t.get('modes'))})"
            f"{plan}"
            f"<br>吞吐 Throughput (t/年):{states}"
            + (f"<br>短驳（有规则）access with the rule: {st.fmt_num(acc)} t" if acc > 0 else "")
            + f"<br>能力 Capacity: {st.esc(st.capacity_text(t.get('capacity_t')))}"
            f"<br>利用率 Utilisation: {'—' if util is None else f'{util:.0%}'}"
            + (f"<br>影子价格 Shadow price: {st.fmt_num(shadow, digits=2)} 元/t" if shadow else "")
        )  # fmt: skip
        out.append({"id": t.get("id"), "name": t.get("name"), "lon": t["lon"], "lat": t["lat"],
                    "radius": round(radius, 2), "colour": st.utilisation_colour(util),
                    "utilisation": util, "planned": is_planned,
                    "dash": st.PLANNED_DASH if is_planned else None, "tip": tip})  # fmt: skip
    return out

