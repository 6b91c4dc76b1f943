"""The on-disk network cache: a format that runs no code, checked before it is trusted.

A built :class:`~networks._types.Network` is stored as one file ``<key>.netcache``:

- a first line ``FREIGHT-NETCACHE 1``;
- a second line of JSON: the format, the full cache key, the payload's size and SHA-256;
- the payload: a NumPy ``.npz`` archive read with ``allow_pickle=False`` -- numeric arrays
  (node ids and coordinates, the adjacency in each node's own order, numeric edge columns,
  the geometries as WKB bytes) and one JSON document (text edge columns, graph attributes,
  places, links) whose tuples, sets, dicts with other keys and non-finite floats are
  tagged objects (``{"$t": [...]}``, ...), decoded by :func:`_decode` into those types.

Nothing in it is executed: no pickle, no code objects, only numbers, bytes and JSON. The
checksum is verified before the archive is opened, and the key in the header must be the
key asked for, so a damaged entry (a flipped bit, a truncated write) or an entry that is
not the one expected is never used: :func:`read_entry` raises :class:`CacheDamaged` and
the caller rebuilds it. (The checksum guards against damage, not against someone who may
write into the cache folder and plants a well-formed network: the folder is made private
to its user when this module creates it.)

The graph comes back as it was built, down to the order of nodes, of each node's
neighbours and of each edge's attributes, so a run from the cache and a run that built the
network give the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from networks._types import Link, Network, Place

MAGIC = b"FREIGHT-NETCACHE 1\n"
FORMAT = "network-npz-1"
SUFFIX = ".netcache"
#: Entries kept in a cache folder (the most recently used); older ones are deleted.
MAX_ENTRIES = 8
_ENTRY = re.compile(r"[0-9a-f]{32}\.netcache")
_OLD_ENTRY = re.compile(r"[0-9a-f]{32}\.pickle")  # the pickled format before this one
_STALE_TMP_S = 3600.0  # a temporary file this old is from a writer that died
_HEADER_MAX = 4096


class CacheDamaged(Exception):
    """A cache entry that cannot be trusted: unreadable, damaged, or not the one asked for."""


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{key[:32]}{SUFFIX}"


# --- what makes up a layer -----------------------------------------------------------------

#: Formats whose layer is several files sharing the main file's stem (Shapefile: .shp with
#: .shx, .dbf, .prj, .cpg, .qix, ...; MapInfo: .tab with .dat, .map, .id).
_STEM_FORMATS = (".shp", ".tab", ".mif")
#: SQLite-based formats keep recent writes in a ``-wal`` file beside the database.
_WAL_FORMATS = (".gpkg", ".sqlite", ".db")


def layer_files(path: str | os.PathLike[str]) -> list[Path]:
    """Every file the layer or table at ``path`` consists of, in a fixed order: the file;
    for a Shapefile (or MapInfo) every file beside it sharing its stem; for a GeoPackage
    its write-ahead log; for a folder (a FileGDB ``.gdb``) every file in it."""
    p = Path(path)
    if p.is_dir():
        return sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: f.as_posix())
    low = p.name.lower()
    out = [p]
    if low.endswith(_STEM_FORMATS) and p.parent.is_dir():
        stem = p.name[: p.name.rindex(".")].lower() + "."
        out += sorted(f for f in p.parent.iterdir()
                      if f.name.lower().startswith(stem) and f != p and f.is_file())  # fmt: skip
    elif low.endswith(_WAL_FORMATS):
        wal = p.with_name(p.name + "-wal")
        if wal.is_file():
            out.append(wal)
    return out


# --- tagged JSON ---------------------------------------------------------------------------


def _encode(o: Any) -> Any:
    """JSON-ready data, tagging what JSON lacks; raises TypeError for anything else."""
    if o is None or isinstance(o, bool | str):
        return o
    if isinstance(o, int | np.integer):
        return int(o)
    if isinstance(o, float | np.floating):
        x = float(o)
        return x if math.isfinite(x) else {"$f": repr(x)}
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, tuple):
        return {"$t": [_encode(v) for v in o]}
    if isinstance(o, list):
        return [_encode(v) for v in o]
    if isinstance(o, frozenset | set):
        items = sorted((_encode(v) for v in o), key=lambda v: json.dumps(v, sort_keys=True))
        return {"$fs" if isinstance(o, frozenset) else "$s": items}
    if isinstance(o, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in o):
            return {k: _encode(v) for k, v in o.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in o.items()]}
    raise TypeError(f"not cacheable: {type(o).__name__}")


def _decode(o: Any) -> Any:
    if isinstance(o, list):
        return [_decode(v) for v in o]
    if not isinstance(o, dict):
        return o
    if len(o) == 1:
        (tag, val), = o.items()
        if tag == "$t":
            return tuple(_decode(v) for v in val)
        if tag == "$fs":
            return frozenset(_decode(v) for v in val)
        if tag == "$s":
            return {_decode(v) for v in val}
        if tag == "$f":
            return float(val)
        if tag == "$d":
            return {_decode(k): _decode(v) for k, v in val}
    return {k: _decode(v) for k, v in o.items()}


# --- graphs to arrays and back -------------------------------------------------------------


def _column(values: list[Any]) -> tuple[str, Any]:
    """One edge attribute as ``(kind, data)``: a float, bool or int array when every value
    is of that type; JSON of plain strings, of tuples of strings, or of frozensets of
    strings or None (read back without tags: most of a network's text); else tagged JSON."""
    if all(type(v) is float for v in values):
        return "float", np.asarray(values, dtype=np.float64)
    if all(type(v) is bool for v in values):
        return "bool", np.asarray(values, dtype=bool)
    if all(type(v) is int for v in values):
        return "int", np.asarray(values, dtype=np.int64)
    if all(type(v) is str for v in values):
        return "str", values
    if all(type(v) is tuple and all(type(x) is str for x in v) for v in values):
        return "str_tuple", [list(v) for v in values]
    if all(v is None or (type(v) is frozenset and all(type(x) is str for x in v))
           for v in values):  # fmt: skip
        return "str_frozenset", [None if v is None else sorted(v) for v in values]
    return "json", [_encode(v) for v in values]


def _graph_arrays(mode: str, G: nx.Graph, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Put ``G``'s arrays in ``arrays`` (names prefixed by ``mode``); return its JSON part."""
    ids = list(G._node)
    pos = {n: i for i, n in enumerate(ids)}
    plain = all(tuple(d) == ("x", "y") and type(d["x"]) is float and type(d["y"]) is float
                for d in G._node.values())  # fmt: skip
    arrays[f"{mode}.nodes"] = np.asarray(ids, dtype=np.int64)
    if plain:
        arrays[f"{mode}.xy"] = np.asarray([(d["x"], d["y"]) for d in G._node.values()],
                                          dtype=np.float64).reshape(-1, 2)  # fmt: skip
    edges = [(u, v, d) for u, v, d in G.edges(data=True)]
    eid = {}
    for k, (u, v, _) in enumerate(edges):
        eid[(u, v)] = k
        eid[(v, u)] = k
    ptr, nbr, slot_eid = [0], [], []
    for n, nbrs in G._adj.items():
        for m in nbrs:
            nbr.append(pos[m])
            slot_eid.append(eid[(n, m)])
        ptr.append(len(nbr))
    arrays[f"{mode}.ptr"] = np.asarray(ptr, dtype=np.int64)
    arrays[f"{mode}.nbr"] = np.asarray(nbr, dtype=np.int64)
    arrays[f"{mode}.eid"] = np.asarray(slot_eid, dtype=np.int64)
    # each edge's attribute names, in its own order (shared orders stored once)
    orders: dict[tuple[str, ...], int] = {}
    order_of = [orders.setdefault(tuple(d), len(orders)) for _, _, d in edges]
    arrays[f"{mode}.order"] = np.asarray(order_of, dtype=np.int64)
    columns: dict[str, str] = {}
    for key in dict.fromkeys(k for order in orders for k in order):
        have = [key in d for _, _, d in edges]
        vals = [d[key] for _, _, d in edges if key in d]
        if key == "geometry":
            wkb = shapely.to_wkb(np.asarray(vals, dtype=object))
            lens = [(-1 if b is None else len(b)) for b in wkb]
            arrays[f"{mode}.e.geometry.len"] = np.asarray(lens, dtype=np.int64)
            arrays[f"{mode}.e.geometry"] = np.frombuffer(
                b"".join(b for b in wkb if b is not None), dtype=np.uint8)
            columns[key] = "wkb"
        else:
            kind, data = _column(vals)
            columns[key] = kind
            if isinstance(data, list):
                arrays[f"{mode}.e.{key}"] = np.frombuffer(
                    json.dumps(data, ensure_ascii=False, allow_nan=False).encode(),
                    dtype=np.uint8)
            else:
                arrays[f"{mode}.e.{key}"] = data
        if not all(have):
            arrays[f"{mode}.e.{key}.has"] = np.asarray(have, dtype=bool)
    return {
        "graph": _encode(dict(G.graph)),
        "nodes": None if plain else [_encode(dict(d)) for d in G._node.values()],
        "orders": [list(o) for o in orders],
        "columns": columns,
        "edges": len(edges),
    }


def _graph_from(mode: str, meta: dict[str, Any], z: Any) -> nx.Graph:
    ids = z[f"{mode}.nodes"].tolist()
    if meta["nodes"] is None:
        node_dicts = [{"x": x, "y": y} for x, y in z[f"{mode}.xy"].tolist()]
    else:
        node_dicts = [_decode(d) for d in meta["nodes"]]
    if len(node_dicts) != len(ids):
        raise CacheDamaged(f"{mode}: nodes and their attributes differ in number")
    n_edges = int(meta["edges"])
    cols: dict[str, list[Any]] = {}
    for key, kind in meta["columns"].items():
        has_name = f"{mode}.e.{key}.has"
        has = z[has_name].tolist() if has_name in z.files else None
        if kind == "wkb":
            lens = z[f"{mode}.e.geometry.len"].tolist()
            blob = z[f"{mode}.e.geometry"].tobytes()
            parts, at = [], 0
            for n in lens:
                parts.append(None if n < 0 else blob[at : at + n])
                at += max(n, 0)
            vals = shapely.from_wkb(np.asarray(parts, dtype=object)).tolist()
        elif kind == "str":
            vals = json.loads(z[f"{mode}.e.{key}"].tobytes())
        elif kind == "str_tuple":
            vals = [tuple(v) for v in json.loads(z[f"{mode}.e.{key}"].tobytes())]
        elif kind == "str_frozenset":
            vals = [None if v is None else frozenset(v)
                    for v in json.loads(z[f"{mode}.e.{key}"].tobytes())]  # fmt: skip
        elif kind == "json":
            vals = [_decode(v) for v in json.loads(z[f"{mode}.e.{key}"].tobytes())]
        elif kind in ("float", "bool", "int"):
            vals = z[f"{mode}.e.{key}"].tolist()
        else:
            raise CacheDamaged(f"{mode}: unknown column kind {kind!r}")
        if has is None:
            full = vals
        else:
            it = iter(vals)
            full = [next(it) if h else None for h in has]
        if len(full) != n_edges:
            raise CacheDamaged(f"{mode}: column {key} has {len(full)} values, not {n_edges}")
        cols[key] = full
    orders = [tuple(o) for o in meta["orders"]]
    order_of = z[f"{mode}.order"].tolist()
    if len(orders) == 1:  # every edge has the same attributes in the same order
        keys = orders[0]
        rows = zip(*(cols[k] for k in keys), strict=True)  # columns checked equally long
        datas = [dict(zip(keys, row, strict=True)) for row in rows]
        if not keys:
            datas = [{} for _ in range(n_edges)]
    else:
        datas = [{k: cols[k][e] for k in orders[o]} for e, o in enumerate(order_of)]
    ptr, nbr, eid = (z[f"{mode}.{a}"].tolist() for a in ("ptr", "nbr", "eid"))
    adj: dict[int, dict[int, dict[str, Any]]] = {}
    for p, n in enumerate(ids):
        adj[n] = {ids[nbr[s]]: datas[eid[s]] for s in range(ptr[p], ptr[p + 1])}
    G = nx.Graph()
    G.graph.update(_decode(meta["graph"]))
    G._node = dict(zip(ids, node_dicts, strict=True))
    G._adj = adj
    return G


def _place_dict(p: Place) -> dict[str, Any]:
    return {f.name: _encode(getattr(p, f.name)) for f in fields(Place)}


# --- entries -------------------------------------------------------------------------------


def write_entry(path: Path, key: str, net: Network) -> None:
    """Write ``net`` as the cache entry ``path`` for ``key`` (atomically: a temporary file
    renamed over it). Raises TypeError when the network holds something the format cannot
    hold (nothing is written then)."""
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "graphs": {mode: _graph_arrays(mode, G, arrays) for mode, G in net.graphs.items()},
        "places": [_place_dict(p) for p in net.places.values()],
        "links": {pid: {m: [lk.node, lk.offset_km] for m, lk in modes.items()}
                  for pid, modes in net.links.items()},  # fmt: skip
        "sources": dict(net.sources),
    }
    arrays["meta"] = np.frombuffer(
        json.dumps(meta, ensure_ascii=False, allow_nan=False).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    payload = buf.getvalue()
    header = json.dumps({"format": FORMAT, "key": key, "size": len(payload),
                         "sha256": hashlib.sha256(payload).hexdigest()},
                        separators=(",", ":")).encode()  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + header + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_entry(path: Path, key: str) -> Network:
    """The network stored at ``path`` for ``key``.

    Raises
    ------
    FileNotFoundError
        No entry.
    CacheDamaged
        The entry is damaged, truncated, of another format or for another key.
    """
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise CacheDamaged("not a network cache file")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _HEADER_MAX)
    if end < 0:
        raise CacheDamaged("no header")
    try:
        header = json.loads(data[len(MAGIC) : end])
    except ValueError:
        raise CacheDamaged("unreadable header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CacheDamaged("another format")
    if header.get("key") != key:
        raise CacheDamaged("the entry of another network")
    payload = data[end + 1 :]
    if len(payload) != header.get("size"):
        raise CacheDamaged("truncated")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CacheDamaged("checksum mismatch")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes())
            graphs = {mode: _graph_from(mode, m, z) for mode, m in meta["graphs"].items()}
        places = {}
        for d in meta["places"]:
            p = Place(**{k: _decode(v) for k, v in d.items()})
            places[p.id] = p
        links = {pid: {m: Link(int(n), float(o)) for m, (n, o) in modes.items()}
                 for pid, modes in meta["links"].items()}  # fmt: skip
        return Network(graphs=graphs, places=places, links=links,
                       sources=dict(meta["sources"]))  # fmt: skip
    except CacheDamaged:
        raise
    except Exception as exc:  # the checksum held but the content does not fit: not ours
        raise CacheDamaged(f"unreadable content ({type(exc).__name__})") from None


def touch(path: Path) -> None:
    """Mark an entry as just used (eviction keeps the most recently used)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _entries(cache_dir: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(cache_dir) as it:
            yield from it
    except OSError:
        return


def evict(cache_dir: Path, *, keep: int = MAX_ENTRIES) -> list[str]:
    """Delete all but the ``keep`` most recently used entries, every entry of the pickled
    format before this one (never read again), and temporary files of writers that died
    an hour or more ago; only files named as this module names them. Returns their names."""
    entries: list[tuple[float, str]] = []
    gone: list[str] = []
    now = time.time()
    for e in _entries(cache_dir):
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            mtime = e.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if _ENTRY.fullmatch(e.name):
            entries.append((mtime, e.name))
        elif _OLD_ENTRY.fullmatch(e.name) or (
            e.name.startswith("tmp") and e.name.endswith(".tmp") and now - mtime > _STALE_TMP_S
        ):
            gone.append(e.name)
    entries.sort(reverse=True)
    gone += [name for _, name in entries[keep:]]
    for name in gone:
        with contextlib.suppress(OSError):
            os.unlink(cache_dir / name)
    return gone
