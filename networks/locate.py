"""Where a point sits on the networks, and how far each place is from the lines it uses.

:func:`locate` answers, for a ``lon,lat`` or a place, per mode: the nearest point ON a line
that a place there could be joined to (the filter :func:`networks.places.link_filter` that
:func:`networks.places.link_places` uses: freight track only, pieces of network at least
20 km long), its distance, the line's name, and whether a place there would be joined under
the scenario's ``link_tolerance_km``. :func:`link_report` lists the link distance of every
place of a loaded network and the links long enough to be a mistake (:data:`LINK_WARN_KM`).

Coordinates copied from 高德 / 腾讯 (GCJ-02) or 百度 (BD-09) maps sit about 0.5 km from where
the OpenStreetMap-derived networks (WGS84) put the same spot. :func:`gcj02_to_wgs84` and
:func:`bd09_to_gcj02` undo those offsets (the published formulas of the GCJ-02 obfuscation,
inverted by fixed-point iteration to ~1e-7 degrees); a point that lands much nearer a line
once converted is reported as probably GCJ-02 or BD-09.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx

from networks._errors import InputError
from networks._types import MODES, Network
from networks.io import lonlat_problem, point_km
from networks.places import line_label, link_filter
from networks.snapping import EdgeLocator

#: Link distances above which :func:`link_report` warns, by mode (km). A rail or pipeline
#: link is charged at that mode's rate: 1 km is above every honest reason for a gap -- the
#: geometry is rounded to 0.001 deg (~0.1 km), a station's building stands within a few
#: hundred metres of its track (京九 passes ~0.11 km from three stations, DATA-SOURCES.md),
#: a GCJ-02 shift is ~0.5 km -- and below the 1.5 km within which nismod/open-gira join
#: points to rail (PEERS.md). Beyond it the gap is a truck movement (短驳) or a misplaced
#: point, and should be a road leg or a corrected coordinate. Road links are not warned:
#: the road layer holds major roads only, so a few km to it is a real trip on minor roads,
#: charged correctly at the road rate.
LINK_WARN_KM: dict[str, float] = {"rail": 1.0, "pipeline": 1.0}

#: Rail and pipeline links from this long are checked for GCJ-02/BD-09 coordinates (km):
#: the shift is ~0.5 km, so a place copied from 高德 sits 0.3-0.7 km off a line across it.
HINT_MIN_KM = 0.3
#: How far :func:`locate` looks for a line (km).
SEARCH_KM = 500.0

_A = 6378245.0  # the Krasovsky 1940 semi-major axis the GCJ-02 formulas use
_EE = 0.00669342162296594323  # and its eccentricity squared


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0))
            * 2 / 3)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi))
            * 2 / 3)
    rad = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 coordinates 高德 / 腾讯 maps show for a WGS84 point."""
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """The WGS84 point of GCJ-02 coordinates (fixed-point inversion of
    :func:`wgs84_to_gcj02`, to 1e-9 degrees)."""
    x, y = lon, lat
    for _ in range(30):
        gx, gy = wgs84_to_gcj02(x, y)
        dx, dy = gx - lon, gy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-9 and abs(dy) < 1e-9:
            break
    return x, y


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """百度's BD-09 coordinates to GCJ-02 (BD-09 is a further shift of GCJ-02)."""
    x_pi = math.pi * 3000.0 / 180.0
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * x_pi)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * x_pi)
    return z * math.cos(theta), z * math.sin(theta)


@dataclass(frozen=True)
class Nearest:
    """The nearest point of one mode's network a place could be joined to.

    ``km`` is the geodesic distance to it; ``line`` the line's name; ``links`` whether a
    place there claiming the mode would be joined (``km <= tolerance_km``); ``note`` says
    what else is nearer (a passenger-only line, a fragment not joined to the network);
    ``own`` that it is the link of the place asked about.
    """

    mode: str
    lon: float
    lat: float
    km: float
    line: str
    links: bool
    tolerance_km: float
    note: str = ""
    own: bool = False


@dataclass(frozen=True)
class Located:
    """:func:`locate`'s answer: the point asked about, the place (if one was named), the
    nearest usable point per mode (None: no such line within :data:`SEARCH_KM`), and hints."""

    query: str
    lon: float
    lat: float
    place: str = ""
    place_name: str = ""
    nearest: dict[str, Nearest | None] = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        out = asdict(self)
        out["nearest"] = {m: (None if n is None else {k: (round(v, 6) if isinstance(v, float)
                                                         else v) for k, v in asdict(n).items()})
                          for m, n in self.nearest.items()}
        return out


def _locators(network: Network) -> dict[str, tuple[EdgeLocator, EdgeLocator]]:
    """Per mode: a locator over the edges a place may join, and one over every edge."""
    out = {}
    for mode in MODES:
        G = network.graphs.get(mode)
        if G is None or G.number_of_edges() == 0:
            continue
        out[mode] = (EdgeLocator(G, edge_filter=link_filter(G, mode)), EdgeLocator(G))
    return out


def _nearest(
    G: nx.Graph, mode: str, pair: tuple[EdgeLocator, EdgeLocator], lon: float, lat: float,
    tol: float,
) -> Nearest | None:
    usable, every = pair
    hit = usable.nearest(lon, lat, max_km=SEARCH_KM)
    if hit is None:
        return None
    note = ""
    any_hit = every.nearest(lon, lat, max_km=hit.offset_km)
    if any_hit is not None and any_hit.offset_km < hit.offset_km - 1e-6:
        d = G.edges[any_hit.u, any_hit.v]
        what = ("a passenger-only line" if mode == "rail" and not d.get("freight", True)
                else "a piece of network not joined to the rest")
        note = (f"{what} ({line_label(G, any_hit.u, any_hit.v)}) is nearer, "
                f"{any_hit.offset_km:.2f} km; places are never joined to it")
    return Nearest(mode, hit.lon, hit.lat, hit.offset_km, line_label(G, hit.u, hit.v),
                   hit.offset_km <= tol, tol, note)


def parse_point(text: str, *, where: str = "locate") -> tuple[float, float]:
    """``"lon,lat"`` (a Chinese comma or spaces are fine) as numbers, checked.

    Raises
    ------
    InputError
        Not two numbers, or not a WGS84 point (swapped lon/lat named as such).
    """
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise InputError(where, text, "point",
                         "expected a place id or name, or lon,lat in WGS84 degrees "
                         "(e.g. 116.30,37.45)") from None
    why = lonlat_problem(lon, lat)
    if why is not None:
        raise InputError(where, text, "point", why)
    return lon, lat


def locate(
    network: Network, query: str, *, tolerance_km: Mapping[str, float],
) -> Located:
    """Where a point or a place sits on each network (see the module docstring).

    Parameters
    ----------
    network : Network
        A loaded network (its places already joined).
    query : str
        A place id, name or ``name_en``, or ``"lon,lat"``.
    tolerance_km : mapping of mode -> float
        The scenario's ``link_tolerance_km``.

    Returns
    -------
    Located
        For a place, the modes it claims are answered by its own links (what the model
        uses); the others by the nearest usable point.

    Raises
    ------
    InputError
        Neither a place nor a point; a point not in WGS84 degrees.
    """
    from networks.routing import resolve_place

    pid = resolve_place(network, query)
    if pid is not None:
        place = network.places[pid]
        lon, lat = place.lon, place.lat
    else:
        lon, lat = parse_point(query)
    locs = _locators(network)
    nearest: dict[str, Nearest | None] = {}
    for mode in MODES:
        G = network.graphs.get(mode)
        tol = float(tolerance_km.get(mode, 5.0))
        link = network.links.get(pid, {}).get(mode) if pid is not None else None
        if link is not None and G is not None:
            n = G.nodes[link.node]
            edges = list(G.edges(link.node))
            line = " / ".join(dict.fromkeys(line_label(G, u, v) for u, v in edges))
            nearest[mode] = Nearest(mode, float(n["x"]), float(n["y"]), link.offset_km,
                                    line, True, tol, own=True)
        elif mode in locs and G is not None:
            nearest[mode] = _nearest(G, mode, locs[mode], lon, lat, tol)
        else:
            nearest[mode] = None
    hints = _datum_hints(network, locs, lon, lat, nearest, tolerance_km)
    return Located(query, lon, lat, pid or "", network.places[pid].name if pid else "",
                   nearest, hints)


def _datum_hints(
    network: Network, locs: dict[str, tuple[EdgeLocator, EdgeLocator]], lon: float,
    lat: float, nearest: Mapping[str, Nearest | None], tolerance_km: Mapping[str, float],
) -> list[str]:
    """A hint when the point reads as GCJ-02 or BD-09: converted to WGS84 it lands much
    nearer (under a third of the distance, and within 0.15 km) a rail or pipeline line."""
    hints = []
    for label, convert in (
        ("高德/腾讯 (GCJ-02)", lambda x, y: gcj02_to_wgs84(x, y)),
        ("百度 (BD-09)", lambda x, y: gcj02_to_wgs84(*bd09_to_gcj02(x, y))),
    ):
        wx, wy = convert(lon, lat)
        for mode in ("rail", "pipeline"):
            here = nearest.get(mode)
            G = network.graphs.get(mode)
            if here is None or here.km < HINT_MIN_KM or mode not in locs or G is None:
                continue
            there = _nearest(G, mode, locs[mode], wx, wy, float(tolerance_km.get(mode, 5.0)))
            if there is not None and there.km <= min(0.15, here.km / 3.0):
                hints.append(
                    f"{mode}: {here.km:.2f} km from the line here, but {there.km:.2f} km if "
                    f"these are {label} coordinates: their WGS84 point is {wx:.6f},{wy:.6f} "
                    f"(shifted {point_km(lon, lat, wx, wy):.2f} km); copy coordinates from a "
                    "WGS84 source (OpenStreetMap, GPS) or convert them")
                break
    return hints


@dataclass(frozen=True)
class LinkWarning:
    """A place whose link to a mode is longer than :data:`LINK_WARN_KM`."""

    place: str
    mode: str
    km: float
    message: str


def link_report(
    network: Network, *, tolerance_km: Mapping[str, float],
    warn_km: Mapping[str, float] = LINK_WARN_KM,
) -> tuple[list[dict[str, Any]], list[LinkWarning]]:
    """Every place's link distance by mode, and the links long enough to be a mistake.

    Returns
    -------
    rows : list of dict
        ``{"id", "name", "road", "rail", "pipeline"}`` (km, None when not linked).
    warnings : list of LinkWarning
        Links over ``warn_km[mode]``, naming the point they join and the line, and links
        of a place that reads as GCJ-02 / BD-09 (any length from :data:`HINT_MIN_KM`).
    """
    rows: list[dict[str, Any]] = []
    warnings: list[LinkWarning] = []
    locs: dict[str, tuple[EdgeLocator, EdgeLocator]] | None = None
    for pid, place in network.places.items():
        links = network.links.get(pid, {})
        rows.append({"id": pid, "name": place.name,
                     **{m: (links[m].offset_km if m in links else None) for m in MODES}})
        for mode, limit in warn_km.items():
            link = links.get(mode)
            if link is None or link.offset_km < HINT_MIN_KM:
                continue
            G = network.graphs[mode]
            n = G.nodes[link.node]
            line = " / ".join(dict.fromkeys(line_label(G, u, v) for u, v in G.edges(link.node)))
            if locs is None:
                locs = _locators(network)
            nearest = {mode: Nearest(mode, n["x"], n["y"], link.offset_km, line, True,
                                     float(tolerance_km.get(mode, 5.0)))}
            hints = _datum_hints(network, locs, place.lon, place.lat, nearest, tolerance_km)
            if link.offset_km <= limit and not hints:
                continue
            msg = (f"place {pid!r} ({place.name}) is {link.offset_km:.2f} km from the {mode} "
                   f"line it is joined to ({line}, at {n['x']:.6f},{n['y']:.6f}); those km are "
                   f"charged as {mode}")
            if link.offset_km > limit:
                msg += (f". Over {limit:g} km this is a truck movement (短驳) or a misplaced "
                        "point: put the place on the line, or make it a road place")
            if hints:
                msg += "; " + hints[0]
            warnings.append(LinkWarning(pid, mode, link.offset_km, msg))
    return rows, warnings
