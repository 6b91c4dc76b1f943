"""Load the whole network from a :class:`NetworkConfig`, with an on-disk cache.

Stages: read and validate the layers (all problems gathered), build each mode's graph
and contract degree-2 chains, match the named rail lines, read the places and join
them to the graphs. The result is cached under ``cache_dir`` (default
``$FREIGHT_CACHE_DIR`` or ``.cache/networks`` in the current directory) in a format that
runs no code and is checked before use (:mod:`networks.cache`).

Cache key: SHA-256 of :data:`CODE_VERSION`, the source of this package, the config's
values and the BYTES of every file of every input -- a Shapefile's ``.shx``, ``.dbf``,
``.prj`` and ``.cpg`` beside its ``.shp``, every file in a ``.gdb`` folder
(:func:`networks.cache.layer_files`). Hashing content rather than size+mtime costs little
(benchmarks/README.md), and it stays right when a file is rewritten within the same
second, copied with its mtime, or checked out by git (which resets mtimes) -- stale
networks would be the worse failure. A damaged entry is rebuilt with a one-line notice
(logged as a warning); the folder keeps the :data:`networks.cache.MAX_ENTRIES` most
recently used entries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from networks import cache
from networks._errors import InputError, InputErrors
from networks._table import contract
from networks._types import MODES, Network, NetworkConfig
from networks.gc_pause import paused_gc
from networks.graph import build_table
from networks.io import read_line_layer, validate_line_frame
from networks.lines import match_lines, read_rail_lines
from networks.places import link_places, read_places
from networks.sidings import add_lines, check_pieces, stations_of

#: Bump when the way a network is built changes, so old cache entries are not used.
CODE_VERSION = "networks-5"

_log = logging.getLogger(__name__)


def _place_paths(places: str | Sequence[str]) -> list[str]:
    # One path or a sequence of paths.
    if isinstance(places, str | os.PathLike):
        return [str(places)]
    return [str(p) for p in places]


def _inputs(config: NetworkConfig) -> list[str]:
    files = [config.road, config.rail, config.pipeline, config.rail_lines,
             config.rail_line_stations, *_place_paths(config.places),
             *_place_paths(getattr(config, "extra_lines", ()) or ())]
    return [str(f) for f in files if f]


def _source_digest() -> bytes:
    h = hashlib.sha256()
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    return h.digest()


# The package's own source is part of the key, so a fix in how graphs are built is never
# hidden by a network cached before it. Taken when the package is imported (networks'
# __init__ imports every module together), i.e. of the code this process actually runs,
# not of files edited on disk since.
_SOURCE_DIGEST = _source_digest()


def cache_key(config: NetworkConfig) -> str:
    """Hex digest of code version, config values and input file contents."""
    h = hashlib.sha256(CODE_VERSION.encode())
    h.update(_SOURCE_DIGEST)
    values = {k: (list(v) if isinstance(v, list | tuple) else v)
              for k, v in dataclasses.asdict(config).items()}
    h.update(json.dumps(values, sort_keys=True, default=str).encode())
    for f in _inputs(config):
        h.update(f.encode())
        try:
            parts = cache.layer_files(f)
        except OSError:
            parts = [Path(f)]
        for part in parts:
            h.update(b"\0" + str(part).encode() + b"\0")
            try:
                with open(part, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
            except OSError:
                h.update(b"<missing>")
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``$FREIGHT_CACHE_DIR`` or ``.cache/networks`` in the current directory."""
    env = os.environ.get("FREIGHT_CACHE_DIR")
    return Path(env) if env else Path.cwd() / ".cache" / "networks"


def load_network(
    config: NetworkConfig,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> Network:
    """Build (or fetch from the cache) the multimodal network of a scenario.

    Parameters
    ----------
    config : NetworkConfig
        Paths and tolerances; ``places`` may be one path or a list of paths.
    cache_dir : path, optional
        Where cached networks live (see :func:`default_cache_dir`).
    use_cache : bool
        False builds afresh and writes nothing.

    Returns
    -------
    Network
        ``graphs["rail"].graph["line_matches"]`` holds the named-line match report;
        ``graphs["road"].graph["place_name_en"]`` the places' English names.

    Raises
    ------
    InputErrors
        Every problem in the inputs, one line each.
    """
    if not use_cache:
        return build_network(config)
    key = cache_key(config)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache.entry_path(folder, key)
    try:
        with paused_gc():
            net = cache.read_entry(path, key)
        cache.touch(path)
        return net
    except FileNotFoundError:
        pass
    except (OSError, cache.CacheDamaged) as exc:
        _log.warning("network cache entry %s cannot be used (%s): rebuilding it", path, exc)
    net = build_network(config)
    _write_entry(folder, path, key, net)
    return net


def _write_entry(folder: Path, path: Path, key: str, net: Network) -> None:
    try:
        with paused_gc():
            cache.write_entry(path, key, net)
        cache.evict(folder)
    except OSError:
        pass  # an unwritable cache only costs time
    except (TypeError, ValueError) as exc:  # something the format cannot hold: not cached
        _log.info("network not cached: %s", exc)


def read_extra_lines(file: str) -> list[tuple[str, str, Any]]:
    """Read an extra-lines layer and split it by its ``mode`` column.

    Returns
    -------
    list of (file, mode, GeoDataFrame)

    Raises
    ------
    InputErrors
        Missing or unreadable file, missing or unknown ``mode`` values (and, when added,
        every problem :func:`networks.io.validate_line_frame` finds).
    """
    import warnings

    import pyogrio

    from networks.io import check_file, gdal_name, one_layer

    err = check_file(file)
    if err is not None:
        raise InputErrors([err])
    layer, err = one_layer(file, wanted="extra_lines")
    if err is not None:
        raise InputErrors([err])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(gdal_name(file), layer=layer)
    except Exception as exc:
        raise InputErrors([InputError(file, "file", "format", f"cannot read: {exc}")]) from None
    if "mode" not in gdf.columns:
        raise InputErrors([InputError(file, "layer", "mode",
                                      "missing column; each line needs one of "
                                      + ", ".join(MODES))])
    errors = [InputError(file, f"feature {i}", "mode",
                         f"unknown mode {m!r}; expected one of {', '.join(MODES)}")
              for i, m in enumerate(gdf["mode"], start=1) if m not in MODES]
    if errors:
        raise InputErrors(errors)
    if gdf.crs is not None and gdf.crs.is_projected:
        raise InputErrors([InputError(file, "layer", "crs", "projected CRS; give lon/lat")])
    for mode in MODES:  # validate now so every problem is reported before any building
        part = gdf[gdf["mode"] == mode]
        if len(part):
            validate_line_frame(part, file=file, mode=mode)
    return [(file, m, gdf[gdf["mode"] == m]) for m in MODES if (gdf["mode"] == m).any()]


def build_network(config: NetworkConfig) -> Network:
    """Build the network without the cache (see :func:`load_network`)."""
    with paused_gc():
        return _build_network(config)


def _build_network(config: NetworkConfig) -> Network:  # noqa: C901,PLR0912,PLR0915 -- the network's stages in order, each timed
    errors: list[InputError] = []
    layers: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for mode in MODES:
        file = getattr(config, mode)
        if not file:
            continue
        sources[mode] = str(file)
        try:
            layers[mode] = read_line_layer(file, layer=mode, mode=mode)
        except InputErrors as exc:
            errors.extend(exc.errors)
    rail_lines = None
    if config.rail_lines or config.rail_line_stations:
        if not (config.rail_lines and config.rail_line_stations):
            errors.append(InputError("network", "config", "rail_line_stations",
                                     "rail_lines and rail_line_stations go together"))
        else:
            try:
                rail_lines = read_rail_lines(config.rail_lines, config.rail_line_stations)
            except InputErrors as exc:
                errors.extend(exc.errors)
    extra: list[tuple[str, str, Any]] = []
    for file in _place_paths(getattr(config, "extra_lines", ()) or ()):
        try:
            extra.extend(read_extra_lines(file))
        except InputErrors as exc:
            errors.extend(exc.errors)
    try:
        table = read_places(_place_paths(config.places))
    except InputErrors as exc:
        errors.extend(exc.errors)
        table = None
    if errors:
        raise InputErrors(errors)
    assert table is not None
    graphs: dict[str, nx.Graph] = {}
    for mode in MODES:
        if mode in layers:
            edges = build_table(layers[mode], mode=mode, snap_m=config.snap_m,
                                source=sources[mode])
            graphs[mode] = contract(edges)
        else:
            graphs[mode] = nx.Graph(mode=mode, crs="EPSG:4326", source="")
    if rail_lines:
        match_lines(graphs["rail"], rail_lines,
                    tolerance_km=float(config.link_tolerance_km.get("rail", 5.0)))
    pieces: dict[int, dict[str, Any]] = {}
    next_piece = 0
    for file, mode, gdf in extra:
        next_piece += len(gdf)
        try:
            added = add_lines(graphs[mode], gdf,
                              tolerance_km=float(config.link_tolerance_km.get(mode, 5.0)),
                              snap_m=config.snap_m, file=file,
                              stations=stations_of(rail_lines, table.places.values(), mode),
                              piece_base=next_piece - len(gdf))
        except InputErrors as exc:
            errors.extend(exc.errors)
            continue
        graphs[mode].graph["source"] += f";{file}"
        pieces.update(added.pieces)
        for gate, where in added.gates:
            if gate.id in table.places:
                f0, w0 = table.origins[gate.id]
                errors.append(InputError(file, where, "gate",
                                         f"id {gate.id!r} is already a place ({f0} {w0}); "
                                         "name another gate, or remove that row"))
                continue
            table.places[gate.id] = gate
            table.origins[gate.id] = (file, where)
            if gate.name_en:
                table.names_en[gate.id] = gate.name_en
    if errors:
        raise InputErrors(errors)
    links = link_places(graphs, table, tolerance_km=config.link_tolerance_km)
    errors.extend(check_pieces(graphs, pieces, links))
    if errors:
        raise InputErrors(errors)
    graphs["road"].graph["place_name_en"] = dict(table.names_en)
    return Network(graphs=graphs, places=table.places, links=links, sources=sources)
