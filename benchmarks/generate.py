"""Seeded synthetic multimodal instances in the scenario format, at named sizes.

``generate(size, out_dir, *, seed=0)`` writes one scenario folder::

    <out_dir>/scenario.toml     the scenario (policy soft, so every instance is feasible)
    <out_dir>/road.geojson      jittered grid with diagonals, some edges removed
    <out_dir>/rail.geojson      named lines through a subset of the grid points
    <out_dir>/pipelines.geojson a few oil pipelines
    <out_dir>/places.csv        mines, plants, stations, pipeline terminals
    <out_dir>/flows.csv         coal / ore / coke / oil flows, hauls spread around 400 km
    <out_dir>/commodities.csv
    <out_dir>/rail_lines.csv, rail_line_stations.csv   the named lines and their stations
    <out_dir>/meta.json         what was generated (counts before the network builder)

Every line feature is one grid step (two points), so lines that meet share their end
points exactly, which is how the network reader joins them; the builder then contracts the
degree-2 chains of one line back into long edges. The rail station table lists a line's
ends, terminals and junctions only (the builder splits rail at every station). Rail and pipelines pass through grid
points, so terminals placed there link to road and rail at distance zero.

The same ``(size, seed)`` gives byte-identical files (no timestamps, fixed float format).

Run ``python -m benchmarks.generate SIZE [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

#: Where the instances go by default (git-ignored).
INSTANCES = Path(__file__).resolve().parent / "instances"

LON0, LON1, LAT0, LAT1 = 112.0, 122.0, 34.0, 38.0
COMMODITIES: tuple[str, ...] = ("coal", "ore", "coke", "oil")


@dataclass(frozen=True)
class Size:
    """Knobs of one named size."""

    nx: int  # grid columns (west-east)
    ny: int  # grid rows (south-north)
    origins: int
    commodities_per_origin: int
    destinations: int
    rail_ew: int  # rail lines running west-east
    rail_ns: int  # rail lines running south-north
    rail_spurs: int  # short branch lines ending at a siding
    pipelines: int
    stations: int  # road;rail terminals on the lines
    pipe_terminals: int
    diag_p: float = 0.9
    remove_p: float = 0.04


SIZES: dict[str, Size] = {
    "tiny": Size(13, 6, 10, 1, 3, 2, 1, 0, 1, 6, 2),
    "small": Size(37, 19, 100, 1, 10, 3, 2, 4, 2, 20, 4),
    "mid": Size(45, 22, 200, 4, 20, 5, 4, 10, 3, 40, 6),
    "large": Size(77, 39, 500, 4, 30, 8, 6, 30, 4, 80, 10),
    "province": Size(196, 98, 2000, 4, 100, 40, 60, 600, 12, 800, 40),
}


def _fmt(x: float) -> str:
    return f"{x:.6f}"


class _Grid:
    """The jittered lattice: node (i, j) is column i, row j, id ``j * nx + i``."""

    def __init__(self, size: Size, rng: np.random.Generator) -> None:
        self.nx, self.ny = size.nx, size.ny
        dx = (LON1 - LON0) / (size.nx - 1)
        dy = (LAT1 - LAT0) / (size.ny - 1)
        ii, jj = np.meshgrid(np.arange(size.nx), np.arange(size.ny))
        jit = rng.uniform(-0.25, 0.25, size=(2, size.ny, size.nx))
        lon = LON0 + (ii + jit[0]) * dx
        lat = LAT0 + (jj + jit[1]) * dy
        self.lon = np.clip(lon, LON0, LON1).ravel()
        self.lat = np.clip(lat, LAT0, LAT1).ravel()

    def id(self, i: int, j: int) -> int:
        return j * self.nx + i

    def ij(self, n: int) -> tuple[int, int]:
        return n % self.nx, n // self.nx

    def xy(self, n: int) -> tuple[float, float]:
        return float(self.lon[n]), float(self.lat[n])


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine km (the generator's own estimate; the builder measures geodesics)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _road_edges(grid: _Grid, size: Size, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Lattice edges, one diagonal in most cells, some non-tree edges removed (connected)."""
    nx_, ny_ = grid.nx, grid.ny
    edges: list[tuple[int, int]] = []
    for j in range(ny_):
        for i in range(nx_):
            n = grid.id(i, j)
            if i + 1 < nx_:
                edges.append((n, grid.id(i + 1, j)))
            if j + 1 < ny_:
                edges.append((n, grid.id(i, j + 1)))
    diag_draw = rng.random((ny_ - 1, nx_ - 1))
    orient = rng.random((ny_ - 1, nx_ - 1)) < 0.5
    for j in range(ny_ - 1):
        for i in range(nx_ - 1):
            if diag_draw[j, i] < size.diag_p:
                if orient[j, i]:
                    edges.append((grid.id(i, j), grid.id(i + 1, j + 1)))
                else:
                    edges.append((grid.id(i + 1, j), grid.id(i, j + 1)))
    # random spanning tree (Kruskal on random weights): its edges are never removed
    order = rng.permutation(len(edges))
    parent = list(range(nx_ * ny_))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    tree = np.zeros(len(edges), dtype=bool)
    for k in order:
        u, v = edges[k]
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
            tree[k] = True
    drop = (rng.random(len(edges)) < size.remove_p) & ~tree
    return [e for e, d in zip(edges, drop, strict=True) if not d]


def _walk(
    grid: _Grid, rng: np.random.Generator, start: tuple[int, int], axis: int, *, drift: float = 0.3
) -> list[int]:
    """A meandering lattice path from one side of the grid to the other along ``axis``."""
    i, j = start
    path = [grid.id(i, j)]
    seen = {path[0]}
    last_side = 0
    while True:
        if axis == 0 and i == grid.nx - 1 or axis == 1 and j == grid.ny - 1:
            return path
        if rng.random() < drift:
            side = last_side or (1 if rng.random() < 0.5 else -1)
            if rng.random() < 0.3:
                side = -side
            ni, nj = (i, j + side) if axis == 0 else (i + side, j)
            if not (0 <= ni < grid.nx and 0 <= nj < grid.ny) or grid.id(ni, nj) in seen:
                ni, nj = (i + 1, j) if axis == 0 else (i, j + 1)
                side = 0
        else:
            ni, nj = (i + 1, j) if axis == 0 else (i, j + 1)
            side = 0
        last_side = side
        i, j = ni, nj
        n = grid.id(i, j)
        path.append(n)
        seen.add(n)


def _spur(grid: _Grid, rng: np.random.Generator, start: int, steps: int,
          used: set[int]) -> list[int]:
    i, j = grid.ij(start)
    path = [start]
    for _ in range(steps):
        opts = [(i + di, j + dj) for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= i + di < grid.nx and 0 <= j + dj < grid.ny
                and grid.id(i + di, j + dj) not in used and grid.id(i + di, j + dj) not in path]
        if not opts:
            break
        i, j = opts[int(rng.integers(len(opts)))]
        path.append(grid.id(i, j))
    return path


@dataclass
class _Line:
    line_id: str
    name_zh: str
    name_en: str
    kind: str
    capacity_t: float
    freight: bool
    path: list[int]


def _rail_lines(grid: _Grid, size: Size, rng: np.random.Generator) -> list[_Line]:
    lines: list[_Line] = []
    caps_main = np.array([15e6, 25e6, 40e6, 60e6, 100e6])
    k = 0
    for axis, count in ((0, size.rail_ew), (1, size.rail_ns)):
        for _ in range(count):
            k += 1
            if axis == 0:
                start = (0, int(rng.integers(grid.ny)))
            else:
                start = (int(rng.integers(grid.nx)), 0)
            path = _walk(grid, rng, start, axis)
            heavy = rng.random() < 0.2
            cap = 200e6 if heavy else float(rng.choice(caps_main))
            freight = not (k == 3 and size.rail_ew + size.rail_ns >= 6)  # one passenger line
            lines.append(_Line(f"R{k:03d}", f"合成线{k}", f"Synthetic line {k}",
                               "heavy_haul" if heavy else ("high_speed" if not freight
                                                           else "conventional"),
                               cap, freight, path))
    on_rail = sorted({n for ln in lines if ln.freight for n in ln.path})
    used = {n for ln in lines for n in ln.path}
    for s in range(size.rail_spurs):
        start = on_rail[int(rng.integers(len(on_rail)))]
        path = _spur(grid, rng, start, int(rng.integers(1, 4)), used)
        if len(path) < 2:
            continue
        used.update(path)
        lines.append(_Line(f"B{s + 1:03d}", f"专用线{s + 1}", f"Siding branch {s + 1}",
                           "port_branch", float(rng.choice([3e6, 5e6, 8e6])), True, path))
    return lines


def _pipelines(grid: _Grid, size: Size, rng: np.random.Generator) -> list[_Line]:
    out = []
    for k in range(size.pipelines):
        axis = k % 2
        if axis == 0:
            start = (0, int(rng.integers(grid.ny)))
        else:
            start = (int(rng.integers(grid.nx)), 0)
        path = _walk(grid, rng, start, axis, drift=0.2)
        out.append(_Line(f"P{k + 1:02d}", f"输油管道{k + 1}", f"Crude pipeline {k + 1}",
                         "pipeline", float(rng.choice([5e6, 10e6, 20e6])), True, path))
    return out


def _segments(lines: list[_Line]) -> list[tuple[int, int, _Line]]:
    """One feature per grid step; a step shared by two lines is kept once (first line)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for ln in lines:
        for a, b in zip(ln.path[:-1], ln.path[1:], strict=True):
            key = (min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            out.append((a, b, ln))
    return out


def _feature_collection(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "name": "lines",
                       "crs": {"type": "name",
                               "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                       "features": features}, ensure_ascii=False, separators=(",", ":"))


def _line_feature(grid: _Grid, a: int, b: int, props: dict) -> dict:
    (x1, y1), (x2, y2) = grid.xy(a), grid.xy(b)
    coords = [[round(x1, 6), round(y1, 6)], [round(x2, 6), round(y2, 6)]]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": coords}}


def _csv(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def _cap(x: float) -> str:
    return "" if math.isinf(x) else f"{x:.0f}"


def generate(size: str | Size, out_dir: str | Path | None = None, *, seed: int = 0,  # noqa: C901,PLR0912,PLR0915 -- the instance generated in one pass of one seeded RNG
             enforcement: str = "soft", line_tables: bool = True) -> Path:
    """Write one synthetic scenario and return the path of its TOML.

    Parameters
    ----------
    size : str or Size
        A name in :data:`SIZES` or explicit knobs.
    out_dir : path, optional
        Folder to write; default ``benchmarks/instances/<size>``.
    seed : int
        Random seed; the same ``(size, seed)`` writes byte-identical files.
    enforcement : {"soft", "hard", "off"}
        The policy written into the TOML (soft keeps every instance feasible).
    line_tables : bool
        Also write and reference ``rail_lines.csv`` and ``rail_line_stations.csv``.
    """
    name = size if isinstance(size, str) else "custom"
    knobs = SIZES[size] if isinstance(size, str) else size
    out = Path(out_dir) if out_dir is not None else INSTANCES / name
    out.mkdir(parents=True, exist_ok=True)
    salt = sum(ord(c) * 31**k for k, c in enumerate(name)) % (2**31)
    rng = np.random.default_rng([seed, salt])
    grid = _Grid(knobs, rng)

    road = _road_edges(grid, knobs, rng)
    rail = _rail_lines(grid, knobs, rng)
    pipes = _pipelines(grid, knobs, rng)

    # --- line layers --------------------------------------------------------------------
    road_feats = []
    for a, b in road:
        (ia, ja), (ib, jb) = grid.ij(a), grid.ij(b)
        nm = f"G{ja + 100}" if ja == jb and ja % 5 == 0 else (
            f"S{ia + 200}" if ia == ib and ia % 7 == 0 else "")
        road_feats.append(_line_feature(grid, a, b, {"name": nm}))
    rail_segs = _segments(rail)
    rail_feats = [
        _line_feature(grid, a, b, {"name": ln.name_zh, "line_id": ln.line_id,
                                   "capacity_t": ln.capacity_t, "freight": ln.freight})
        for a, b, ln in rail_segs
    ]
    pipe_segs = _segments(pipes)
    pipe_feats = [
        _line_feature(grid, a, b, {"name": ln.name_zh, "capacity_t": ln.capacity_t,
                                   "commodities": "oil"})
        for a, b, ln in pipe_segs
    ]

    # --- terminals ----------------------------------------------------------------------
    freight_rail_nodes = sorted({n for a, b, ln in rail_segs if ln.freight for n in (a, b)})
    pipe_nodes = sorted({n for a, b, _ in pipe_segs for n in (a, b)})
    rail_set, pipe_set = set(freight_rail_nodes), set(pipe_nodes)
    station_nodes = sorted(rng.choice(freight_rail_nodes, size=min(knobs.stations,
                                                                   len(freight_rail_nodes)),
                                      replace=False).tolist())
    pt_nodes = sorted(rng.choice(pipe_nodes, size=min(knobs.pipe_terminals, len(pipe_nodes)),
                                 replace=False).tolist()) if pipe_nodes else []
    places: list[list[object]] = [["id", "name", "lon", "lat", "kind", "modes",
                                   "handling_cny_per_t", "capacity_t", "source"]]
    src = f"synthetic (benchmarks.generate, seed {seed})"
    terminal_nodes: dict[int, str] = {}
    for k, n in enumerate(station_nodes):
        modes = "road;rail;pipeline" if n in pipe_set else "road;rail"
        cap = float(rng.choice([2e6, 4e6, 8e6])) if rng.random() < 0.3 else math.inf
        pid = f"S{k + 1:04d}"
        terminal_nodes[n] = pid
        x, y = grid.xy(n)
        places.append([pid, f"站{k + 1}", _fmt(x), _fmt(y), "station", modes,
                       f"{rng.uniform(5, 15):.2f}", _cap(cap), src])
    for k, n in enumerate(pt_nodes):
        if n in terminal_nodes:
            continue
        modes = "road;rail;pipeline" if n in rail_set else "road;pipeline"
        pid = f"T{k + 1:03d}"
        terminal_nodes[n] = pid
        x, y = grid.xy(n)
        places.append([pid, f"管道站{k + 1}", _fmt(x), _fmt(y), "pipeline_terminal", modes,
                       f"{rng.uniform(5, 15):.2f}", "", src])

    road_adj: dict[int, list[int]] = {}
    for a, b in road:
        road_adj.setdefault(a, []).append(b)
        road_adj.setdefault(b, []).append(a)

    def near(n: int, km_max: float) -> tuple[float, float]:
        """A point on a road edge at ``n``, within ``km_max`` of it, 0.1-0.5 km off the line."""
        m = road_adj[n][int(rng.integers(len(road_adj[n])))]
        (x1, y1), (x2, y2) = grid.xy(n), grid.xy(m)
        length = _km(x1, y1, x2, y2)
        t = min(0.9, rng.uniform(0.1, 1.0) * km_max / max(length, 1e-9))
        px, py = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
        off = rng.uniform(0.1, 0.5) / 111.0
        nrm = math.hypot(x2 - x1, y2 - y1) or 1.0
        return px - (y2 - y1) / nrm * off, py + (x2 - x1) / nrm * off

    def place_point(kind: str) -> tuple[float, float, str, int]:
        """(lon, lat, modes, grid node) of a shipper: own siding, near a terminal, or anywhere."""
        r = rng.random()
        term = sorted(terminal_nodes)
        if r < 0.2 and freight_rail_nodes:
            n = int(freight_rail_nodes[int(rng.integers(len(freight_rail_nodes)))])
            x, y = grid.xy(n)
            return x, y, "road;rail", n
        if r < 0.7 and term:
            n = int(term[int(rng.integers(len(term)))])
            x, y = near(n, 45.0)
            return x, y, "road", n
        n = int(rng.integers(grid.nx * grid.ny))
        x, y = near(n, 20.0)
        return x, y, "road", n

    dests = []
    for k in range(knobs.destinations):
        x, y, modes, _ = place_point("plant")
        pid = f"D{k + 1:03d}"
        dests.append((pid, x, y))
        places.append([pid, f"厂{k + 1}", _fmt(x), _fmt(y), "plant", modes,
                       f"{rng.uniform(5, 15):.2f}" if modes != "road" else "", "", src])
    origins = []
    for k in range(knobs.origins):
        x, y, modes, _ = place_point("mine")
        pid = f"O{k + 1:04d}"
        origins.append((pid, x, y))
        places.append([pid, f"矿{k + 1}", _fmt(x), _fmt(y), "mine", modes,
                       f"{rng.uniform(5, 15):.2f}" if modes != "road" else "", "", src])

    # --- flows: destinations drawn so that road hauls spread around 400 km ----------------
    flows: list[list[object]] = [["id", "commodity", "origin", "destination",
                                  "tonnes_per_year", "baseline_mode", "shipper", "source",
                                  "note"]]
    dxy = np.array([(x, y) for _, x, y in dests])
    fid = 0
    hauls = []
    for pid, x, y in origins:
        if knobs.commodities_per_origin >= len(COMMODITIES):
            comms = list(COMMODITIES)
        else:
            comms = [COMMODITIES[int(rng.choice(len(COMMODITIES), p=[0.45, 0.25, 0.2, 0.1]))]]
        for c in comms:
            gc = np.array([_km(x, y, dx, dy) for dx, dy in dxy])
            w = np.exp(-(((gc * 1.25) - 400.0) / 180.0) ** 2) + 1e-6
            d = int(rng.choice(len(dests), p=w / w.sum()))
            fid += 1
            tonnes = float(np.round(rng.lognormal(math.log(3e5), 0.8), -3)) + 1000.0
            hauls.append(gc[d] * 1.25)
            flows.append([f"F{fid:05d}", c, pid, dests[d][0], f"{tonnes:.0f}", "road",
                          f"shipper {pid}", src, ""])

    commodities = [["id", "name_zh", "name_en", "rail_tariff_class", "pipeline_ok", "source"],
                   ["coal", "煤炭", "coal", 4, "false", src],
                   ["ore", "矿石", "ore", 3, "false", src],
                   ["coke", "焦炭", "coke", 5, "false", src],
                   ["oil", "原油", "crude oil", "", "true", src]]

    rail_lines_rows: list[list[object]] = [["line_id", "name_zh", "name_en", "capacity_t",
                                            "freight", "kind", "source", "note"]]
    stations_rows: list[list[object]] = [["line_id", "seq", "station", "lon", "lat", "source"]]
    # stations: the line's ends, its terminals and its junctions with other track -- not
    # every grid point (the builder splits rail at every station, so a station per grid
    # step kept every line cut into grid-step edges); between two consecutive stations the
    # line has no junction, so matching cannot take a shortcut over other lines
    rail_deg: dict[int, int] = {}
    for a, b, _ in rail_segs:
        rail_deg[a] = rail_deg.get(a, 0) + 1
        rail_deg[b] = rail_deg.get(b, 0) + 1
    for ln in rail:
        rail_lines_rows.append([ln.line_id, ln.name_zh, ln.name_en, f"{ln.capacity_t:.0f}",
                                "true" if ln.freight else "false", ln.kind, src, ""])
        seq = 0
        for s, n in enumerate(ln.path, start=1):
            if 1 < s < len(ln.path) and n not in terminal_nodes and rail_deg.get(n, 0) == 2:
                continue
            seq += 1
            x, y = grid.xy(n)
            stations_rows.append([ln.line_id, seq, terminal_nodes.get(n, f"{ln.line_id}-{s}"),
                                  _fmt(x), _fmt(y), src])

    files = {
        "road.geojson": _feature_collection(road_feats),
        "rail.geojson": _feature_collection(rail_feats),
        "pipelines.geojson": _feature_collection(pipe_feats),
        "places.csv": _csv(places),
        "flows.csv": _csv(flows),
        "commodities.csv": _csv(commodities),
    }
    tables = ""
    if line_tables:
        files["rail_lines.csv"] = _csv(rail_lines_rows)
        files["rail_line_stations.csv"] = _csv(stations_rows)
        tables = ('rail_lines = "rail_lines.csv"\n'
                  'rail_line_stations = "rail_line_stations.csv"\n')
    files["scenario.toml"] = f'''# Synthetic benchmark instance (benchmarks/generate.py): not real data.
name = "bench-{name}"
title = "Synthetic benchmark {name} (seed {seed})"
description = "Jittered grid road, meandering rail lines and pipelines in 112-122E, 34-38N."

[network]
road = "road.geojson"
rail = "rail.geojson"
pipeline = "pipelines.geojson"
{tables}places = "places.csv"
snap_m = 30.0
link_tolerance_km = {{ road = 10.0, rail = 5.0, pipeline = 5.0 }}

[flows]
file = "flows.csv"

[commodities]
file = "commodities.csv"

[policy]
commodities = ["coal", "ore", "coke", "oil"]
threshold_km = 400.0
distance = "road"
max_access_km = 50.0
enforcement = "{enforcement}"
penalty_cny_per_t = 50.0

[solver]
name = "highs"
'''
    meta = {
        "size": name, "seed": seed, "knobs": asdict(knobs),
        "grid_nodes": grid.nx * grid.ny, "road_features": len(road_feats),
        "rail_features": len(rail_feats), "pipeline_features": len(pipe_feats),
        "rail_lines": len(rail), "pipelines": len(pipes), "places": len(places) - 1,
        "terminals": len(terminal_nodes), "flows": len(flows) - 1,
        "flow_tonnes": float(sum(float(r[4]) for r in flows[1:])),
        "haul_km_estimate": {"min": round(min(hauls), 1),
                             "median": round(float(np.median(hauls)), 1),
                             "max": round(max(hauls), 1)},
    }
    files["meta.json"] = json.dumps(meta, ensure_ascii=False, indent=1) + "\n"
    for fname, text in files.items():
        (out / fname).write_text(text, encoding="utf-8")
    return out / "scenario.toml"


def ensure(size: str, *, seed: int = 0, root: Path = INSTANCES) -> Path:
    """The TOML of ``size`` under ``root``, generated when missing or from another seed."""
    toml = root / size / "scenario.toml"
    meta = root / size / "meta.json"
    if toml.exists() and meta.exists():
        if json.loads(meta.read_text(encoding="utf-8")).get("seed") == seed:
            return toml
    return generate(size, root / size, seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("size", choices=sorted(SIZES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--enforcement", choices=("soft", "hard", "off"), default="soft")
    args = ap.parse_args(argv)
    path = generate(args.size, args.out, seed=args.seed, enforcement=args.enforcement)
    meta = json.loads((path.parent / "meta.json").read_text(encoding="utf-8"))
    print(path)
    print(json.dumps({k: v for k, v in meta.items() if k != "knobs"}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
