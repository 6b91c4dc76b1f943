"""Places and terminals: read the table, join each place to the graphs of its modes.

A place is joined to a graph at the nearest point ON a line (not merely the nearest
vertex): the edge there is split, adding a node, and the geodesic distance from the
place to that point is the link's ``offset_km``. Every place is joined to road; a
place claiming rail or pipeline is joined to those too. Rail places join only edges
that carry freight (``freight=True``): a freight terminal beside a high-speed line
belongs on the conventional track. A place whose nearest line of a mode it claims lies
further than ``link_tolerance_km[mode]`` is an input error.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from networks._errors import InputError, raise_if_any
from networks._types import MODES, Link, Place
from networks.io import check_file, gdal_name, lonlat_problem, one_layer, parse_float, read_table
from networks.snapping import EdgeLocator

KINDS: frozenset[str] = frozenset(
    {"county", "shipper", "mine", "port", "station", "siding", "pipeline_terminal", "plant",
     "city"}
)
REQUIRED: tuple[str, ...] = ("id", "name", "lon", "lat", "kind")
_LAYER_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}


@dataclass
class PlaceTable:
    """Places read from one or more files.

    Attributes
    ----------
    places : dict[str, Place]
        By id, in file order.
    names_en : dict[str, str]
        English names where the table gives ``name_en``.
    origins : dict[str, tuple[str, str]]
        Place id -> (file, ``"row N"`` / ``"feature N"``), for error messages.
    """

    places: dict[str, Place] = field(default_factory=dict)
    names_en: dict[str, str] = field(default_factory=dict)
    origins: dict[str, tuple[str, str]] = field(default_factory=dict)


def _as_paths(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [str(paths)]
    return [str(p) for p in paths]


def read_places(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> PlaceTable:
    """Read places from CSV tables or point layers (concatenated, ids unique overall).

    Parameters
    ----------
    paths : path or sequence of paths
        CSV (columns as in ``docs/CONTRACTS.md``) or a point layer with those
        properties (lon/lat then come from the geometry).

    Returns
    -------
    PlaceTable

    Raises
    ------
    InputErrors
        Missing files or columns, bad numbers, coordinates out of range, unknown
        ``kind`` or ``modes``, duplicate ids -- all gathered.
    """
    table = PlaceTable()
    errors: list[InputError] = []
    has_name_en = "name_en" in {f.name for f in dataclasses.fields(Place)}
    for file in _as_paths(paths):
        err = check_file(file)
        if err is not None:
            errors.append(err)
            continue
        try:
            rows = _read_rows(file)
        except Exception as exc:  # InputErrors from the readers
            errors.extend(getattr(exc, "errors", [InputError(file, "file", "format", str(exc))]))
            continue
        for where, row in rows:
            place = _parse_place(file, where, row, errors, has_name_en=has_name_en)
            if place is None:
                continue
            if place.id in table.places:
                f0, w0 = table.origins[place.id]
                errors.append(InputError(file, where, "id",
                                         f"duplicate place id {place.id!r} (first at {f0} {w0})"))
                continue
            table.places[place.id] = place
            table.origins[place.id] = (file, where)
            if row.get("name_en"):
                table.names_en[place.id] = str(row["name_en"]).strip()
    raise_if_any(errors)
    return table


def _read_rows(file: str) -> list[tuple[str, dict[str, Any]]]:
    suffixes = [s.lower() for s in Path(file).suffixes]
    if not set(suffixes) & _LAYER_SUFFIXES:
        return [(f"row {line}", row) for line, row in read_table(file, required=REQUIRED)]
    import pyogrio

    layer, err = one_layer(file, wanted="places")
    if err is not None:
        raise_if_any([err])
    try:
        gdf = pyogrio.read_dataframe(gdal_name(file), layer=layer)
    except Exception as exc:
        raise_if_any([InputError(file, "file", "format", f"cannot read: {exc}")])
    out: list[tuple[str, dict[str, Any]]] = []
    errors: list[InputError] = []
    if gdf.crs is not None and gdf.crs.is_projected:
        raise_if_any([InputError(file, "layer", "crs", "projected CRS; give lon/lat (EPSG:4326)")])
    for i, (geom, row) in enumerate(
        zip(gdf.geometry.values, gdf.drop(columns=gdf.geometry.name).to_dict("records"),
            strict=True),
        start=1,
    ):
        if geom is None or geom.geom_type != "Point":
            kind = "missing" if geom is None else geom.geom_type
            errors.append(InputError(file, f"feature {i}", "geometry", f"{kind}, expected Point"))
            continue
        row = {k: ("" if v is None else str(v)) for k, v in row.items()}
        row["lon"], row["lat"] = str(geom.x), str(geom.y)
        out.append((f"feature {i}", row))
    raise_if_any(errors)
    return out


def _parse_place(
    file: str, where: str, row: Mapping[str, Any], errors: list[InputError], *,
    has_name_en: bool,
) -> Place | None:
    n0 = len(errors)
    pid = str(row.get("id", "")).strip()
    if not pid:
        errors.append(InputError(file, where, "id", "blank id"))
    name = str(row.get("name", "")).strip()
    values: dict[str, float] = {}
    for key in ("lon", "lat"):
        try:
            values[key] = parse_float(row.get(key), default=math.nan, minimum=None)
        except ValueError as exc:
            errors.append(InputError(file, where, key, str(exc)))
            continue
        if math.isnan(values[key]):
            errors.append(InputError(file, where, key, "blank, expected degrees (WGS84)"))
    if len(values) == 2 and not any(math.isnan(v) for v in values.values()):
        why = lonlat_problem(values["lon"], values["lat"])
        if why is not None:
            col = "lon" if abs(values["lon"]) > 180 else "lat"
            col = "lon/lat" if "swapped" in why else col
            errors.append(InputError(file, where, col, why))
    kind = str(row.get("kind", "")).strip()
    if kind not in KINDS:
        errors.append(InputError(file, where, "kind",
                                 f"unknown kind {kind!r}; expected one of "
                                 + ", ".join(sorted(KINDS))))
    modes_raw = [m.strip() for m in str(row.get("modes", "") or "").split(";") if m.strip()]
    bad = [m for m in modes_raw if m not in MODES]
    if bad:
        errors.append(InputError(file, where, "modes",
                                 f"unknown mode {', '.join(map(repr, bad))}; "
                                 f"expected ;-joined {', '.join(MODES)}"))
    modes = tuple(dict.fromkeys(modes_raw)) or ("road",)
    extra: dict[str, float] = {}
    # a blank handling charge stays NaN: the scenario's default (freight) fills it in
    for key, default in (("handling_cny_per_t", math.nan), ("capacity_t", math.inf)):
        try:
            extra[key] = parse_float(row.get(key), default=default)
        except ValueError as exc:
            errors.append(InputError(file, where, key, str(exc)))
    if len(errors) > n0:
        return None
    kw: dict[str, Any] = {}
    if has_name_en:
        kw["name_en"] = str(row.get("name_en", "") or "").strip()
    return Place(
        id=pid, name=name, lon=values["lon"], lat=values["lat"], kind=kind, modes=modes,
        handling_cny_per_t=extra["handling_cny_per_t"], capacity_t=extra["capacity_t"],
        source=str(row.get("source", "") or ""), county=str(row.get("county", "") or ""),
        note=str(row.get("note", "") or ""), **kw,
    )


def freight_edge(_u: int, _v: int, data: Mapping[str, Any]) -> bool:
    """True for edges that may carry freight (the rail linking and routing filter)."""
    return bool(data.get("freight", True))


def main_component_nodes(G: nx.Graph, *, min_km: float) -> set[int]:
    """Nodes of connected components at least ``min_km`` long (or of the longest one)."""
    comps = list(nx.connected_components(G))
    label: dict[int, int] = {}
    for i, c in enumerate(comps):
        label.update(dict.fromkeys(c, i))
    km: dict[int, float] = {}
    for u, _, length in G.edges(data="length_km"):
        km[label[u]] = km.get(label[u], 0.0) + float(length)
    bar = min(min_km, max(km.values(), default=0.0))
    return {n for i, c in enumerate(comps) if km.get(i, 0.0) >= bar and i in km for n in c}


def main_component_edges(G: nx.Graph, *, min_km: float) -> set[tuple[int, int]]:
    """Edges of connected components at least ``min_km`` long (or of the longest one)."""
    nodes = main_component_nodes(G, min_km=min_km)
    return {(min(u, v), max(u, v)) for u, v in G.edges if u in nodes}


def link_filter(G: nx.Graph, mode: str, *, min_component_km: float = 20.0) -> Any:
    """The edges a place claiming ``mode`` may be joined to, as ``f(u, v, data) -> bool``:
    on rail only edges that carry freight; on road and rail only pieces of network at least
    ``min_component_km`` long (see :func:`link_places`)."""
    main = main_component_nodes(G, min_km=min_component_km) if mode != "pipeline" else None

    def usable(u: int, v: int, d: Mapping[str, Any]) -> bool:
        if mode == "rail" and not freight_edge(u, v, d):
            return False
        return main is None or u in main  # an edge is in its ends' component

    return usable


def line_label(G: nx.Graph, u: int, v: int) -> str:
    """A planner's name for the line of edge ``(u, v)``: its name, else its matched line
    ids, else "an unnamed line"."""
    d = G.edges[u, v]
    return str(d.get("name") or "/".join(d.get("lines", ()) or ()) or "an unnamed line")


def link_places(
    graphs: Mapping[str, nx.Graph],
    table: PlaceTable,
    *,
    tolerance_km: Mapping[str, float],
    min_component_km: float = 20.0,
) -> dict[str, dict[str, Link]]:
    """Join every place to the graphs of its modes (and road), splitting edges IN PLACE.

    Parameters
    ----------
    graphs : mapping of mode -> networkx.Graph
        Modified: an edge is split at each link point.
    table : PlaceTable
    tolerance_km : mapping of mode -> float
        The furthest a place may be from a line of a mode it claims.
    min_component_km : float
        Road and rail places join only pieces of network at least this long: a
        terminal must not end up on a stray 2 km fragment of OSM track that leads
        nowhere. Pipelines (often one short feature each) are exempt.

    Returns
    -------
    dict
        ``links[place_id][mode] = Link(node, offset_km)``.

    Raises
    ------
    InputErrors
        One line per place too far from a line of a mode it claims.
    """
    links: dict[str, dict[str, Link]] = {pid: {} for pid in table.places}
    errors: list[InputError] = []
    for mode in MODES:
        claimants = [p for p in table.places.values() if mode == "road" or mode in p.modes]
        if not claimants:
            continue
        G = graphs.get(mode)
        tol = float(tolerance_km.get(mode, 5.0))
        if G is None or G.number_of_edges() == 0:
            for p in claimants:
                file, where = table.origins.get(p.id, ("places", f"place {p.id}"))
                errors.append(InputError(file, where, "modes",
                                         f"place {p.id!r} claims {mode} but no {mode} network "
                                         "is loaded"))
            continue
        locator = EdgeLocator(G, edge_filter=link_filter(G, mode,
                                                          min_component_km=min_component_km))
        keeps = locator.candidates([p.lon for p in claimants], [p.lat for p in claimants],
                                   max_km=tol)
        for p, keep in zip(claimants, keeps, strict=True):
            got = locator.link_from(keep, p.lon, p.lat, max_km=tol)
            if got is None:
                file, where = table.origins.get(p.id, ("places", f"place {p.id}"))
                hit = locator.nearest(p.lon, p.lat, max_km=max(100.0, 4 * tol))
                what = "freight rail line" if mode == "rail" else f"{mode} line"
                far = (f"{hit.offset_km:.1f} km away at {hit.lon:.6f},{hit.lat:.6f} "
                       f"({line_label(G, hit.u, hit.v)})" if hit else "more than 100 km away")
                errors.append(InputError(
                    file, where, "lon/lat" if mode == "road" else "modes",
                    f"place {p.id!r} ({p.name}) claims {mode} but the nearest {what} is {far}, "
                    f"more than link_tolerance_km.{mode} = {tol:g} km; move the place onto "
                    f"the line, or see `freight locate {p.lon:g},{p.lat:g}`"))
                continue
            node, offset = got
            links[p.id][mode] = Link(node=node, offset_km=offset)
    raise_if_any(errors)
    return links
