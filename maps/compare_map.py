"""The difference map of two runs: Δ tonnes per link (run B − run A, with the rule), by
commodity, drawn offline with folium.

Links of the two result folders (``links.geojson``, docs/CONTRACTS.md) are matched by
mode and end points (rounded to 1e-5 degrees, about a metre): node ids are not compared,
since a scenario that adds a line renumbers nothing but may split an edge. Where two runs
split a line differently, the pieces do not match and each shows its own change (the
sums stay right). A link whose tonnes rise in B is drawn solid, one whose tonnes fall
dashed; colour is the mode's (road red, rail blue, pipeline purple), width grows with
|Δ|. One layer per commodity and one for all, so "road down, rail up" can be read for
coal alone.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from maps import _style as st
from maps.assets import make_offline

STATE = "with_rule"
MIN_DELTA_T = 1.0


def _key(feature: dict[str, Any]) -> tuple[Any, ...]:
    coords = feature["geometry"]["coordinates"]
    first = (round(coords[0][0], 5), round(coords[0][1], 5))
    last = (round(coords[-1][0], 5), round(coords[-1][1], 5))
    return (str(feature["properties"].get("mode", "")), *sorted((first, last)))


def _links(folder: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    path = Path(folder) / "links.geojson"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"features": []}
    return {_key(f): f for f in data.get("features", []) if f.get("geometry")}


def context_lines(run_a: Path, run_b: Path, *, state: str = STATE) -> list[dict[str, Any]]:
    """Links carrying flow in either run (``mode``, ``coords``): the network the changes
    are read against, drawn thin and grey under them."""
    links = _links(run_a) | _links(run_b)
    return [
        {"mode": k[0], "coords": f["geometry"]["coordinates"]}
        for k, f in links.items()
        if float(f["properties"].get(f"tonnes_{state}") or 0.0) > 0.0
    ]


def link_differences(run_a: Path, run_b: Path, *, state: str = STATE) -> list[dict[str, Any]]:
    """One record per link whose tonnes in ``state`` differ between the runs: ``mode``,
    ``name``, ``coords`` (lon/lat), ``a_t``, ``b_t``, ``delta_t`` (B − A) and
    ``delta_by_commodity`` {commodity: B − A}."""
    la, lb = _links(run_a), _links(run_b)
    out = []
    for key in la.keys() | lb.keys():
        fa, fb = la.get(key), lb.get(key)
        pa = (fa or {}).get("properties", {})
        pb = (fb or {}).get("properties", {})
        a = float(pa.get(f"tonnes_{state}") or 0.0)
        b = float(pb.get(f"tonnes_{state}") or 0.0)
        ca = pa.get(f"by_commodity_{state}") or {}
        cb = pb.get(f"by_commodity_{state}") or {}
        by = {c: float(cb.get(c) or 0.0) - float(ca.get(c) or 0.0) for c in set(ca) | set(cb)}
        by = {c: d for c, d in by.items() if abs(d) >= MIN_DELTA_T}
        if abs(b - a) < MIN_DELTA_T and not by:
            continue
        f = fb or fa
        assert f is not None
        out.append(
            {
                "mode": key[0],
                "name": str(f["properties"].get("name") or ""),
                "coords": f["geometry"]["coordinates"],
                "a_t": a,
                "b_t": b,
                "delta_t": b - a,
                "delta_by_commodity": by,
            }
        )
    out.sort(key=lambda r: -abs(r["delta_t"]))
    return out


class _MetricScale(MacroElement):
    """Leaflet's scale bar in km only (folium's ``control_scale`` adds miles too)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, position: 'bottomleft'})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def _width(delta: float, unit: float) -> float:
    return 1.5 + 7.0 * min(1.0, math.sqrt(abs(delta) / unit)) if unit > 0 else 2.0


def render_compare_map(
    run_a: Path, run_b: Path, out: Path, *, title_a: str = "A", title_b: str = "B"
) -> Path:
    """Write the offline difference map of run B against run A to ``out``."""
    diffs = link_differences(run_a, run_b)
    unit = max((abs(d["delta_t"]) for d in diffs), default=1.0)
    commodities = sorted({c for d in diffs for c in d["delta_by_commodity"]})
    lats = [c[1] for d in diffs for c in d["coords"]]
    lons = [c[0] for d in diffs for c in d["coords"]]
    m = folium.Map(
        location=[36.45, 115.98], zoom_start=7, tiles=None, control_scale=False, prefer_canvas=False
    )
    make_offline(m, title=f"差异图 Difference map: {title_b} − {title_a}")
    context = folium.FeatureGroup(name="两次运行的货流路段 Links with flow (grey)", show=True)
    for c in context_lines(run_a, run_b):
        folium.PolyLine(
            [(lat, lon) for lon, lat in c["coords"]],
            color="#b8b8b8",
            weight=1.5 if c["mode"] == "road" else 2.5,
            opacity=0.8,
        ).add_to(context)
    context.add_to(m)
    layers: list[tuple[str, str | None]] = [("全部货类 All commodities", None)]
    layers += [(st.commodity_label(c), c) for c in commodities]
    for n, (label, commodity) in enumerate(layers):
        group = folium.FeatureGroup(name=st.esc(label), show=(n == 0))
        for d in diffs:
            delta = d["delta_t"] if commodity is None else d["delta_by_commodity"].get(commodity)
            if delta is None or abs(delta) < MIN_DELTA_T:
                continue
            by = ", ".join(
                f"{st.commodity_label(c)} {v:+,.0f} t"
                for c, v in sorted(d["delta_by_commodity"].items())
            )
            tip = (
                f"<b>{st.esc(st.mode_label(d['mode']))}</b> {st.esc(d['name'] or '—')}<br>"
                f"Δ {delta:+,.0f} t ({st.esc(title_a)}: {d['a_t']:,.0f} t → "
                f"{st.esc(title_b)}: {d['b_t']:,.0f} t)<br>{st.esc(by)}"
            )
            folium.PolyLine(
                [(lat, lon) for lon, lat in d["coords"]],
                color=st.MODE_COLOURS.get(d["mode"], "#333333"),
                weight=_width(delta, unit),
                opacity=0.85,
                dash_array=None if delta > 0 else "8 6",
                tooltip=folium.Tooltip(tip),
            ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    legend = (
        '<details id="cmp-legend" open style="position:fixed;bottom:24px;right:10px;'
        "z-index:9999;background:#fff;padding:6px 10px;border:1px solid #999;"
        'border-radius:4px;font:13px sans-serif;max-width:min(30rem,70%)">'
        f"<summary><b>差异 Δ = {st.esc(title_b)} − {st.esc(title_a)}</b>（有规则 with the "
        "rule）</summary>"
        "实线 solid: B 更多 more in B · 虚线 dashed: B 更少 less in B<br>"
        + " · ".join(
            f'<span style="color:{st.MODE_COLOURS[k]}">━ {st.esc(st.mode_label(k))}</span>'
            for k in st.MODE_ORDER
        )
        + '<br><span style="color:#999">━</span> 有货流未变化 flow, no change'
        + f"<br>线宽 width ∝ √|Δ|; 最大 largest |Δ| = {unit:,.0f} t"
        + ("" if diffs else "<br><b>两次运行的路段吨数相同 / no link differs</b>")
        + "</details>"
        # folded on a narrow screen, so the map stays readable
        + "<script>if (window.innerWidth < 900) "
        "{ document.getElementById('cmp-legend').open = false; }</script>"
    )
    m.get_root().html.add_child(folium.Element(legend))  # type: ignore[attr-defined]
    _MetricScale().add_to(m)  # bottom left, where the legend never covers it
    if lats:
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(out))
    return out
