"""Small charts as inline SVG for pages that must work offline (no script library, no
CDN): a line chart against a parameter, a marginal abatement cost curve, a strip of draws
with their quantiles, and a bar chart of rank correlations.

Every string that reaches the SVG goes through :func:`esc` (text and attributes alike);
numbers are formatted here. Charts scale with their container (``viewBox``, width 100 %).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

#: Series colours (colour-blind safe, Okabe–Ito), in order.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
           "#f0e442")  # fmt: skip
FAIL_COLOUR = "#c0392b"
W, H = 640, 330
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 18, 58


def esc(text: Any) -> str:
    """Text escaped for HTML/SVG text and quoted attributes (None: ""), as
    :func:`maps._escape.html_text` does (which this module does not import: it brings
    folium)."""
    return html.escape("" if text is None else str(text), quote=True)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 12))
        v += step
    if out[-1] < hi:
        out.append(round(out[-1] + step, 12))
    return out


def fmt(v: float | None, *, digits: int = 3) -> str:
    """A compact number: 1.2 M, 35 k, 407, 0.277."""
    if v is None or v != v:
        return "—"
    a = abs(v)
    if a < 1e-9:  # float noise of a difference, e.g. trips 1e-10
        return "0"
    if a >= 1e9:
        return f"{v / 1e9:.{digits - 1}g} bn"
    if a >= 1e6:
        return f"{v / 1e6:.{digits}g} M"
    if a >= 1e4:
        return f"{v / 1e3:.{digits}g} k"
    if a >= 100 or a == 0:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _frame(title: str, x_label: str, y_label: str, body: list[str], *, w: int = W,
           h: int = H) -> str:  # fmt: skip
    return (
        f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
        + "".join(body)
        + f'<text class="xl" x="{LEFT + (w - LEFT - RIGHT) / 2:.1f}" y="{h - 8}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
        f'<text class="yl" transform="translate(14 {TOP + (h - TOP - BOTTOM) / 2:.1f}) '
        f'rotate(-90)" text-anchor="middle">{esc(y_label)}</text></svg>'
    )


def _y_axis(ticks: list[float], sy: Any, w: int) -> list[str]:
    out = []
    for t in ticks:
        y = sy(t)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{w - RIGHT}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/><text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{esc(fmt(t))}</text>')  # fmt: skip
    return out


def line_chart(  # noqa: C901, PLR0912 -- axes, ticks, series and labels of one chart, drawn top to bottom
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[tuple[str, Sequence[tuple[Any, float | None, str]]]],
    *,
    categories: Sequence[Any] | None = None,
    failed: Sequence[tuple[Any, str]] = (),
    bands: Sequence[tuple[Any, float, float]] = (),
    x_domain: Sequence[Any] = (),
) -> str:
    """Each series a line with dots: ``(label, [(x, y, tooltip), ...])``; ``y`` None is a
    gap. ``categories``: x values placed evenly in this order (for text values); else x
    is numeric. ``failed``: ``(x, text)`` marked with a red cross on the x axis.
    ``bands``: ``(x, low, high)`` shaded (the first series' P10–P90). ``x_domain``: x
    values the axis spans whether or not a series has a value there."""
    xs = [p[0] for _, pts in series for p in pts] + [f[0] for f in failed] + list(x_domain)
    ys = [p[1] for _, pts in series for p in pts if p[1] is not None]
    ys += [b[1] for b in bands] + [b[2] for b in bands]
    if categories is not None:
        pos = {c: i for i, c in enumerate(categories)}
        x_lo, x_hi = -0.5, len(categories) - 0.5

        def xv(x: Any) -> float:
            return float(pos[x])
    else:
        nums = [float(x) for x in xs] or [0.0, 1.0]
        x_lo, x_hi = min(nums), max(nums)
        if x_hi == x_lo:
            x_lo, x_hi = x_lo - 1, x_hi + 1
        pad = (x_hi - x_lo) * 0.03
        x_lo, x_hi = x_lo - pad, x_hi + pad

        def xv(x: Any) -> float:
            return float(x)
    y_ticks = nice_ticks(min([0.0, *ys]), max([0.0, *ys]))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    legend = [lab for lab, _ in series][:8] if len(series) > 1 else []
    top = TOP + 15 * len(legend)  # the legend above the plot, never over the data

    def sx(x: Any) -> float:
        return LEFT + (xv(x) - x_lo) / (x_hi - x_lo) * (W - LEFT - RIGHT)

    def sy(y: float) -> float:
        return top + (y_hi - y) / ((y_hi - y_lo) or 1.0) * (H - top - BOTTOM)

    body = _y_axis(y_ticks, sy, W)
    base = H - BOTTOM
    body.append(f'<line class="axis" x1="{LEFT}" x2="{W - RIGHT}" y1="{base}" y2="{base}"/>')
    if categories is not None:
        ticks = [(c, str(c)) for c in categories]
    else:
        tv = nice_ticks(x_lo, x_hi, 8)
        ticks = [(t, fmt(t)) for t in tv if x_lo <= t <= x_hi]
    for x, label in ticks:
        body.append(f'<text class="tick" x="{sx(x):.1f}" y="{base + 16}" '
                    f'text-anchor="middle">{esc(label)}</text>')  # fmt: skip
    if bands:
        pts = sorted(bands, key=lambda b: xv(b[0]))
        poly = [f"{sx(b[0]):.1f},{sy(b[2]):.1f}" for b in pts]
        poly += [f"{sx(b[0]):.1f},{sy(b[1]):.1f}" for b in reversed(pts)]
        body.append(f'<polygon class="band" points="{" ".join(poly)}"><title>P10–P90'
                    "</title></polygon>")  # fmt: skip
    for i, (_label, line) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        ordered = sorted(line, key=lambda p: xv(p[0]))
        run: list[str] = []
        for x, y, _ in [*ordered, (None, None, "")]:
            if y is None:
                if len(run) > 1:
                    body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                                f'points="{" ".join(run)}"/>')  # fmt: skip
                run = []
            else:
                run.append(f"{sx(x):.1f},{sy(y):.1f}")
        for x, y, tip in ordered:
            if y is not None:
                body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" '
                            f'fill="{colour}"><title>{esc(tip)}</title></circle>')  # fmt: skip
    for x, text in failed:
        cx = sx(x)
        body.append(f'<g class="fail"><path d="M{cx - 5:.1f},{base - 5} l10,10 m0,-10 l-10,10" '
                    f'stroke="{FAIL_COLOUR}" stroke-width="2.5"/><title>{esc(text)}</title>'
                    "</g>")  # fmt: skip
    for j, lab in enumerate(legend):
        body.append(f'<rect x="{LEFT + 8}" y="{TOP - 8 + 15 * j}" width="10" height="10" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"/><text class="leg" x="{LEFT + 22}" '
                    f'y="{TOP + 1 + 15 * j}">{esc(lab)}</text>')  # fmt: skip
    return _frame(title, x_label, y_label, body)


def mac_chart(title: str, curve: Sequence[dict[str, Any]], *, x_label: str,
              y_label: str) -> str:  # fmt: skip
    """A marginal abatement cost curve: one bar per entry of ``curve`` (sorted), as wide as
    its ``co2_saved_t`` and as high as its ``cny_per_t_co2``; a flow not covered by the
    rule (``eligible`` False, re-routed through shared capacity) hatched."""
    total = sum(m["co2_saved_t"] for m in curve) or 1.0
    hs = [m["cny_per_t_co2"] for m in curve]
    y_ticks = nice_ticks(min([0.0, *hs]), max([0.0, *hs]))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    x_ticks = nice_ticks(0.0, total, 6)
    x_hi = max(total, x_ticks[-1])

    def sx(x: float) -> float:
        return LEFT + x / x_hi * (W - LEFT - RIGHT)

    def sy(y: float) -> float:
        return TOP + (y_hi - y) / ((y_hi - y_lo) or 1.0) * (H - TOP - BOTTOM)

    body = ['<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#bbb"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#666" stroke-width="2"/></pattern>'
            "</defs>"]  # fmt: skip
    body += _y_axis(y_ticks, sy, W)
    base = H - BOTTOM
    body.append(f'<line class="axis" x1="{LEFT}" x2="{W - RIGHT}" y1="{base}" y2="{base}"/>')
    for t in x_ticks:
        if t <= x_hi:
            body.append(f'<text class="tick" x="{sx(t):.1f}" y="{base + 16}" '
                        f'text-anchor="middle">{esc(fmt(t))}</text>')  # fmt: skip
    x = 0.0
    for i, m in enumerate(curve):
        w = m["co2_saved_t"]
        y0, y1 = sy(0.0), sy(m["cny_per_t_co2"])
        top, height = min(y0, y1), max(1.0, abs(y1 - y0))
        fill = PALETTE[i % 2] if m["eligible"] else "url(#hatch)"
        tip = (f"{m['flow_id']} {m['commodity']} {m['origin_name']} → {m['destination_name']}: "
               f"{fmt(m['cny_per_t_co2'])} CNY/t CO2 × {fmt(w)} t CO2 = "
               f"{fmt(m['rule_cost_cny'])} CNY/yr; {fmt(m['moved_t'])} t off the road"
               + ("" if m["eligible"] else " (not covered by the rule: re-routed)"))
        body.append(f'<rect x="{sx(x):.2f}" y="{top:.1f}" width="{max(0.8, sx(x + w) - sx(x)):.2f}" '
                    f'height="{height:.1f}" fill="{fill}" stroke="#fff" stroke-width="0.5">'
                    f"<title>{esc(tip)}</title></rect>")  # fmt: skip
        if sx(x + w) - sx(x) > 34:
            body.append(f'<text class="bar" x="{(sx(x) + sx(x + w)) / 2:.1f}" '
                        f'y="{top - 4:.1f}" text-anchor="middle">{esc(m["flow_id"])}</text>')  # fmt: skip
        x += w
    return _frame(title, x_label, y_label, body)


def strip_chart(title: str, values: Sequence[float], q: dict[str, float | None], *,
                x_label: str) -> str:  # fmt: skip
    """Draws as dots on one axis (jittered rows), with P10, P50, P90 marked."""
    h = 150
    vals = [v for v in values if v is not None and math.isfinite(v)]
    ticks = nice_ticks(min(vals, default=0.0), max(vals, default=1.0), 6)
    lo, hi = ticks[0], ticks[-1]

    def sx(x: float) -> float:
        return LEFT + (x - lo) / ((hi - lo) or 1.0) * (W - LEFT - RIGHT)

    base = h - 50
    body = [f'<line class="axis" x1="{LEFT}" x2="{W - RIGHT}" y1="{base}" y2="{base}"/>']
    for t in ticks:
        body.append(f'<text class="tick" x="{sx(t):.1f}" y="{base + 16}" '
                    f'text-anchor="middle">{esc(fmt(t))}</text>')  # fmt: skip
    for i, v in enumerate(vals):
        y = base - 10 - (i * 7) % 50
        body.append(f'<circle cx="{sx(v):.1f}" cy="{y}" r="2.5" fill="{PALETTE[0]}" '
                    f'fill-opacity="0.55"><title>{esc(fmt(v))}</title></circle>')  # fmt: skip
    for name in ("p10", "p50", "p90"):
        qv = q.get(name)
        if qv is None:
            continue
        v = qv
        body.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{TOP - 6}" y2="{base}" '
                    f'stroke="{PALETTE[1]}" stroke-width="{2 if name == "p50" else 1}" '
                    f'stroke-dasharray="{"" if name == "p50" else "4 3"}"/>'
                    f'<text class="tick" x="{sx(v):.1f}" '
                    f'y="{TOP - 4 if name != "p50" else base + 30}" '
                    f'text-anchor="middle">{name.upper()}</text>')  # fmt: skip
    return _frame(title, x_label, "", body, h=h)


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, x_label: str) -> str:
    """Horizontal bars from 0 in [-1, 1] (rank correlations), largest first."""
    n = max(1, len(items))
    row = 22
    h = TOP + row * n + 46
    left = 230

    def sx(x: float) -> float:
        return left + (x + 1) / 2 * (W - left - RIGHT)

    body = []
    for t in (-1.0, -0.5, 0.0, 0.5, 1.0):
        body.append(f'<line class="grid" x1="{sx(t):.1f}" x2="{sx(t):.1f}" y1="{TOP}" '
                    f'y2="{TOP + row * n}"/><text class="tick" x="{sx(t):.1f}" '
                    f'y="{TOP + row * n + 16}" text-anchor="middle">{t:+.1f}</text>')  # fmt: skip
    for i, (label, v) in enumerate(items):
        y = TOP + row * i + 3
        x0, x1 = sorted((sx(0.0), sx(v)))
        body.append(f'<text class="tick" x="{left - 6}" y="{y + 12}" text-anchor="end">'
                    f'{esc(label)}</text><rect x="{x0:.1f}" y="{y}" width="{max(1, x1 - x0):.1f}" '
                    f'height="{row - 6}" fill="{PALETTE[0] if v >= 0 else PALETTE[1]}">'
                    f"<title>{esc(label)}: {v:+.3f}</title></rect>")  # fmt: skip
    return _frame(title, x_label, "", body, h=h)
